using System.Globalization;
using Microsoft.CodeAnalysis;
using Xunit;

namespace CnnGen.Generator.Tests
{
    // Issue 16's diagnostics (CNN0080–CNN0082: layer names, Keras activations and padding), in DiagnosticTests so
    // EveryDescriptorHasATestInThisFile sees them.
    public partial class DiagnosticTests
    {
        [Fact]
        public void CNN0081_UnknownActivationListsTheValidNames()
        {
            string src = Models.Model("    [Input(1, 6, 6)]\n    [Conv2d(1, 2, 3, Activation = \"gelu_new\")]");
            var r = GeneratorHarness.Run(src);
            AssertNoGeneratorFailure(r);
            var d = Assert.Single(r.Cnn);
            Assert.Equal("CNN0081", d.Id);
            Assert.Equal(LineOf(src, "gelu_new"), d.Location.GetLineSpan().StartLinePosition.Line);
            Assert.Equal("Activation = \"gelu_new\" is not an activation CnnGen compiles; use one of \"relu\", \"sigmoid\", \"tanh\", \"softmax\", " +
                "\"log_softmax\", \"elu\", \"leaky_relu\", \"relu6\", \"silu\", \"swish\", \"linear\"", d.GetMessage(CultureInfo.InvariantCulture));
        }

        [Fact]
        public void CNN0082_SamePaddingWithAStrideIsRejected()
        {
            string src = "using CnnGen;\nusing CnnGen.Keras;\nnamespace T\n{\n    [Model]\n    [Input(1, 8, 8)]\n    [Conv2D(2, 3, Strides = 2, Padding = \"same\")]\n    public partial class M { }\n}\n";
            var r = GeneratorHarness.Run(src);
            AssertNoGeneratorFailure(r);
            var d = Assert.Single(r.Cnn);
            Assert.Equal("CNN0082", d.Id);
            Assert.Equal(LineOf(src, "Strides = 2"), d.Location.GetLineSpan().StartLinePosition.Line);
        }

        [Theory]
        [InlineData("using CnnGen;", "[Dense(64)]", "Dense",
            "Dense is Keras' name: write [Linear(in, out)] or add `using CnnGen.Keras;` for [Dense(units)]", "Dense", "CnnGen.Keras")]
        [InlineData("using CnnGen;", "[Conv2D(32, 3)]", "Conv2D",
            "Conv2D is Keras' name: write [Conv2d(in, out, kernelSize)] or add `using CnnGen.Keras;` for [Conv2D(filters, kernelSize)]", "Conv2D", "CnnGen.Keras")]
        [InlineData("using CnnGen;", "[Convolution2D(32, 3)]", "Convolution2D",
            "Convolution2D is another Keras spelling of Conv2D: write [Conv2d], or [Conv2D(filters, kernelSize)] with `using CnnGen.Keras;`", "Conv2D", "CnnGen.Keras")]
        [InlineData("using CnnGen;", "[Maxpool2d(2)]", "Maxpool2d", "write [MaxPool2d]", "MaxPool2d", null)]
        [InlineData("using CnnGen;", "[Relu]", "Relu", "write [ReLU]", "ReLU", null)]
        [InlineData("using CnnGen;", "[Conv2dd(1, 2, 3)]", "Conv2dd", "write [Conv2d]", "Conv2d", null)]
        [InlineData("using CnnGen;", "[F.Relu]", "F.Relu", "write [F.ReLU]", "F.ReLU", null)]
        [InlineData("using CnnGen;", "[BatchNormalization]", "BatchNormalization", "BatchNormalization is Keras' name: write [BatchNorm2d]", "BatchNorm2d", null)]
        [InlineData("using CnnGen;\nusing CnnGen.Keras;", "[MaxPool2D(2)]", "MaxPool2D",
            "MaxPool2D is another Keras spelling of MaxPooling2D: write [MaxPool2d], or [MaxPooling2D(poolSize)] with `using CnnGen.Keras;`", "MaxPooling2D", "CnnGen.Keras")]
        public void CNN0080_AWrongSpellingNamesTheRightOne(string usings, string attribute, string written, string why, string suggestion, string? ns)
        {
            string src = usings + "\nnamespace T\n{\n    [Model]\n    [Input(1, 8, 8)]\n    " + attribute + "\n    public partial class M { }\n}\n";
            var r = GeneratorHarness.Run(src);
            AssertNoGeneratorFailure(r);
            var d = Assert.Single(r.Cnn);
            Assert.Equal("CNN0080", d.Id);
            Assert.Equal($"'{written}' is not a CnnGen layer: {why}", d.GetMessage(CultureInfo.InvariantCulture));
            Assert.Equal(LineOf(src, attribute), d.Location.GetLineSpan().StartLinePosition.Line);
            Assert.Equal(suggestion, d.Properties["Suggestion"]);
            Assert.Equal(ns, d.Properties.TryGetValue("Namespace", out var n) ? n : null);
            // The compiler's own error is still there; the model emits its members with bodies that throw.
            Assert.Contains(r.CompilationDiagnostics, c => c.Id is "CS0246" or "CS0426" && c.Severity == DiagnosticSeverity.Error);
        }

        [Fact]
        public void CNN0080_AnUnrelatedUnknownAttributeGetsNoCnnDiagnostic()
        {
            var r = GeneratorHarness.Run("using CnnGen;\nnamespace T\n{\n    [Model]\n    [Input(1, 8, 8)]\n    [Conv2d(1, 2, 3)]\n    [Xyzzy]\n    public partial class M { }\n}\n");
            AssertNoGeneratorFailure(r);
            Assert.Empty(r.Cnn);
        }

        [Fact]
        public void CNN0081_UnknownSqueezeExcitationActivation()
        {
            string bad = Models.Model("    [Input(8, 4, 4)]\n    [SqueezeExcitation(8, 2, ScaleActivation = \"hard_sigmoid\")]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0081", "[SqueezeExcitation(", null, true, "Activation = \"hard_sigmoid\" is not an activation CnnGen compiles");
            AssertClean(Models.Model("    [Input(8, 4, 4)]\n    [SqueezeExcitation(8, 2, Activation = \"silu\", ScaleActivation = \"sigmoid\")]"));
        }

        [Fact]
        public void CNN0083_FunctionalOpWithAName()
        {
            string bad = Models.Model("    [Input(1, 8, 8)]\n    [Conv2d(1, 2, 3)]\n    [F.ReLU(Name = \"relu1\")]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0083", "[F.ReLU(",
                "F.ReLU is a functional op: it is no module, has no keys and takes no Name; remove Name = \"relu1\", or use the module form [ReLU(Name = \"relu1\")]");
            AssertClean(Models.Model("    [Input(1, 8, 8)]\n    [Conv2d(1, 2, 3)]\n    [ReLU(Name = \"relu1\")]"));
        }

        [Fact]
        public void CNN0080_TheModelStillEmitsItsMembers()
        {
            string bad = "using CnnGen;\nnamespace T\n{\n    [Model]\n    [Input(1, 8, 8)]\n    [Flatten]\n    [Dense(10)]\n    public partial class M { }\n}\n";
            var r = RunMalformed(bad, true, "CS0246");
            AssertDiagnostic(r, bad, "CNN0080", "[Dense(10)]",
                "'Dense' is not a CnnGen layer: Dense is Keras' name: write [Linear(in, out)] or add `using CnnGen.Keras;` for [Dense(units)]");
            AssertClean(bad.Replace("using CnnGen;", "using CnnGen;\nusing CnnGen.Keras;"));
        }
    }
}

using Xunit;

namespace CnnGen.Generator.Tests
{
    // Issue 6's diagnostics (CNN0040–CNN0046), in DiagnosticTests so EveryDescriptorHasATestInThisFile sees them.
    public partial class DiagnosticTests
    {
        private const string ResidualBlocks = @"
    [Block]
    [Conv2d(16, 32, 3, Stride = 2, Padding = 1, Bias = false)]
    [BatchNorm2d(32)]
    public partial class Down { }
    [Block]
    [Conv2d(16, 32, 1, Stride = 2, Bias = false)]
    [BatchNorm2d(32)]
    public partial class Projection { }
";


        [Fact]
        public void CNN0040_BatchNormFeatureMismatch()
        {
            string bad = Models.Model("    [Input(3, 32, 32)]\n    [Conv2d(3, 16, 3)]\n    [BatchNorm2d(32)]\n    [ReLU]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0040", "[BatchNorm2d(32)]",
                "BatchNorm2d-2 expects 32 features (channels), but receives 16 (Conv2d-1 output [16, 30, 30])");
            AssertClean(Models.Model("    [Input(3, 32, 32)]\n    [Conv2d(3, 16, 3)]\n    [BatchNorm2d(16)]\n    [ReLU]"));
        }

        [Fact]
        public void CNN0041_AdaptiveOutputUnsupported()
        {
            string bad = Models.Model("    [Input(3, 32, 32)]\n    [Conv2d(3, 16, 3)]\n    [AdaptiveAvgPool2d(2)]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0041", "[AdaptiveAvgPool2d(2)]",
                "AdaptiveAvgPool2d-2: output size 2 is not supported; CnnGen compiles AdaptiveAvgPool2d(1) (global average pooling)");
            AssertClean(Models.Model("    [Input(3, 32, 32)]\n    [Conv2d(3, 16, 3)]\n    [AdaptiveAvgPool2d(1)]"));
        }

        [Theory]
        [InlineData("[BatchNorm2d(0)]", "BatchNorm2d-2: num features is 0, but must be at least 1")]
        [InlineData("[BatchNorm2d(16, Eps = 0)]", "BatchNorm2d-2: Eps is 0, but must be a positive finite number")]
        [InlineData("[BatchNorm2d(16, Eps = double.NaN)]", "BatchNorm2d-2: Eps is NaN, but must be a positive finite number")]
        [InlineData("[BatchNorm2d(16, Momentum = 1.5)]", "BatchNorm2d-2: Momentum is 1.5, but must be in [0, 1]")]
        [InlineData("[AdaptiveAvgPool2d(0)]", "AdaptiveAvgPool2d-2: output size is 0, but must be at least 1")]
        public void CNN0010_InvalidArgumentsOfTheNewLayers(string layer, string message)
        {
            string bad = Models.Model("    [Input(3, 32, 32)]\n    [Conv2d(3, 16, 3)]\n    " + layer);
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0010", layer, message);
        }

        [Theory]
        [InlineData("[BatchNorm2d(16)]", "BatchNorm2d-2")]
        [InlineData("[GlobalAvgPool2d]", "AdaptiveAvgPool2d-2")]
        [InlineData("[AdaptiveAvgPool2d(1)]", "AdaptiveAvgPool2d-2")]
        public void CNN0024_NewSpatialLayersAfterFlatten(string layer, string name)
        {
            string bad = Models.Model("    [Input(16, 1, 1)]\n    [Flatten]\n    [Linear(16, 16)]\n    " + layer);
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0024", layer, name + " needs a [C, H, W] input, but receives the flattened [16] (Linear-1 output [16])");
        }


        [Fact]
        public void CNN0042_ResidualShapeMismatchNamesBothShapesAndTheProjection()
        {
            string bad = Models.Model("    [Input(16, 8, 8)]\n    [Residual(typeof(Down), ReLU = true)]").Replace("namespace T\n{", "namespace T\n{" + ResidualBlocks);
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0042", "[Residual(typeof(Down), ReLU = true)]",
                "Residual '0': the residual branch gives [32, 4, 4] (BatchNorm2d-2 output [32, 4, 4]), but the shortcut gives [16, 8, 8] (the input [16, 8, 8]); " +
                "they must match to be added: give the residual a projection shortcut, e.g. Shortcut = typeof(...) on a [Block] with [Conv2d(16, 32, 1, Stride = 2, Bias = false)] and [BatchNorm2d(32)]");
            AssertClean(Models.Model("    [Input(16, 8, 8)]\n    [Residual(typeof(Down), Shortcut = typeof(Projection), ReLU = true)]").Replace("namespace T\n{", "namespace T\n{" + ResidualBlocks));
        }

        [Fact]
        public void CNN0043_SqueezeExcitationReduction()
        {
            string bad = Models.Model("    [Input(24, 8, 8)]\n    [SqueezeExcitation(24, 5)]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0043", "[SqueezeExcitation(24, 5)]", "SqueezeExcitation '0': reduction 5 must divide the channels (24)");
            AssertClean(Models.Model("    [Input(24, 8, 8)]\n    [SqueezeExcitation(24, 4)]"));
        }

        [Fact]
        public void CNN0044_NotABlock()
        {
            string bad = Models.Model("    [Input(16, 8, 8)]\n    [Sequential(typeof(string))]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0044", "[Sequential(typeof(string))]", "Sequential '0': 'string' is not a [Block] class; mark it [Block] and give it layer attributes");
        }

        [Fact]
        public void CNN0045_SelfContainingBlockIsADiagnosticNotAStackOverflow()
        {
            string cycle = @"
    [Block]
    [ReLU]
    [Residual(typeof(Loop))]
    public partial class Loop { }
";
            string bad = Models.Model("    [Input(16, 8, 8)]\n    [Sequential(typeof(Loop))]").Replace("namespace T\n{", "namespace T\n{" + cycle);
            var r = RunMalformed(bad);
            var d = Assert.Single(r.Cnn);
            Assert.Equal("CNN0045", d.Id);
            Assert.Equal("Residual '0.1': block 'Loop' would contain itself (Loop → Loop)", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        }

        [Fact]
        public void CNN0046_EmptyBlock()
        {
            string bad = Models.Model("    [Input(16, 8, 8)]\n    [Residual(typeof(Empty))]").Replace("namespace T\n{", "namespace T\n{\n    [Block]\n    public partial class Empty { }\n");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0046", "[Residual(typeof(Empty))]", "Residual '0': block 'Empty' declares no layers");
            AssertClean(Models.Model("    [Input(16, 8, 8)]\n    [Residual(typeof(Empty))]").Replace("namespace T\n{", "namespace T\n{\n    [Block]\n    [Identity]\n    public partial class Empty { }\n"));
        }
    }
}

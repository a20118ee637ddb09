using System;
using System.Linq;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Odd but legal C# spellings of a model declaration. Each must compile with no diagnostics and
    /// produce exactly the summary of the plain declaration <see cref="Reference"/>.
    /// </summary>
    public class DeclarationTests
    {
        // [1, 28, 28] → Conv2d(1, 8, 3, stride 2, padding 1): floor((28 + 2 − 2 − 1) / 2) + 1 = 14 → [8, 14, 14],
        // 8·1·3·3 + 8 = 80 params → ReLU → MaxPool2d(2): floor((14 − 1 − 1) / 2) + 1 = 7 → [8, 7, 7]
        // → Flatten: 8·7·7 = 392 → Linear(392, 10): 3,920 + 10 = 3,930 params. Total 4,010.
        private const string Reference = @"using CnnGen;
namespace T
{
    [Model]
    [Input(1, 28, 28)]
    [Conv2d(1, 8, 3, Stride = 2, Padding = 1)]
    [ReLU]
    [MaxPool2d(2)]
    [Flatten]
    [Linear(392, 10)]
    public partial class M { }
}
";

        private static readonly Lazy<(string Torch, string Keras)> ReferenceSummaries = new(() =>
        {
            var (torch, keras) = Summaries(Reference, "T.M");
            // Independent anchors, so the comparison isn't only generator-against-itself.
            Assert.Contains("            Conv2d-1            [-1, 8, 14, 14]              80\n", torch);
            Assert.Contains("         MaxPool2d-3              [-1, 8, 7, 7]               0\n", torch);
            Assert.Contains("            Linear-4                   [-1, 10]           3,930\n", torch);
            Assert.Contains("Total params: 4,010\n", torch);
            Assert.Contains(" flatten (Flatten)           (None, 392)               0         \n", keras);
            return (torch, keras);
        });

        private static (string Torch, string Keras) Summaries(string source, string type)
        {
            var r = DiagnosticTests.AssertClean(source);
            var asm = GeneratorHarness.Load(r);
            string torch = (string)GeneratorHarness.CallStatic(asm, type, "Summary", -1)!;
            string keras = (string)GeneratorHarness.CallStatic(asm, type, "KerasSummary")!;
            Assert.Equal(784, GeneratorHarness.Const(asm, type, "InputSize"));
            Assert.Equal(10, GeneratorHarness.Const(asm, type, "OutputSize"));
            Assert.Equal(4010, GeneratorHarness.Const(asm, type, "ParameterCount"));
            return (torch, keras);
        }

        private static void AssertLikeReference(string source, string type)
        {
            var expected = ReferenceSummaries.Value;
            var actual = Summaries(source, type);
            Assert.Equal(expected.Torch, actual.Torch);
            Assert.Equal(expected.Keras, actual.Keras);
        }

        [Fact]
        public void PlainReference() => AssertLikeReference(Reference, "T.M");

        [Fact]
        public void GlobalNamespace() => AssertLikeReference(@"using CnnGen;

[Model]
[Input(1, 28, 28)]
[Conv2d(1, 8, 3, Stride = 2, Padding = 1)]
[ReLU]
[MaxPool2d(2)]
[Flatten]
[Linear(392, 10)]
public partial class GlobalModel { }
", "GlobalModel");

        [Fact]
        public void NestedInPartialClass() => AssertLikeReference(@"using CnnGen;
namespace T
{
    public partial class Outer
    {
        [Model]
        [Input(1, 28, 28)]
        [Conv2d(1, 8, 3, Stride = 2, Padding = 1)]
        [ReLU]
        [MaxPool2d(2)]
        [Flatten]
        [Linear(392, 10)]
        public partial class M { }
    }
}
", "T.Outer+M");

        [Fact]
        public void NestedTwoLevels_InStaticClassAndRecordStruct() => AssertLikeReference(@"using CnnGen;
namespace T
{
    internal static partial class Outer
    {
        public partial record struct Middle(int X)
        {
            [Model]
            [Input(1, 28, 28)]
            [Conv2d(1, 8, 3, Stride = 2, Padding = 1)]
            [ReLU]
            [MaxPool2d(2)]
            [Flatten]
            [Linear(392, 10)]
            public sealed partial class M { }
        }
    }
}
", "T.Outer+Middle+M");

        [Theory]
        [InlineData("public ref partial struct Outer")]
        [InlineData("public readonly partial struct Outer")]
        [InlineData("public partial interface Outer")]
        [InlineData("unsafe partial class Outer")]
        [InlineData("public abstract partial record Outer")]
        public void NestedInOtherPartialTypeKinds(string outer) => AssertLikeReference(@"using CnnGen;
namespace T
{
    " + outer + @"
    {
        [Model]
        [Input(1, 28, 28)]
        [Conv2d(1, 8, 3, Stride = 2, Padding = 1)]
        [ReLU]
        [MaxPool2d(2)]
        [Flatten]
        [Linear(392, 10)]
        public partial class M { }
    }
}
", "T.Outer+M");

        [Fact]
        public void PartialRecord() => AssertLikeReference(@"using CnnGen;
namespace T
{
    [Model]
    [Input(1, 28, 28)]
    [Conv2d(1, 8, 3, Stride = 2, Padding = 1)]
    [ReLU]
    [MaxPool2d(2)]
    [Flatten]
    [Linear(392, 10)]
    public partial record M
    {
        public int Extra { get; init; }
    }
}
", "T.M");

        [Fact]
        public void SeveralAttributesPerList() => AssertLikeReference(@"using CnnGen;
namespace T
{
    [Model, Input(1, 28, 28)]
    [Conv2d(1, 8, 3, Stride = 2, Padding = 1), ReLU]
    [MaxPool2d(2), Flatten, Linear(392, 10)]
    public partial class M { }
}
", "T.M");

        [Fact]
        public void AllAttributesOnOneLine() => AssertLikeReference(@"using CnnGen;
namespace T
{
    [Model][Input(1, 28, 28)][Conv2d(1, 8, 3, Stride = 2, Padding = 1)][ReLU][MaxPool2d(2)][Flatten][Linear(392, 10)] public partial class M { }
}
", "T.M");

        [Fact]
        public void FullyQualifiedNames_NoUsing() => AssertLikeReference(@"namespace T
{
    [CnnGen.Model]
    [global::CnnGen.Input(1, 28, 28)]
    [CnnGen.Conv2d(1, 8, 3, Stride = 2, Padding = 1)]
    [global::CnnGen.ReLUAttribute]
    [CnnGen.MaxPool2d(2)]
    [CnnGen.Flatten]
    [global::CnnGen.LinearAttribute(392, 10)]
    public partial class M { }
}
", "T.M");

        [Fact]
        public void AttributeSuffixSpelledOut() => AssertLikeReference(@"using CnnGen;
namespace T
{
    [ModelAttribute]
    [InputAttribute(1, 28, 28)]
    [Conv2dAttribute(1, 8, 3, Stride = 2, Padding = 1)]
    [ReLUAttribute]
    [MaxPool2dAttribute(2)]
    [FlattenAttribute]
    [LinearAttribute(392, 10)]
    public partial class M { }
}
", "T.M");

        [Fact]
        public void UsingAliases() => AssertLikeReference(@"using Net = CnnGen.ModelAttribute;
using Shape = CnnGen.InputAttribute;
using Conv = CnnGen.Conv2dAttribute;
using CnnGen;
namespace T
{
    [Net]
    [Shape(1, 28, 28)]
    [Conv(1, 8, 3, Stride = 2, Padding = 1)]
    [ReLU]
    [MaxPool2d(2)]
    [Flatten]
    [Linear(392, 10)]
    public partial class M { }
}
", "T.M");

        [Fact]
        public void TypeTargetSpecifier() => AssertLikeReference(@"using CnnGen;
namespace T
{
    [type: Model]
    [type: Input(1, 28, 28)]
    [type: Conv2d(1, 8, 3, Stride = 2, Padding = 1), ReLU]
    [type: MaxPool2d(2)]
    [Flatten]
    [type: Linear(392, 10)]
    public partial class M { }
}
", "T.M");

        [Fact]
        public void FileScopedNamespace() => AssertLikeReference(@"using CnnGen;
namespace T;

[Model]
[Input(1, 28, 28)]
[Conv2d(1, 8, 3, Stride = 2, Padding = 1)]
[ReLU]
[MaxPool2d(2)]
[Flatten]
[Linear(392, 10)]
public partial class M { }
", "T.M");

        [Fact]
        public void ConstantExpressionsInArguments() => AssertLikeReference(@"using CnnGen;
namespace T
{
    internal static class Sizes
    {
        public const int Channels = 8;
        public const int Pooled = (28 / 2) / 2;
    }

    [Model]
    [Input(Sizes.Channels / 8, 4 * 7, 0x1C)]
    [Conv2d(1, Sizes.Channels, 1 + 2, Stride = sizeof(short), Padding = Sizes.Channels - 7)]
    [ReLU]
    [MaxPool2d((int)2.9)]
    [Flatten]
    [Linear(Features, Classes)]
    public partial class M
    {
        private const int Features = Sizes.Channels * Sizes.Pooled * Sizes.Pooled;
        private const int Classes = 10;
    }
}
", "T.M");

        [Fact]
        public void KeywordsAsNames() => AssertLikeReference(@"using CnnGen;
namespace @class
{
    public partial class @struct
    {
        [Model]
        [Input(1, 28, 28)]
        [Conv2d(1, 8, 3, Stride = 2, Padding = 1)]
        [ReLU]
        [MaxPool2d(2)]
        [Flatten]
        [Linear(392, 10)]
        public partial class @event { }
    }
}
", "class.struct+event");

        [Fact]
        public void NamedArgumentsInAnyOrder() => AssertLikeReference(@"using CnnGen;
namespace T
{
    [Model]
    [Input(height: 28, width: 28, channels: 1)]
    [Conv2d(kernelSize: 3, outChannels: 8, inChannels: 1, Padding = 1, Stride = 2)]
    [ReLU]
    [MaxPool2d(kernelSize: 2)]
    [Flatten]
    [Linear(outFeatures: 10, inFeatures: 392)]
    public partial class M { }
}
", "T.M");

        [Fact]
        public void NamedPropertiesInEitherOrderGiveTheSameModel()
        {
            string a = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3, Padding = 1, Stride = 2, Bias = false, Dilation = 1)]");
            string b = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3, Dilation = 1, Bias = false, Stride = 2, Padding = 1)]");
            var sa = Summaries2(a);
            Assert.Equal(sa, Summaries2(b));
            // no bias: 8·1·3·3 = 72
            Assert.Contains("            Conv2d-1            [-1, 8, 14, 14]              72\n", sa);

            static string Summaries2(string src) =>
                (string)GeneratorHarness.CallStatic(GeneratorHarness.Load(DiagnosticTests.AssertClean(src)), "T.M", "Summary", -1)!;
        }

        [Fact]
        public void OtherMembersBaseTypesDocsAndRegions() => AssertLikeReference(@"using System;
using CnnGen;
namespace T
{
    public abstract class Base { public virtual string Name => ""base""; }
    public interface IThing { int Count { get; } }

    /// <summary>A model with company.</summary>
    [Serializable]
    [Model]
    #region layers
    [Input(1, 28, 28)]
    [Conv2d(1, 8, 3, Stride = 2, Padding = 1)] // first
    /* an activation */ [ReLU]
    [MaxPool2d(2)]
    #endregion
    [Flatten]
    [Linear(392, 10)]
    [Obsolete(""kept for the test"", false)]
    internal sealed partial class M : Base, IThing
    {
        public int Count => ParameterCount;
        public override string Name => nameof(M);
    }
}
", "T.M");

        [Fact]
        public void LayersOnTheModelDeclaration_OtherPartsElsewhere()
        {
            string other = "namespace T { partial class M { public static string Describe() => Summary(); } }\n";
            var r = DiagnosticTests.AssertClean(Reference, other);
            var asm = GeneratorHarness.Load(r);
            Assert.Equal(ReferenceSummaries.Value.Torch, GeneratorHarness.CallStatic(asm, "T.M", "Describe"));
        }

        [Fact]
        public void TwoModelsWithTheSameNameInDifferentNamespaces()
        {
            string second = Reference.Replace("namespace T", "namespace U").Replace("[Linear(392, 10)]", "[Linear(392, 3)]");
            var r = DiagnosticTests.AssertClean(Reference, second);
            Assert.Equal(2, r.Run.Results.Single().GeneratedSources.Length);
            var asm = GeneratorHarness.Load(r);
            Assert.Equal(10, GeneratorHarness.Const(asm, "T.M", "OutputSize"));
            Assert.Equal(3, GeneratorHarness.Const(asm, "U.M", "OutputSize"));
        }

        [Fact]
        public void HintNamesDifferForNamesThatDifferOnlyInCase()
        {
            static CnnGen.Generator.Parsing.ModelSpec Spec(string? ns, string cls) => new(ns, cls, "class",
                CnnGen.Generator.Parsing.EquatableArray<CnnGen.Generator.Parsing.ContainingTypeSpec>.Empty, null,
                CnnGen.Generator.Parsing.EquatableArray<CnnGen.Generator.Parsing.LayerSpec>.Empty,
                CnnGen.Generator.Parsing.EquatableArray<CnnGen.Generator.Parsing.DiagnosticInfo>.Empty, null);
            var names = new[] { Spec("T", "M"), Spec("T", "m"), Spec("t", "M"), Spec("t", "m"), Spec(null, "M"), Spec("T", "@event") }
                .Select(x => x.HintName).ToList();
            Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
            Assert.All(names, n => Assert.EndsWith(".g.cs", n, StringComparison.Ordinal));
            Assert.All(names, n => Assert.DoesNotContain("@", n, StringComparison.Ordinal));
            Assert.StartsWith("T.M.", names[0], StringComparison.Ordinal);
        }

        [Fact]
        public void TwoModelsWhoseNamesDifferOnlyInCase()
        {
            // Roslyn compares hint names ignoring case: "T.M.g.cs" and "T.m.g.cs" collide and crash the generator
            // unless the hint name tells them apart (ModelSpec.HintName; ModelGenerator must use it).
            string body = Reference.Replace("using CnnGen;", "");
            string src = Reference + body.Replace("class M", "class m").Replace("[Linear(392, 10)]", "[Linear(392, 3)]")
                + body.Replace("namespace T", "namespace t").Replace("[Linear(392, 10)]", "[Linear(392, 5)]");
            var r = DiagnosticTests.AssertClean(src);
            Assert.Equal(3, r.Run.Results.Single().GeneratedSources.Length);
            var asm = GeneratorHarness.Load(r);
            Assert.Equal(10, GeneratorHarness.Const(asm, "T.M", "OutputSize"));
            Assert.Equal(3, GeneratorHarness.Const(asm, "T.m", "OutputSize"));
            Assert.Equal(5, GeneratorHarness.Const(asm, "t.M", "OutputSize"));
        }

        [Fact]
        public void DefaultArgumentsAndOptionalLayers()
        {
            // LeakyReLU(), Dropout() and ELU() take PyTorch's defaults; Name only renames the safetensors key.
            string src = Models.Model("    [Input(1, 28, 28)]\n    [LeakyReLU]\n    [ELU]\n    [Dropout]\n    [Dropout2d]\n    [Sigmoid]\n    [Tanh]\n    [Conv2d(1, 2, 3, Name = \"features.0\")]\n    [Flatten]\n    [Linear(2 * 26 * 26, 10, Bias = false, Name = \"head\")]\n    [LogSoftmax]\n    [Softmax]");
            var r = DiagnosticTests.AssertClean(src);
            string summary = (string)GeneratorHarness.CallStatic(GeneratorHarness.Load(r), "T.M", "Summary", -1)!;
            // Conv2d-7: 2·1·3·3 + 2 = 20; Linear-8: 1352·10 = 13,520 (no bias)
            Assert.Contains("            Conv2d-7            [-1, 2, 26, 26]              20\n", summary);
            Assert.Contains("            Linear-8                   [-1, 10]          13,520\n", summary);
            Assert.Contains("        LogSoftmax-9                   [-1, 10]               0\n", summary);
            Assert.Contains("          Softmax-10                   [-1, 10]               0\n", summary);
            Assert.Contains("Total params: 13,540\n", summary);
        }
    }
}

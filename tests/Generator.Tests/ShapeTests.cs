using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Shape inference against PyTorch's formula, out = floor((in + 2p − d(k − 1) − 1) / s) + 1, with the
    /// arithmetic done by hand in a comment beside each expectation; parameter counts against
    /// out·(in / groups)·kh·kw + out; and the summaries against torchsummary and tf.keras 2.x.
    /// </summary>
    public class ShapeTests
    {
        // ---- helpers ------------------------------------------------------------------------------------

        /// <summary>The Infer step's output for a model made of <paramref name="attributes"/> (parser + inference).</summary>
        private static ShapedModel Shaped(string attributes)
        {
            var r = GeneratorHarness.Run(Models.Model(attributes));
            var step = Assert.Single(r.Run.Results.Single().TrackedSteps[ModelGenerator.Steps.Infer]);
            var model = Assert.IsType<ShapedModel>(Assert.Single(step.Outputs).Value);
            Assert.True(model.Ok, "model has errors: " + string.Join("; ", r.Cnn));
            Assert.Empty(r.Cnn);
            return model;
        }

        private static ShapedLayer Layer(ShapedModel m, string summaryName) => Assert.Single(m.Layers, l => l.SummaryName == summaryName);

        private static Shape S(int c, int h, int w) => Shape.Spatial(c, h, w);

        // ---- the formula itself ---------------------------------------------------------------------------

        [Theory]
        // in, kernel, stride, padding, dilation, expected
        [InlineData(28, 3, 1, 0, 1, 26)]   // (28 + 0 − 1·2 − 1) / 1 + 1 = 25 + 1 = 26
        [InlineData(28, 3, 1, 1, 1, 28)]   // (28 + 2 − 2 − 1) / 1 + 1 = 27 + 1 = 28 ("same")
        [InlineData(28, 3, 1, 0, 2, 24)]   // (28 − 2·2 − 1) / 1 + 1 = 23 + 1 = 24
        [InlineData(28, 3, 2, 0, 1, 13)]   // floor((28 − 2 − 1) / 2) + 1 = floor(12.5) + 1 = 13
        [InlineData(28, 2, 2, 1, 1, 15)]   // floor((28 + 2 − 1 − 1) / 2) + 1 = 14 + 1 = 15
        [InlineData(26, 2, 2, 1, 1, 14)]   // floor((26 + 2 − 1 − 1) / 2) + 1 = 13 + 1 = 14 (DESIGN.md MaxPool2d-3)
        [InlineData(12, 2, 2, 1, 1, 7)]    // floor((12 + 2 − 1 − 1) / 2) + 1 = 6 + 1 = 7 (DESIGN.md MaxPool2d-6)
        [InlineData(7, 7, 1, 0, 1, 1)]     // (7 − 6 − 1) / 1 + 1 = 0 + 1 = 1
        [InlineData(3, 2, 2, 0, 1, 1)]     // floor((3 − 1 − 1) / 2) + 1 = floor(0.5) + 1 = 1
        [InlineData(224, 7, 2, 3, 1, 112)] // floor((224 + 6 − 6 − 1) / 2) + 1 = floor(111.5) + 1 = 112 (ResNet stem)
        [InlineData(112, 3, 2, 1, 1, 56)]  // floor((112 + 2 − 2 − 1) / 2) + 1 = floor(55.5) + 1 = 56
        [InlineData(10, 3, 3, 0, 3, 2)]    // floor((10 − 3·2 − 1) / 3) + 1 = 1 + 1 = 2
        [InlineData(4, 7, 1, 0, 1, -2)]    // (4 − 6 − 1) / 1 + 1 = −3 + 1 = −2
        [InlineData(2, 3, 2, 0, 1, 0)]     // floor((2 − 2 − 1) / 2) + 1 = floor(−0.5) + 1 = −1 + 1 = 0 (truncation would say 1)
        [InlineData(2, 5, 2, 0, 1, -1)]    // floor((2 − 4 − 1) / 2) + 1 = floor(−1.5) + 1 = −2 + 1 = −1
        [InlineData(1, 2, 2, 0, 1, 0)]     // floor((1 − 1 − 1) / 2) + 1 = floor(−0.5) + 1 = 0
        public void OutputSizeFollowsPyTorch(int input, int kernel, int stride, int padding, int dilation, int expected)
        {
            Assert.Equal(expected, ShapeRules.OutputSize(input, kernel, stride, padding, dilation));
        }

        [Fact]
        public void OutputSizeDoesNotWrapAround()
        {
            // dilation·(k − 1) = 3,000,000,000 doesn't fit an int: 28 − 3,000,000,000 − 1 is far below zero.
            Assert.True(ShapeRules.OutputSize(28, 3, 1, 0, 1_500_000_000) < 1);
            // 28 + 2·1,500,000,000 − 2 − 1 = 3,000,000,025 → more than int.MaxValue: clamped, never negative.
            Assert.Equal(int.MaxValue, ShapeRules.OutputSize(28, 3, 1, 1_500_000_000, 1));
        }

        // ---- through the generator (parser + inference) ------------------------------------------------

        [Fact]
        public void Dilation2()
        {
            var m = Shaped("    [Input(1, 28, 28)]\n    [Conv2d(1, 4, 3, Dilation = 2)]");
            var l = Layer(m, "Conv2d-1");
            // (28 + 0 − 2·(3 − 1) − 1) / 1 + 1 = 23 + 1 = 24
            Assert.Equal(S(4, 24, 24), l.Out);
            // 4·1·3·3 + 4 = 40
            Assert.Equal(40, l.ParamCount);
        }

        [Fact]
        public void RectangularDilation()
        {
            var l = Layer(Shaped("    [Input(1, 20, 20)]\n    [Conv2d(1, 1, 3, DilationHeight = 3, DilationWidth = 1)]"), "Conv2d-1");
            // H: 20 − 3·2 − 1 = 13 → 14;  W: 20 − 1·2 − 1 = 17 → 18
            Assert.Equal(S(1, 14, 18), l.Out);
        }

        [Fact]
        public void Stride2By1()
        {
            var m = Shaped("    [Input(1, 28, 28)]\n    [Conv2d(1, 4, 3, StrideHeight = 2, StrideWidth = 1)]");
            var l = Layer(m, "Conv2d-1");
            Assert.Equal(2, l.Spec.StrideH);
            Assert.Equal(1, l.Spec.StrideW);
            // H: floor((28 − 2 − 1) / 2) + 1 = floor(12.5) + 1 = 13;  W: (28 − 2 − 1) / 1 + 1 = 26
            Assert.Equal(S(4, 13, 26), l.Out);

            // Stride sets both; StrideWidth overrides the width only: same result.
            Assert.Equal(S(4, 13, 26), Layer(Shaped("    [Input(1, 28, 28)]\n    [Conv2d(1, 4, 3, StrideWidth = 1, Stride = 2)]"), "Conv2d-1").Out);
        }

        [Fact]
        public void PoolingPadding()
        {
            var m = Shaped("    [Input(3, 28, 28)]\n    [MaxPool2d(3, Stride = 2, Padding = 1)]\n    [AvgPool2d(2, Padding = 1)]");
            // MaxPool: floor((28 + 2 − 2 − 1) / 2) + 1 = floor(13.5) + 1 = 14
            Assert.Equal(S(3, 14, 14), Layer(m, "MaxPool2d-1").Out);
            // AvgPool, stride = kernel = 2: floor((14 + 2 − 1 − 1) / 2) + 1 = 7 + 1 = 8
            Assert.Equal(S(3, 8, 8), Layer(m, "AvgPool2d-2").Out);
            Assert.Equal(0, m.ParameterCount);
        }

        [Fact]
        public void Groups()
        {
            var l = Layer(Shaped("    [Input(8, 10, 10)]\n    [Conv2d(8, 16, 3, Groups = 4)]"), "Conv2d-1");
            // (10 − 2 − 1) + 1 = 8
            Assert.Equal(S(16, 8, 8), l.Out);
            // out·(in / groups)·kh·kw + out = 16·(8 / 4)·3·3 + 16 = 288 + 16 = 304
            Assert.Equal(288, l.WeightCount);
            Assert.Equal(16, l.BiasCount);
            Assert.Equal(304, l.ParamCount);
            Assert.Equal(new[] { 16, 2, 3, 3 }, l.WeightShape);
        }

        [Fact]
        public void Depthwise()
        {
            var m = Shaped("    [Input(8, 10, 10)]\n    [Conv2d(8, 8, 3, Groups = 8, Padding = 1)]\n    [Conv2d(8, 16, 3, Groups = 8)]\n    [Conv2d(16, 4, 1)]");
            // depthwise, "same": (10 + 2 − 2 − 1) + 1 = 10; params 8·(8 / 8)·3·3 + 8 = 72 + 8 = 80
            Assert.Equal(S(8, 10, 10), Layer(m, "Conv2d-1").Out);
            Assert.Equal(80, Layer(m, "Conv2d-1").ParamCount);
            // depth multiplier 2: (10 − 2 − 1) + 1 = 8; params 16·(8 / 8)·3·3 + 16 = 144 + 16 = 160
            Assert.Equal(S(16, 8, 8), Layer(m, "Conv2d-2").Out);
            Assert.Equal(160, Layer(m, "Conv2d-2").ParamCount);
            // pointwise: 4·16·1·1 + 4 = 68; shape unchanged spatially
            Assert.Equal(S(4, 8, 8), Layer(m, "Conv2d-3").Out);
            Assert.Equal(68, Layer(m, "Conv2d-3").ParamCount);
            // offsets into the flat parameter array: 0, 80, 240
            Assert.Equal(new[] { 0, 80, 240 }, m.Layers.Select(l => l.ParamOffset).ToArray());
            Assert.Equal(80 + 160 + 68, m.ParameterCount);
        }

        [Fact]
        public void RectangularKernels()
        {
            var m = Shaped("    [Input(3, 32, 20)]\n    [Conv2d(3, 6, 1, KernelHeight = 5, KernelWidth = 3)]\n    [Conv2d(6, 2, 5, KernelWidth = 1)]");
            var a = Layer(m, "Conv2d-1");
            // H: (32 − 4 − 1) + 1 = 28;  W: (20 − 2 − 1) + 1 = 18
            Assert.Equal(S(6, 28, 18), a.Out);
            // 6·3·5·3 + 6 = 270 + 6 = 276
            Assert.Equal(276, a.ParamCount);
            Assert.Equal(new[] { 6, 3, 5, 3 }, a.WeightShape);
            var b = Layer(m, "Conv2d-2");
            // kernel 5×1: H (28 − 4 − 1) + 1 = 24;  W (18 − 0 − 1) + 1 = 18;  2·6·5·1 + 2 = 62
            Assert.Equal(S(2, 24, 18), b.Out);
            Assert.Equal(62, b.ParamCount);
        }

        [Fact]
        public void RectangularPoolWindowDefaultsStridePerDimension()
        {
            var l = Layer(Shaped("    [Input(4, 8, 8)]\n    [MaxPool2d(2, KernelWidth = 1)]"), "MaxPool2d-1");
            // PyTorch MaxPool2d((2, 1)) has stride (2, 1): H floor((8 − 1 − 1) / 2) + 1 = 4;  W (8 − 0 − 1) / 1 + 1 = 8
            Assert.Equal((2, 1), (l.Spec.StrideH, l.Spec.StrideW));
            Assert.Equal(S(4, 4, 8), l.Out);
        }

        [Fact]
        public void OneByOneOutputs()
        {
            var m = Shaped("    [Input(16, 7, 7)]\n    [Conv2d(16, 10, 7)]\n    [MaxPool2d(1)]\n    [Flatten]\n    [Linear(10, 2)]");
            // (7 − 6 − 1) / 1 + 1 = 1
            Assert.Equal(S(10, 1, 1), Layer(m, "Conv2d-1").Out);
            // 10·16·7·7 + 10 = 7,850
            Assert.Equal(7850, Layer(m, "Conv2d-1").ParamCount);
            // (1 − 0 − 1) / 1 + 1 = 1
            Assert.Equal(S(10, 1, 1), Layer(m, "MaxPool2d-2").Out);
            Assert.Equal(Shape.Features(10), Assert.Single(m.Layers, l => l.Spec.Kind == LayerKind.Flatten).Out);

            var pool = Shaped("    [Input(3, 3, 3)]\n    [MaxPool2d(2)]\n    [AvgPool2d(1)]");
            // floor((3 − 1 − 1) / 2) + 1 = floor(0.5) + 1 = 1
            Assert.Equal(S(3, 1, 1), Layer(pool, "MaxPool2d-1").Out);
            Assert.Equal(S(3, 1, 1), pool.Output);
        }

        [Fact]
        public void BiasOff()
        {
            var m = Shaped("    [Input(1, 28, 28)]\n    [Conv2d(1, 16, 3, Bias = false)]\n    [Flatten]\n    [Linear(16 * 26 * 26, 10, Bias = false)]\n    [Linear(10, 10, Bias = true)]");
            // 16·1·3·3 = 144, no bias
            Assert.Equal((144, 0), (Layer(m, "Conv2d-1").WeightCount, Layer(m, "Conv2d-1").BiasCount));
            // 10·10,816 = 108,160, no bias
            Assert.Equal((108160, 0), (Layer(m, "Linear-2").WeightCount, Layer(m, "Linear-2").BiasCount));
            // 10·10 + 10 = 110
            Assert.Equal(110, Layer(m, "Linear-3").ParamCount);
            Assert.Equal(144 + 108160 + 110, m.ParameterCount);
        }

        [Fact]
        public void MaxPoolDefaultStrideIsTheKernel()
        {
            var l = Layer(Shaped("    [Input(1, 28, 28)]\n    [MaxPool2d(3)]"), "MaxPool2d-1");
            Assert.Equal((3, 3), (l.Spec.StrideH, l.Spec.StrideW));
            // floor((28 − 2 − 1) / 3) + 1 = floor(8.33) + 1 = 9   (stride 1 would give 26)
            Assert.Equal(S(1, 9, 9), l.Out);

            // StrideHeight alone: the width keeps the kernel-size default. H (28 − 2 − 1) / 1 + 1 = 26, W 9
            var r = Layer(Shaped("    [Input(1, 28, 28)]\n    [MaxPool2d(3, StrideHeight = 1)]"), "MaxPool2d-1");
            Assert.Equal(S(1, 26, 9), r.Out);
        }

        [Fact]
        public void MaxPoolDilation()
        {
            var l = Layer(Shaped("    [Input(2, 10, 10)]\n    [MaxPool2d(3, Stride = 1, Dilation = 2)]"), "MaxPool2d-1");
            // (10 − 2·2 − 1) / 1 + 1 = 5 + 1 = 6
            Assert.Equal(S(2, 6, 6), l.Out);
        }

        [Fact]
        public void AvgPool()
        {
            var m = Shaped("    [Input(3, 32, 32)]\n    [AvgPool2d(2)]\n    [AvgPool2d(3, Stride = 2, Padding = 1)]\n    [AvgPool2d(5)]");
            // floor((32 − 1 − 1) / 2) + 1 = 16
            Assert.Equal(S(3, 16, 16), Layer(m, "AvgPool2d-1").Out);
            // floor((16 + 2 − 2 − 1) / 2) + 1 = floor(7.5) + 1 = 8
            Assert.Equal(S(3, 8, 8), Layer(m, "AvgPool2d-2").Out);
            // floor((8 − 4 − 1) / 5) + 1 = 0 + 1 = 1
            Assert.Equal(S(3, 1, 1), Layer(m, "AvgPool2d-3").Out);
        }

        [Fact]
        public void OddSizesWithStride()
        {
            var m = Shaped("    [Input(1, 7, 8)]\n    [Conv2d(1, 1, 3, Stride = 2)]");
            // H: floor((7 − 2 − 1) / 2) + 1 = 2 + 1 = 3;  W: floor((8 − 2 − 1) / 2) + 1 = floor(2.5) + 1 = 3
            Assert.Equal(S(1, 3, 3), m.Output);
        }

        [Fact]
        public void DesignModelShapesAndOffsets()
        {
            var r = GeneratorHarness.Run(Models.Mnist);
            var m = (ShapedModel)r.Run.Results.Single().TrackedSteps[ModelGenerator.Steps.Infer].Single().Outputs.Single().Value;
            Assert.True(m.Ok);
            var expected = new (string Name, Shape Out, int Params, string Key)[]
            {
                ("Conv2d-1", S(16, 26, 26), 160, "0"),      // 28 − 2 = 26; 16·1·9 + 16 = 160
                ("ReLU-2", S(16, 26, 26), 0, "1"),
                ("MaxPool2d-3", S(16, 14, 14), 0, "2"),    // floor((26 + 2 − 1 − 1) / 2) + 1 = 14
                ("Conv2d-4", S(32, 12, 12), 4640, "3"),    // 14 − 2 = 12; 32·16·9 + 32 = 4,640
                ("ReLU-5", S(32, 12, 12), 0, "4"),
                ("MaxPool2d-6", S(32, 7, 7), 0, "5"),      // floor((12 + 2 − 1 − 1) / 2) + 1 = 7
                ("Flatten", Shape.Features(1568), 0, "6"), // 32·7·7 = 1,568
                ("Linear-7", Shape.Features(32), 50208, "7"), // 32·1,568 + 32 = 50,208
                ("ReLU-8", Shape.Features(32), 0, "8"),
                ("Dropout-9", Shape.Features(32), 0, "9"),
                ("Linear-10", Shape.Features(10), 330, "10"), // 10·32 + 10 = 330
            };
            Assert.Equal(expected, m.Layers.Select(l => (l.SummaryName, l.Out, l.ParamCount, l.KeyPrefix)).ToArray());
            // Parameter offsets: 0, then after 160, then 160 + 4,640 = 4,800, then 4,800 + 50,208 = 55,008.
            Assert.Equal(0, Layer(m, "Conv2d-1").ParamOffset);
            Assert.Equal(160, Layer(m, "Conv2d-4").ParamOffset);
            Assert.Equal(4800, Layer(m, "Linear-7").ParamOffset);
            Assert.Equal(55008, Layer(m, "Linear-10").ParamOffset);
            Assert.Equal(55338, m.ParameterCount);
            Assert.Equal(S(1, 28, 28), m.Input);
            Assert.Equal(Shape.Features(10), m.Output);
        }

        [Fact]
        public void KerasNamesCountPerKind()
        {
            var m = Shaped("    [Input(1, 28, 28)]\n    [Conv2d(1, 2, 3)]\n    [ReLU]\n    [Conv2d(2, 2, 3)]\n    [ReLU]\n    [Sigmoid]\n    [Tanh]\n    [Flatten]\n    [Dropout(0.1)]\n    [Linear(2 * 24 * 24, 4)]\n    [Dropout(0.1)]\n    [Linear(4, 2)]");
            Assert.Equal(
                new[] { "conv2d", "re_lu", "conv2d_1", "re_lu_1", "activation", "activation_1", "flatten", "dropout", "dense", "dropout_1", "dense_1" },
                m.Layers.Select(l => l.KerasName).ToArray());
        }

        [Fact]
        public void ShapeInferenceIsAPureFunctionOfTheSpec()
        {
            // Built by hand, no Roslyn: Conv2d(3, 4, 3, stride 2) on [3, 9, 9] → floor((9 − 2 − 1) / 2) + 1 = 4.
            var conv = new LayerSpec(LayerKind.Conv2d, 0, null) { In = 3, Out = 4, KernelH = 3, KernelW = 3, StrideH = 2, StrideW = 2 };
            var flat = new LayerSpec(LayerKind.Flatten, 1, null);
            var linear = new LayerSpec(LayerKind.Linear, 2, null) { In = 64, Out = 5, Name = "head" };
            var spec = new ModelSpec("N", "M", "class", EquatableArray<ContainingTypeSpec>.Empty, new InputSpec(3, 9, 9, null),
                new EquatableArray<LayerSpec>(new[] { conv, flat, linear }), EquatableArray<DiagnosticInfo>.Empty, null);
            var a = ShapeInference.Infer(spec);
            var b = ShapeInference.Infer(spec);
            Assert.Equal(a, b); // structural equality: what makes the incremental cache work
            Assert.True(a.Ok);
            Assert.Equal(S(4, 4, 4), a.Layers[0].Out);
            Assert.Equal(Shape.Features(64), a.Layers[1].Out); // 4·4·4
            Assert.Equal(Shape.Features(5), a.Output);
            Assert.Equal("head", a.Layers[2].KeyPrefix);
            // 4·3·3·3 + 4 = 112; 5·64 + 5 = 325
            Assert.Equal(112 + 325, a.ParameterCount);

            // Same spec with a wrong Linear: an error, and Ok is false.
            var bad = ShapeInference.Infer(spec with { Layers = new EquatableArray<LayerSpec>(new[] { conv, flat, linear with { In = 63 } }) });
            Assert.False(bad.Ok);
            var d = Assert.Single(bad.Diagnostics);
            Assert.Equal("CNN0021", d.Id);
            Assert.Equal(new[] { "Linear-2", "63", "64", "Conv2d-1 output [4, 4, 4], flattened" }, d.Args.ToArray());
        }

        [Theory]
        // 1·40,000·40,000 = 1,600,000,000 floats: a valid input, but input + ReLU output = 3,200,000,000 activations
        [InlineData("    [Input(1, 40000, 40000)]\n    [ReLU]", 0L)]
        // one sample's im2col matrix for this conv: 256·3·3 rows × 1,000·1,000 columns = 2,304,000,000 floats
        [InlineData("    [Input(256, 1000, 1000)]\n    [Conv2d(256, 1, 3, Padding = 1)]", 2304000000L)]
        public void LargeValidModels_GeneratedSizeConstantsDoNotWrap(string attributes, long im2col)
        {
            // Shape inference accepts these (every tensor fits a float[]). Whatever the emitter derives from the
            // shapes must not wrap around either: it must be correct, or the model must get a CNN error.
            var r = GeneratorHarness.Run(Models.Model(attributes));
            DiagnosticTests.AssertNoGeneratorFailure(r);
            if (r.Cnn.Any()) return;
            var constants = System.Text.RegularExpressions.Regex.Matches(r.GeneratedSource, @"const int (\w+) = (-?\d+);")
                .Select(m => (Name: m.Groups[1].Value, Value: long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))).ToList();
            Assert.NotEmpty(constants);
            Assert.All(constants, c => Assert.True(c.Value >= 0, $"{c.Name} = {c.Value}: an int size wrapped around"));
            var scratch = constants.Where(c => c.Name == "ColumnScratch").ToList();
            if (im2col > 0 && scratch.Count > 0)
                Assert.True(scratch[0].Value >= im2col, $"ColumnScratch = {scratch[0].Value}, but one sample's im2col matrix has {im2col} floats");
        }

        // ---- torchsummary ---------------------------------------------------------------------------------

        /// <summary>Python's "%0.2f" of a double: .NET Core 3.0+ formats the exact binary value, as CPython does.</summary>
        private static string Py2f(double x) => x.ToString("F2", CultureInfo.InvariantCulture);

        private static string CallSummary(Assembly asm, string type, int batch) => (string)GeneratorHarness.CallStatic(asm, type, "Summary", batch)!;

        [Fact]
        public void DesignModelSummaryWithBatch64()
        {
            var r = GeneratorHarness.Run(Models.Mnist);
            Assert.Empty(r.Errors);
            var asm = GeneratorHarness.Load(r);
            string actual = CallSummary(asm, "Samples.MnistCnn", 64);

            // Elements of one sample's output per row:
            //   16·26·26 = 10,816 (Conv2d-1, ReLU-2), 16·14·14 = 3,136, 32·12·12 = 4,608 (Conv2d-4, ReLU-5),
            //   32·7·7 = 1,568, 32 (Linear-7, ReLU-8, Dropout-9), 10.
            long[] perSample = { 10816, 10816, 3136, 4608, 4608, 1568, 32, 32, 32, 10 };
            Assert.Equal(35658, perSample.Sum());
            // torchsummary, in Python floats: abs(prod(input) · batch · 4 / 1024²), abs(2 · Σ outputs · 4 / 1024²), ...
            const int batch = 64;
            double input = Math.Abs(784.0 * batch * 4 / (1024.0 * 1024.0));        // 200,704 / 1,048,576 = 0.19140625
            double fwd = Math.Abs(2.0 * perSample.Sum() * batch * 4 / (1024.0 * 1024.0)); // 18,256,896 / 1,048,576 = 17.4111328125
            double prm = Math.Abs(55338.0 * 4 / (1024.0 * 1024.0));                // 221,352 / 1,048,576 = 0.2110977...
            double total = prm + fwd + input;                                      // 17.8136367...
            // What torchsummary prints (checked with CPython: '%0.2f' % each):
            Assert.Equal(("0.19", "17.41", "0.21", "17.81"), (Py2f(input), Py2f(fwd), Py2f(prm), Py2f(total)));

            string expected = Models.MnistSummary.Replace("\r\n", "\n")
                .Replace("[-1, ", "[64, ")
                .Replace("Input size (MB): 0.00", "Input size (MB): " + Py2f(input))
                .Replace("Forward/backward pass size (MB): 0.27", "Forward/backward pass size (MB): " + Py2f(fwd))
                .Replace("Params size (MB): 0.21", "Params size (MB): " + Py2f(prm))
                .Replace("Estimated Total Size (MB): 0.49", "Estimated Total Size (MB): " + Py2f(total));
            Assert.Equal(expected, actual);
            Assert.Contains("            Conv2d-1           [64, 16, 26, 26]             160\n", actual);
            Assert.Contains("         MaxPool2d-6             [64, 32, 7, 7]               0\n", actual);
            Assert.Contains("\nInput size (MB): 0.19\nForward/backward pass size (MB): 17.41\nParams size (MB): 0.21\nEstimated Total Size (MB): 17.81\n", actual);

            // batch -1 is the default and gives the DESIGN.md table.
            Assert.Equal(Models.MnistSummary.Replace("\r\n", "\n"), CallSummary(asm, "Samples.MnistCnn", -1));
        }

        [Fact]
        public void SizesRoundHalfToEvenLikePython()
        {
            // [2, 128, 128] = 32,768 floats = 131,072 bytes = exactly 0.125 MB; '%0.2f' % 0.125 == '0.12' in CPython
            // (ties to even), ReLU doubles it for gradients: 2·32,768·4 / 1024² = 0.25; total 0.375 → '0.38'.
            var r = GeneratorHarness.Run(Models.Model("    [Input(2, 128, 128)]\n    [ReLU]"));
            string s = CallSummary(GeneratorHarness.Load(r), "T.M", -1);
            Assert.Contains("\nInput size (MB): 0.12\nForward/backward pass size (MB): 0.25\nParams size (MB): 0.00\nEstimated Total Size (MB): 0.38\n", s);
            Assert.Contains("              ReLU-1          [-1, 2, 128, 128]               0\n", s);
        }

        [Theory]
        [InlineData(0)]
        [InlineData(-2)]
        [InlineData(int.MinValue)]
        public void SummaryRejectsABadBatchSize(int batch)
        {
            var asm = GeneratorHarness.Load(GeneratorHarness.Run(Models.Mnist));
            var e = Assert.Throws<TargetInvocationException>(() => CallSummary(asm, "Samples.MnistCnn", batch));
            var inner = Assert.IsType<ArgumentOutOfRangeException>(e.InnerException);
            Assert.Equal("batchSize", inner.ParamName);
            Assert.Throws<ArgumentOutOfRangeException>(() => CnnGen.SummaryFormat.Torch(Array.Empty<CnnGen.SummaryRow>(), new[] { 1, 1, 1 }, batch));
        }

        [Fact]
        public void SummaryWithBatch1AndLargeCounts()
        {
            // Linear(784, 4096): 4096·784 + 4096 = 3,215,360 params → "3,215,360"; 3,215,360·4 / 1024² = 12.265625 → '12.27'
            var r = GeneratorHarness.Run(Models.Model("    [Input(1, 28, 28)]\n    [Flatten]\n    [Linear(784, 4096)]"));
            string s = CallSummary(GeneratorHarness.Load(r), "T.M", 1);
            Assert.Contains("            Linear-1                  [1, 4096]       3,215,360\n", s);
            Assert.Contains("Total params: 3,215,360\n", s);
            // input 784·4 / 1024² = 0.00299 → 0.00; fwd/bwd 2·4096·4 / 1024² = 0.03125 → '0.03'; total 12.2998657... → '12.30'
            Assert.Contains("\nInput size (MB): 0.00\nForward/backward pass size (MB): 0.03\nParams size (MB): 12.27\nEstimated Total Size (MB): 12.30\n", s);
        }

        // ---- Keras --------------------------------------------------------------------------------------

        /// <summary>
        /// The Keras MNIST convnet tutorial model with explicit ReLU layers, and what tf.keras 2.x
        /// (2.9–2.12) model.summary() prints for it: columns at int(65·0.45) = 29, int(65·0.85) = 55 and 65, every
        /// row padded to 65 characters, names longer than 27 characters wrapped, and a 65-space line after every layer.
        /// </summary>
        [Fact]
        public void KerasSummaryOfTheKerasTutorialModel()
        {
            string src = Models.Model(@"    [Input(1, 28, 28)]
    [Conv2d(1, 32, 3)]
    [ReLU]
    [MaxPool2d(2)]
    [Conv2d(32, 64, 3)]
    [ReLU]
    [MaxPool2d(2)]
    [Flatten]
    [Dropout(0.5)]
    [Linear(1600, 10)]");
            var r = GeneratorHarness.Run(src);
            Assert.Empty(r.Errors);
            string actual = (string)GeneratorHarness.CallStatic(GeneratorHarness.Load(r), "T.M", "KerasSummary")!;

            // 1·32·9 + 32 = 320; 32·64·9 + 64 = 18,496; 1600·10 + 10 = 16,010; total 34,826.
            // 28 − 2 = 26 → 13 → 11 → 5; 64·5·5 = 1,600.
            string[] lines =
            {
                "Model: \"sequential\"",
                "_________________________________________________________________",
                " Layer (type)                Output Shape              Param #   ",
                "=================================================================",
                " conv2d (Conv2D)             (None, 26, 26, 32)        320       ",
                "                                                                 ",
                " re_lu (ReLU)                (None, 26, 26, 32)        0         ",
                "                                                                 ",
                " max_pooling2d (MaxPooling2D  (None, 13, 13, 32)       0         ",
                " )                                                               ",
                "                                                                 ",
                " conv2d_1 (Conv2D)           (None, 11, 11, 64)        18496     ",
                "                                                                 ",
                " re_lu_1 (ReLU)              (None, 11, 11, 64)        0         ",
                "                                                                 ",
                " max_pooling2d_1 (MaxPooling  (None, 5, 5, 64)         0         ",
                " 2D)                                                             ",
                "                                                                 ",
                " flatten (Flatten)           (None, 1600)              0         ",
                "                                                                 ",
                " dropout (Dropout)           (None, 1600)              0         ",
                "                                                                 ",
                " dense (Dense)               (None, 10)                16010     ",
                "                                                                 ",
                "=================================================================",
                "Total params: 34,826",
                "Trainable params: 34,826",
                "Non-trainable params: 0",
                "_________________________________________________________________",
                "",
            };
            // Guard the literal itself: every table line is exactly 65 characters.
            Assert.All(lines.Skip(1).Take(24), l => Assert.Equal(65, l.Length));
            Assert.Equal(string.Join("\n", lines), actual);
        }
    }
}

using System.Linq;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>The lowering's decisions (layout, fusion, batch-norm folding, which variants exist), checked on the plan, not on C#.</summary>
    public class ExecutionPlanTests
    {
        /// <summary>The shaped model the generator's pipeline produced for <paramref name="source"/> (its last step's output).</summary>
        internal static ShapedModel Shaped(string source)
        {
            var r = GeneratorHarness.Run(source);
            var step = r.Run.Results.Single().TrackedSteps[ModelGenerator.Steps.BindWeights].Single();
            return (ShapedModel)step.Outputs.Single().Value;
        }

        private static int Layer(ShapedModel m, string name) => Enumerable.Range(0, m.Layers.Count).Single(i => m.Layers[i].SummaryName == name);

        /// <summary>
        /// Which convolutions of a channels-first (branching) model run im2col-free, which 1×1 ones store their bias and
        /// activation in the product, and which stay im2col + GEMM: by kernel rows (K = C·KH·KW ≥ 64), output channels
        /// (≥ 64), output pixels (≥ 256, else batched GEMMs) and groups; the folded batch norm and its SiLU go to the _Run.
        /// </summary>
        [Fact]
        public void ConvolutionFormsFollowTheirShapes()
        {
            var src = GeneratorHarness.Run(Models.Model(
                "    [Input(3, 32, 32)]\n" +
                "    [Conv2d(3, 64, 3, Padding = 1, Bias = false)]\n    [BatchNorm2d(64)]\n    [ReLU]\n" +          // K = 27: im2col
                "    [Residual(typeof(Body))]\n" +                                                               // 64 → 64, K = 576 at 32²: direct
                "    [Conv2d(64, 64, 1, Bias = false)]\n    [BatchNorm2d(64)]\n    [SiLU]\n" +                 // 1×1 at 32²: bias + SiLU in the product
                "    [Conv2d(64, 64, 3, Stride = 2, Padding = 1)]\n    [ReLU]\n" +                                // 16² = 256 pixels: direct
                "    [Conv2d(64, 32, 3, Padding = 1)]\n" +                                                      // 32 output channels: im2col
                "    [Conv2d(32, 32, 3, Stride = 2, Padding = 1)]\n" +                                          // 8² = 64 pixels: batched im2col
                "    [Conv2d(32, 32, 3, Padding = 1, Groups = 2)]\n" +                                          // groups: im2col
                "    [Flatten]\n    [Linear(2048, 10)]") +
                "\n    [Block]\n    [Conv2d(64, 64, 3, Padding = 1)]\n    [ReLU]\n    [Conv2d(64, 64, 3, Padding = 1)]\n    public partial class Body { }\n");
            Assert.Empty(src.Errors);
            string g = src.GeneratedSource;
            Assert.Contains("DirectConv.Forward(x, y, w, b, n, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, act);", g);
            Assert.Contains("DirectConv.Forward(x, y, w, b, n, 64, 32, 32, 64, 3, 3, 2, 2, 1, 1, act);", g);
            Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(g, @"DirectConv\.Forward\(x, y").Count); // the block's two and the strided one
            Assert.Contains("Gemm.MultiplyNN(64, 1024, 27,", g);
            Assert.Contains("Gemm.MultiplyNN(32, 256, 576,", g);
            // The 1×1: folded W', b' and the SiLU in one call.
            Assert.Contains("Gemm.Conv1x1(n, 64, 1024, 64, w, x, y, b, act);", g);
            Assert.Matches(@"Conv2d_\d+_Run\(\w+, \w+, fp \+ \d+, fp \+ \d+, n, 2\); // BatchNorm2d-\d+ folded in: W', b', then the SiLU", g);
        }

        /// <summary>
        /// An ImageNet-sized stem (EfficientNet's RGB 3×3/2 to 32 channels, 112² outputs) runs direct although its K = 27 and
        /// 32 channels are under the bounds: from 4096 output pixels on, the im2col matrix it would write is megabytes.
        /// The same convolution at 32² (above, K = 27 at 1024 pixels) stays im2col.
        /// </summary>
        [Fact]
        public void LargeImageStemsRunDirect()
        {
            var src = GeneratorHarness.Run(Models.Model(
                "    [Input(3, 224, 224)]\n" +
                "    [Conv2d(3, 32, 3, Stride = 2, Padding = 1, Bias = false)]\n    [BatchNorm2d(32)]\n    [SiLU]\n" +
                "    [Residual(typeof(Body))]\n" +
                "    [AdaptiveAvgPool2d(1)]\n    [Flatten]\n    [Linear(32, 10)]") +
                "\n    [Block]\n    [Conv2d(32, 32, 3, Padding = 1, Groups = 32)]\n    [SiLU]\n    public partial class Body { }\n");
            Assert.Empty(src.Errors);
            string g = src.GeneratedSource;
            Assert.Contains("DirectConv.Forward(x, y, w, b, n, 3, 224, 224, 32, 3, 3, 2, 2, 1, 1, act);", g);
            Assert.Matches(@"Conv2d_1_Run\(\w+, \w+, fp( \+ \d+)?, fp \+ \d+, n, 2\); // BatchNorm2d-2 folded in: W', b', then the SiLU", g);
        }

        [Fact]
        public void MnistRunsItsConvolutionsChannelsLastAndItsHeadChannelsFirst()
        {
            var m = Shaped(Models.Mnist);
            var plan = Lowering.Lower(m).Plan;
            Assert.Empty(plan.Violations());
            var inference = plan.Inference.Select(s => (s.Name, s.Kernel, s.Layout)).ToArray();
            Assert.Equal(new[]
            {
                ("Conv2d-1", Kernel.ChannelsLastConvolutionPool, Layout.ChannelsLast),
                ("ReLU-2", Kernel.Fused, Layout.ChannelsLast),
                ("MaxPool2d-3", Kernel.Fused, Layout.ChannelsLast),
                ("Conv2d-4", Kernel.ChannelsLastConvolutionPool, Layout.ChannelsLast),
                ("ReLU-5", Kernel.Fused, Layout.ChannelsLast),
                ("MaxPool2d-6", Kernel.Fused, Layout.ChannelsLast),
                ("MaxPool2d-6", Kernel.ToChannelsFirst, Layout.ChannelsLast),
                ("Linear-7", Kernel.Forward, Layout.ChannelsFirst),
                ("ReLU-8", Kernel.Forward, Layout.ChannelsFirst),
                ("Linear-10", Kernel.Forward, Layout.ChannelsFirst), // Dropout-9: the identity in inference, no step
            }, inference);
            // One sample at a time through the run from the input (one fusion group), then the chunk.
            Assert.All(plan.Inference.Take(6), s => { Assert.True(s.PerSample); Assert.Equal(0, s.Group); });
            Assert.False(plan.Inference.Last().PerSample);
            Assert.Equal(Buffer.Input, plan.Inference[0].In);
            Assert.Equal(Buffer.Output, plan.Inference.Last().Out);

            // Training: the same run channels-last, the ReLUs fused into their convolutions; backward mirrors it.
            Assert.Equal(Kernel.ChannelsLastConvolution, plan.TrainForward.Single(s => s.Name == "Conv2d-1").Kernel);
            Assert.Equal(Kernel.ChannelsLastMaxPoolTrain, plan.TrainForward.Single(s => s.Name == "MaxPool2d-6").Kernel);
            Assert.Equal(Kernel.Fused, plan.TrainForward.Single(s => s.Name == "ReLU-5").Kernel);
            Assert.Equal(Kernel.Forward, plan.TrainForward.Single(s => s.Name == "Dropout-9").Kernel);
            Assert.Equal(plan.TrainForward.Select(s => s.Layer).Reverse(), plan.Backward.Select(s => s.Layer));
            Assert.Equal(Kernel.BackwardChannelsLast, plan.Backward.Single(s => s.Name == "Conv2d-4").Kernel);

            // So the convolutions and max pools need no channels-first method at all; the head needs both.
            foreach (var name in new[] { "Conv2d-1", "MaxPool2d-3", "Conv2d-4", "MaxPool2d-6" }) Assert.Equal(Variants.None, plan.VariantsOf(Layer(m, name)));
            Assert.Equal(Variants.Forward | Variants.Backward, plan.VariantsOf(Layer(m, "Linear-7")));
            Assert.Equal(Variants.Forward | Variants.Backward, plan.VariantsOf(Layer(m, "Dropout-9")));
        }

        [Fact]
        public void ConvolutionThenBatchNormFoldsForInferenceOnly()
        {
            var m = Shaped(Models.Model("[Input(3, 8, 8)] [Conv2d(3, 4, 3, Bias = false)] [BatchNorm2d(4)] [ReLU] [Flatten] [Linear(144, 2)]"));
            var plan = Lowering.Lower(m).Plan;
            Assert.Equal(Kernel.FoldedConvolution, plan.Inference.Single(s => s.Name == "Conv2d-1").Kernel);
            Assert.Equal(Kernel.Fused, plan.Inference.Single(s => s.Name == "BatchNorm2d-2").Kernel);
            Assert.Equal(Kernel.Forward, plan.TrainForward.Single(s => s.Name == "BatchNorm2d-2").Kernel);
            // Folded at every batch size (few weights per output): no inference method of its own.
            Assert.Equal(Variants.Forward | Variants.Backward, plan.VariantsOf(Layer(m, "BatchNorm2d-2")));
            Assert.Empty(plan.Violations());
        }

        [Fact]
        public void ThePlanIsComputedOnceAndComparesByValue()
        {
            var m = Shaped(Models.Mnist);
            var a = Lowering.Lower(m);
            Assert.Equal(a.Plan, Lowering.Lower(m).Plan);
            Assert.Throws<System.InvalidOperationException>(() => a.Memory.Seal(0)); // sealed before the size check, once
        }

        [Fact]
        public void AChannelsLastStepOfALayerWithoutAChannelsLastFormIsAViolation()
        {
            var m = Shaped(Models.Mnist);
            var plan = Lowering.Lower(m).Plan;
            int linear = Layer(m, "Linear-7");
            var planted = plan with
            {
                Inference = new EquatableArray<PlanStep>(plan.Inference.Select(s => s.Layer == linear ? s with { Layout = Layout.ChannelsLast } : s)),
            };
            Assert.Contains(planted.Violations(), v => v.Contains("Linear-7"));
            // An element-wise layer may run its own forward inside a run; a max pool may not.
            int pool = Layer(m, "MaxPool2d-3");
            var pooled = plan with
            {
                TrainForward = new EquatableArray<PlanStep>(plan.TrainForward.Select(s => s.Layer == pool ? s with { Kernel = Kernel.Forward } : s)),
            };
            Assert.Contains(pooled.Violations(), v => v.Contains("MaxPool2d-3") && v.Contains("not element-wise"));
        }

        public static TheoryData<string> Architectures()
        {
            var data = new TheoryData<string>();
            foreach (var edge in RandomModelTests.EdgeArchitectures) data.Add(edge);
            for (int seed = 0; seed < RandomModelTests.ModelCount; seed++) data.Add(RandomModelTests.Draw(seed).Attributes);
            return data;
        }

        [Theory]
        [MemberData(nameof(Architectures))]
        public void EveryPlanKeepsChannelsLastRunsToLayersThatSupportThem(string attributes)
        {
            var m = Shaped(Models.Model(attributes));
            Assert.True(m.Ok);
            var plan = Lowering.Lower(m).Plan;
            Assert.Empty(plan.Violations());
            // Every layer that runs code appears in training, forward and backward, once each.
            var code = Enumerable.Range(0, m.Layers.Count).Where(i => LayerTable.Of(m.Layers[i]).Role == KindRole.Layer).ToList();
            Assert.Equal(code, plan.TrainForward.Select(s => s.Layer));
        }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Runtime.Tests.Reference;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Issue 14's new layers, GELU (erf and tanh forms), Hardswish and Hardsigmoid: generated models against the float64
    /// reference (forward, every parameter gradient and the input gradient), across the whole input range, and their
    /// declaration errors.
    /// </summary>
    public class ActivationLayerTests
    {
        public static TheoryData<string> Models14 => new()
        {
            // In the channels-last run of inference and training (1 input channel, out channels a multiple of 8).
            "[Input(1, 10, 10)] [Conv2d(1, 8, 3)] [GELU] [MaxPool2d(2)] [Conv2d(8, 16, 3)] [Hardswish] [Flatten] [Linear(64, 5)] [Hardsigmoid]",
            "[Input(1, 9, 9)] [Conv2d(1, 8, 3)] [GELU(Approximate = \"tanh\")] [Conv2d(8, 8, 3)] [Hardsigmoid] [Flatten] [Linear(200, 3)]",
            // Channels-first (3 input channels, padding, odd sizes), and after a Linear.
            "[Input(3, 7, 5)] [Conv2d(3, 5, 3, Padding = 1)] [Hardswish] [AvgPool2d(2)] [GELU] [Flatten] [Linear(30, 7)] [GELU(Approximate = \"tanh\")] [Linear(7, 2)]",
            "[Input(2, 4, 4)] [Flatten] [Linear(32, 19)] [Hardsigmoid] [Linear(19, 17)] [Hardswish] [Linear(17, 3)] [GELU]",
        };

        [Theory]
        [MemberData(nameof(Models14))]
        public void ModelsWithTheNewActivationsMatchTheFloat64Reference(string attributes)
        {
            int split = attributes.IndexOf("] [", StringComparison.Ordinal);
            var layers = attributes[(split + 2)..].Split(" [").Select(l => l.StartsWith('[') ? l : "[" + l).ToList();
            var a = new RandomModelTests.Architecture(attributes.Length, attributes[..(split + 1)], layers);
            Assert.Equal(attributes, a.Attributes);
            var problems = RandomModelTests.Check(a, "Act");
            Assert.True(problems.Count == 0, attributes + "\n  " + string.Join("\n  ", problems));
        }

        [Fact]
        public void InsideAChannelsLastRunTheyRunAsElementWiseSteps()
        {
            var m = ExecutionPlanTests.Shaped(Models.Model("[Input(1, 10, 10)] [Conv2d(1, 8, 3)] [GELU] [MaxPool2d(2)] [Conv2d(8, 16, 3)] [Hardswish] [Flatten] [Linear(64, 5)]"));
            var plan = Lowering.Lower(m).Plan;
            Assert.Empty(plan.Violations());
            foreach (var name in new[] { "GELU-2", "Hardswish-5" })
                Assert.Contains(plan.Inference, s => s.Name == name && s.Kernel == Kernel.Forward && s.Layout == Layout.ChannelsLast && s.Group == 0);
            // Training's run ends with its last convolution (saved channels-first): the Hardswish after it runs channels-first.
            Assert.Contains(plan.TrainForward, s => s.Name == "GELU-2" && s.Kernel == Kernel.Forward && s.Layout == Layout.ChannelsLast && s.Group == 0);
            Assert.Contains(plan.TrainForward, s => s.Name == "Hardswish-5" && s.Kernel == Kernel.Forward && s.Layout == Layout.ChannelsFirst);
        }

        /// <summary>Every region of each function (both saturations, the kinks' neighbourhoods, the vector tails): x on a grid over [−8, 8].</summary>
        [Theory]
        [InlineData("[GELU]")]
        [InlineData("[GELU(Approximate = \"tanh\")]")]
        [InlineData("[Hardswish]")]
        [InlineData("[Hardsigmoid]")]
        public void ForwardAndInputGradientMatchTheReferenceOverTheWholeRange(string layer)
        {
            var r = GeneratorHarness.Run(Models.Model("    [Input(3, 7, 9)]\n    " + layer));
            Assert.Empty(r.Errors);
            var model = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(r).GetType("T.M")!, new object[] { 0 })!;
            var reference = RefModel.FromAttributes("[Input(3, 7, 9)] " + layer);
            const int batch = 3;
            int n = batch * model.InputSize;
            var x = new float[n];
            for (int i = 0; i < n; i++) x[i] = -8f + 16f * i / (n - 1) + 0.0001f; // off the kinks at ±3 (PyTorch picks a side there)
            var dy = new float[n];
            var rng = new Rng(7);
            for (int i = 0; i < n; i++) dy[i] = rng.Uniform(-1f, 1f);

            var y = new float[n];
            model.Forward(x, y, batch);
            var ws = model.CreateWorkspace(batch);
            var yTrain = new float[n];
            model.ForwardTrain(ws, x, yTrain, batch);
            var dx = new float[n];
            model.Backward(ws, dy, new float[model.ParameterCount], dx);

            var pass = reference.Forward(x.Select(v => (double)v).ToArray(), batch, Array.Empty<double>());
            var (gradInput, _) = reference.Backward(pass, dy.Select(v => (double)v).ToArray());
            for (int i = 0; i < n; i++)
            {
                double want = pass.Output.Data[i];
                Assert.True(Math.Abs(y[i] - want) <= 2e-6 + 2e-6 * Math.Abs(want), $"{layer} y({x[i]}) = {y[i]}, reference {want}");
                Assert.True(Math.Abs(yTrain[i] - want) <= 2e-6 + 2e-6 * Math.Abs(want), $"{layer} training y({x[i]}) = {yTrain[i]}, reference {want}");
                Assert.True(Math.Abs(dx[i] - gradInput[i]) <= 2e-6 + 2e-6 * Math.Abs(gradInput[i]), $"{layer} dx({x[i]}) = {dx[i]}, reference {gradInput[i]}");
            }
        }

        [Fact]
        public void AnUnknownApproximationIsADeclarationError()
        {
            string source = Models.Model("    [Input(1, 4, 4)]\n    [GELU(Approximate = \"tan\")]");
            var r = GeneratorHarness.Run(source);
            var d = Assert.Single(r.Cnn);
            Assert.Equal("CNN0010", d.Id);
            Assert.Contains("GELU-1: Approximate is \"tan\", but must be \"none\" or \"tanh\"", d.GetMessage(), StringComparison.Ordinal);
            Assert.StartsWith("GELU(Approximate", source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length), StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("[GELU]", "GELU-1", "activation")]
        [InlineData("[Hardswish]", "Hardswish-1", "activation")]
        [InlineData("[Hardsigmoid]", "Hardsigmoid-1", "activation")]
        public void SummariesNameThemAsPyTorchAndKerasDo(string layer, string torchRow, string kerasName)
        {
            var r = GeneratorHarness.Run(Models.Model("    [Input(2, 3, 3)]\n    " + layer));
            Assert.Empty(r.Errors);
            var asm = GeneratorHarness.Load(r);
            Assert.Contains(torchRow, (string)GeneratorHarness.CallStatic(asm, "T.M", "Summary", -1)!, StringComparison.Ordinal);
            Assert.Contains(" " + kerasName + " (Activation)", (string)GeneratorHarness.CallStatic(asm, "T.M", "KerasSummary")!, StringComparison.Ordinal);
        }
    }
}

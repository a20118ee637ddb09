using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Functional ops (<c>[F.ReLU]</c>, <c>[F.MaxPool2d(2)]</c>, ...): they compute like the layers but, as in PyTorch,
    /// have no torchsummary row, no row number and no key position.
    /// </summary>
    public class FunctionalTests
    {
        /// <summary>
        /// The PyTorch tutorial's Net (tools/golden/functional_tutorial.py) line for line: modules conv1, conv2, conv2_drop,
        /// fc1, fc2 and the functional calls of its forward.
        /// </summary>
        internal const string Tutorial = @"using CnnGen;
namespace T
{
    [Model]
    [Input(1, 28, 28)]
    [Conv2d(1, 10, 5, Name = ""conv1"")]
    [F.MaxPool2d(2)]
    [F.ReLU]
    [Conv2d(10, 20, 5, Name = ""conv2"")]
    [Dropout2d(Name = ""conv2_drop"")]
    [F.MaxPool2d(2)]
    [F.ReLU]
    [F.Flatten]
    [Linear(320, 50, Name = ""fc1"")]
    [F.ReLU]
    [F.Dropout]
    [Linear(50, 10, Name = ""fc2"")]
    [F.LogSoftmax]
    public partial class Net { }
}
";

        private static string Golden(string file) => Path.Combine(DocsTests.RepoRoot(), "tests", "Generator.Tests", "Golden", file);

        [Fact]
        public void TutorialModelPrintsTorchsummarysTableAtBatch64()
        {
            var r = GeneratorHarness.Run(Tutorial);
            Assert.Empty(r.Errors);
            var asm = GeneratorHarness.Load(r);
            // tools/golden/functional_tutorial.py: torchsummary 1.5.1's algorithm on the PyTorch Net, summary(net, (1, 28, 28), 64);
            // the same table as issue 16's, all four size lines included.
            string expected = File.ReadAllText(Golden("functional_tutorial.torchsummary.txt")).Replace("\r\n", "\n");
            Assert.Equal(expected, (string)GeneratorHarness.CallStatic(asm, "T.Net", "Summary", 64)!);
            Assert.Contains("         Dropout2d-3             [64, 20, 8, 8]               0\n", expected);
            Assert.Contains("Input size (MB): 0.19\nForward/backward pass size (MB): 4.09\nParams size (MB): 0.08\nEstimated Total Size (MB): 4.37\n", expected);
            Assert.Equal(21_840, GeneratorHarness.Const(asm, "T.Net", "ParameterCount"));
        }

        [Fact]
        public void TutorialModelLoadsThePyTorchStateDictAndComputesAsPyTorch()
        {
            var r = GeneratorHarness.Run(Tutorial);
            Assert.Empty(r.Errors);
            var model = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(r).GetType("T.Net")!, 0)!;
            // net.state_dict() of the PyTorch Net after torch.manual_seed(0): conv1.weight, conv1.bias, conv2.*, fc1.*, fc2.*.
            model.LoadWeights(Golden("functional_tutorial.safetensors"));
            float[] io = File.ReadAllLines(Golden("functional_tutorial.io.txt")).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(3 * 784 + 3 * 10, io.Length);
            var y = new float[3 * 10];
            model.Forward(io.AsSpan(0, 3 * 784), y, 3);
            // net.eval(); net(torch.rand(3, 1, 28, 28)) after torch.manual_seed(1): log-probabilities.
            double max = 0;
            for (int i = 0; i < y.Length; i++) max = Math.Max(max, Math.Abs(y[i] - io[3 * 784 + i]));
            Assert.True(max < 1e-5, $"max |CnnGen − PyTorch| = {max:G3}");
        }

        [Fact]
        public void FunctionalOpsTakeNoKeyPositionAndNoRow()
        {
            // nn.Sequential(conv, conv, linear) with F.relu / F.max_pool2d / torch.flatten applied between: keys 0, 1, 2.
            var r = GeneratorHarness.Run(Models.Model(@"    [Input(1, 12, 12)]
    [Conv2d(1, 4, 3)]
    [F.ReLU]
    [F.MaxPool2d(2)]
    [Conv2d(4, 4, 3)]
    [F.Flatten]
    [F.Sigmoid]
    [Linear(36, 3)]
    [F.Softmax]"));
            Assert.Empty(r.Errors);
            var asm = GeneratorHarness.Load(r);
            var model = (ICnnModel)Activator.CreateInstance(asm.GetType("T.M")!, 0)!;
            Assert.Equal(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias" }, model.ParameterSlots.Select(s => s.Key));
            string summary = (string)GeneratorHarness.CallStatic(asm, "T.M", "Summary", -1)!;
            Assert.Contains("            Conv2d-1            [-1, 4, 10, 10]              40\n            Conv2d-2              [-1, 4, 3, 3]             148\n            Linear-3                    [-1, 3]             111\n====", summary);
            // Keras has no functional ops: no rows for them either.
            string keras = (string)GeneratorHarness.CallStatic(asm, "T.M", "KerasSummary")!;
            Assert.DoesNotContain("re_lu", keras);
            Assert.DoesNotContain("pooling", keras);
            Assert.DoesNotContain("activation", keras);
            Assert.Contains(" conv2d_1 (Conv2D)           (None, 3, 3, 4)           148       \n", keras);
            // The generated shape table names them by function and their own running number.
            Assert.Contains("// F.relu-f1", r.GeneratedSource);
            Assert.Contains("// F.max_pool2d-f2", r.GeneratedSource);
            Assert.Contains("// F.softmax-f5", r.GeneratedSource);
            // The tree view (module tree) has no functional ops either.
            string tree = (string)GeneratorHarness.CallStatic(asm, "T.M", "SummaryTree")!;
            Assert.Equal(3, tree.Split('\n').Count(l => l.StartsWith("├─", StringComparison.Ordinal)));
        }

        [Fact]
        public void FunctionalOpsComputeExactlyLikeTheLayers()
        {
            const string body = @"    [Input(2, 10, 10)]
    [Conv2d(2, 6, 3)]
    [{0}ReLU]
    [{0}MaxPool2d(2)]
    [{0}AvgPool2d(2, Stride = 1)]
    [{0}Tanh]
    [Conv2d(6, 5, 1)]
    [{0}ELU(0.5)]
    [{0}LeakyReLU(0.1)]
    [{0}ReLU6]
    [{0}SiLU]
    [{0}Dropout2d(0.3)]
    [{0}AdaptiveAvgPool2d(1)]
    [{0}Flatten]
    [{0}Sigmoid]
    [{0}Dropout(0.2)]
    [Linear(5, 4)]
    [{0}LogSoftmax]";
            var layers = GeneratorHarness.Run(Models.Model(string.Format(CultureInfo.InvariantCulture, body, ""), "L"));
            var functional = GeneratorHarness.Run(Models.Model(string.Format(CultureInfo.InvariantCulture, body, "F."), "G"));
            Assert.Empty(layers.Errors);
            Assert.Empty(functional.Errors);
            var a = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(layers).GetType("T.L")!, 3)!;
            var b = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(functional).GetType("T.G")!, 3)!;
            Assert.Equal(a.Parameters.Length, b.Parameters.Length);
            Array.Copy(a.Parameters, b.Parameters, a.Parameters.Length);
            var rng = new Random(5);
            const int n = 4;
            var x = Enumerable.Range(0, n * 200).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var ya = new float[n * 4];
            var yb = new float[n * 4];
            a.Forward(x, ya, n);
            b.Forward(x, yb, n);
            Assert.Equal(ya, yb);
            Assert.NotEqual(new float[n * 4], ya);

            // Training mode: the same outputs (dropout masks included) and the same gradients.
            var wa = a.CreateWorkspace(n, seed: 11);
            var wb = b.CreateWorkspace(n, seed: 11);
            a.ForwardTrain(wa, x, ya, n);
            b.ForwardTrain(wb, x, yb, n);
            Assert.Equal(ya, yb);
            var dy = Enumerable.Range(0, n * 4).Select(i => (float)Math.Cos(i)).ToArray();
            var ga = new float[a.Parameters.Length];
            var gb = new float[b.Parameters.Length];
            var dxa = new float[x.Length];
            var dxb = new float[x.Length];
            a.Backward(wa, dy, ga, dxa);
            b.Backward(wb, dy, gb, dxb);
            Assert.Equal(ga, gb);
            Assert.Equal(dxa, dxb);
            Assert.Contains(ga, g => g != 0);
        }

        [Fact]
        public void AShapeErrorNamesTheFunctionalOp()
        {
            var r = GeneratorHarness.Run(Models.Model("    [Input(1, 8, 8)]\n    [Conv2d(1, 2, 3)]\n    [F.MaxPool2d(7)]"));
            DiagnosticTests.AssertNoGeneratorFailure(r);
            var d = Assert.Single(r.Cnn);
            Assert.StartsWith("F.max_pool2d-f1", d.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            Assert.Contains("Conv2d-1 output [2, 6, 6]", d.GetMessage(CultureInfo.InvariantCulture));
        }
    }
}

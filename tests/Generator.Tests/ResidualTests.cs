using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Blocks, residual connections and squeeze-excitation: torchvision's ResNet-18 as declared in samples/ResNet
    /// (parameter count, torchsummary table, state_dict keys), and the diagnostics CNN0042–CNN0046 at their attributes.
    /// </summary>
    public class ResidualTests
    {
        private readonly ITestOutputHelper _out;
        public ResidualTests(ITestOutputHelper output) { _out = output; }

        private static string Sample(string file) => File.ReadAllText(Path.Combine(DocsTests.RepoRoot(), "samples", "ResNet", file));

        [Fact]
        public void ResNet18HasTorchvisionsParameterCountSummaryAndKeys()
        {
            var sw = Stopwatch.StartNew();
            var r = GeneratorHarness.Run(Sample("ResNet18.cs"));
            _out.WriteLine($"generator + compilation: {sw.Elapsed.TotalSeconds:F1} s; generated source {r.GeneratedSource.Length:N0} chars");
            Assert.Empty(r.Errors);
            Assert.Empty(r.Cnn);
            var asm = GeneratorHarness.Load(r);
            const string type = "CnnGen.Samples.ResNet.ResNet18";
            // torchvision.models.resnet18(): sum(p.numel() for p in model.parameters()) == 11,689,512
            Assert.Equal(11_689_512, GeneratorHarness.Const(asm, type, "ParameterCount"));
            Assert.Equal(1000, GeneratorHarness.Const(asm, type, "OutputSize"));
            // tools/golden/torchsummary_golden.py resnet18: torchsummary's table of torchvision's ResNet-18, 68 rows including
            // BasicBlock-11 ... BasicBlock-66, 62.79 MB forward/backward; `... torchvision-resnet18` (torchvision 0.14.1 itself,
            // Debian's python3-torchvision) prints the identical file.
            string expected = File.ReadAllText(Path.Combine(DocsTests.RepoRoot(), "tests", "Generator.Tests", "Golden", "resnet18.torchsummary.txt")).Replace("\r\n", "\n");
            Assert.Equal(expected, (string)GeneratorHarness.CallStatic(asm, type, "Summary", -1)!);
            foreach (var key in new[] { "\"conv1.weight\"", "\"bn1.running_mean\"", "\"layer1.0.conv1.weight\"", "\"layer1.1.bn2.num_batches_tracked\"",
                                        "\"layer2.0.downsample.0.weight\"", "\"layer2.0.downsample.1.running_var\"", "\"layer4.1.bn2.bias\"", "\"fc.bias\"" })
                Assert.Contains(key, r.GeneratedSource);
            // The hierarchical view: torchvision's module tree (layer2 is a Sequential of BasicBlocks, downsample a Sequential).
            string tree = (string)GeneratorHarness.CallStatic(asm, type, "SummaryTree")!;
            Assert.Contains("\n├─Sequential: 1-6                       [1, 128, 28, 28]         --\n│    └─BasicBlock: 2-3                  [1, 128, 28, 28]         --\n│    │    └─Conv2d: 3-13                [1, 128, 28, 28]         73,728\n", tree);
            Assert.Contains("\n│    │    └─Sequential: 3-18            [1, 128, 28, 28]         --\n│    │    │    └─Conv2d: 4-1            [1, 128, 28, 28]         8,192\n", tree);
            Assert.Contains("\n├─Linear: 1-10                          [1, 1000]                513,000\nTotal params: 11,689,512\n".Replace("\nTotal", "\n==========================================================================================\nTotal"), tree);
            // Every state_dict entry of torchvision 0.14's resnet18() (tools/golden/torchsummary_golden.py
            // torchvision-resnet18-keys, run with Debian's python3-torchvision), as parameters or batch-norm buffers.
            string[] torchvisionKeys = File.ReadAllLines(Path.Combine(DocsTests.RepoRoot(), "tests", "Generator.Tests", "Golden", "resnet18.state_dict.txt"))
                .Where(line => line.Length > 0).ToArray();
            object model = System.Activator.CreateInstance(asm.GetType(type)!, 0)!;
            string Describe(object slot) =>
                $"{slot.GetType().GetProperty("Key")!.GetValue(slot)} [{string.Join(", ", (int[])slot.GetType().GetProperty("Shape")!.GetValue(slot)!)}]";
            var slots = ((System.Array)model.GetType().GetProperty("ParameterSlots")!.GetValue(model)!).Cast<object>()
                .Concat(((System.Array)model.GetType().GetProperty("BufferSlots")!.GetValue(model)!).Cast<object>())
                .Select(Describe);
            Assert.Equal(torchvisionKeys.OrderBy(k => k, System.StringComparer.Ordinal), slots.OrderBy(k => k, System.StringComparer.Ordinal));
            // Generated code stays proportional to the layers (no per-pixel unrolling).
            Assert.True(r.GeneratedSource.Length < 2_000_000, $"generated {r.GeneratedSource.Length:N0} chars");
        }

        private const string Body = @"
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
        public void ResidualSummaryPutsTheBlockRowAfterItsLayers()
        {
            string src = Models.Model("    [Input(16, 8, 8)]\n    [Residual(typeof(Down), Shortcut = typeof(Projection), ReLU = true, Name = \"layer2.0\")]\n    [SqueezeExcitation(32, 8, Name = \"se\")]")
                .Replace("namespace T\n{", "namespace T\n{" + Body);
            var r = GeneratorHarness.Run(src);
            Assert.Empty(r.Errors);
            Assert.Empty(r.Cnn);
            string summary = (string)GeneratorHarness.CallStatic(GeneratorHarness.Load(r), "T.M", "Summary", -1)!;
            var rows = summary.Split('\n').Skip(3).TakeWhile(l => !l.StartsWith("=", System.StringComparison.Ordinal)).Select(l => l.Trim().Split(' ')[0]).ToArray();
            Assert.Equal(new[] { "Conv2d-1", "BatchNorm2d-2", "Conv2d-3", "BatchNorm2d-4", "ReLU-5", "Down-6",
                                 "AdaptiveAvgPool2d-7", "Conv2d-8", "ReLU-9", "Conv2d-10", "Sigmoid-11", "SqueezeExcitation-12" }, rows);
            Assert.Contains("\"layer2.0.downsample.0.weight\"", r.GeneratedSource);
            Assert.Contains("\"se.fc1.weight\"", r.GeneratedSource);
            Assert.Contains("\"se.fc2.bias\"", r.GeneratedSource);
        }
    }
}

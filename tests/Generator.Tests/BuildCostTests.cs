using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Build cost of the big samples: the generated code's size (asserted against a bound proportional to the layer
    /// count) and the generator's time per pipeline step (printed, never asserted: BENCHMARKS.md "Build time").
    /// </summary>
    public class BuildCostTests
    {
        private readonly ITestOutputHelper _out;
        public BuildCostTests(ITestOutputHelper output) { _out = output; }

        private static string Sample(string dir, string file) => File.ReadAllText(Path.Combine(DocsTests.RepoRoot(), "samples", dir, file));

        public static TheoryData<string, string, string> Samples => new()
        {
            { "ResNet18", "ResNet", "ResNet18.cs" },
            { "EfficientNetB0", "EfficientNet", "EfficientNetB0.cs" },
            { "CifarResNet", "ResNet", "CifarResNet.cs" },
        };

        /// <summary>Time of each tracked step and of the source output (parse, infer, bind, then check + lower + emit).</summary>
        private string Steps(GeneratorDriverRunResult run)
        {
            var r = run.Results.Single();
            var steps = r.TrackedSteps.Concat(r.TrackedOutputSteps)
                .Select(kv => $"{kv.Key} {kv.Value.Sum(s => s.ElapsedTime.TotalMilliseconds):F1} ms");
            return "steps: " + string.Join(", ", steps);
        }

        private void Measure(string name, string source)
        {
            var compilation = GeneratorHarness.CreateCompilation(source);
            // The first run pays the JIT; the second is what a warm build server (or an IDE) pays.
            for (int i = 0; i < 2; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                var sw = Stopwatch.StartNew();
                var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
                sw.Stop();
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                var run = driver.GetRunResult();
                var text = string.Concat(run.Results.SelectMany(x => x.GeneratedSources).Select(s => s.SourceText.ToString()));
                int lines = text.Count(c => c == '\n');
                // CNNGEN_GENERATED_DIR=dir: also writes the generated code there, to inspect what dominates its size.
                var dump = Environment.GetEnvironmentVariable("CNNGEN_GENERATED_DIR");
                if (!string.IsNullOrEmpty(dump)) File.WriteAllText(Path.Combine(dump, name.Replace(' ', '_') + ".g.cs"), text);
                // Roslyn compiling the generated code (what the consumer build pays on top of the generator).
                var output = compilation.AddSyntaxTrees(run.GeneratedTrees);
                var cw = Stopwatch.StartNew();
                using (var ms = new MemoryStream()) output.Emit(ms);
                cw.Stop();
                _out.WriteLine($"{name} run {i + 1}: {sw.Elapsed.TotalMilliseconds:F0} ms, {allocated / 1e6:F1} MB allocated; "
                    + $"generated {text.Length:N0} chars, {lines:N0} lines; Roslyn compiles it in {cw.Elapsed.TotalMilliseconds:F0} ms; {Steps(run)}");
            }
        }

        [Theory]
        [MemberData(nameof(Samples))]
        public void GeneratorCostOfTheSamples(string name, string dir, string file)
        {
            Measure(name, Sample(dir, file));
        }

        /// <summary>
        /// The regression guard without timing: what Roslyn compiles (the dominant build cost, see BENCHMARKS.md) stays
        /// proportional to the layer count and independent of the image size. The bounds are about 1.3× and 1.1×
        /// today's ResNet-18 (570k chars, 93 summary rows, 6.1k chars per row; 517k at 64×64); a change that unrolls a kernel over output pixels or emits a
        /// per-pixel table exceeds it.
        /// </summary>
        [Fact]
        public void ResNet18CodeIsProportionalToLayersNotToTheImage()
        {
            (int Chars, int Layers) Generate(string source)
            {
                var r = GeneratorHarness.Run(source);
                Assert.Empty(r.Errors);
                // One torchsummary row per layer (blocks and their layers, as torchsummary lists them): from shape
                // inference, not from the emitted kernels.
                int rows = Regex.Matches(r.GeneratedSource, @"new global::CnnGen\.SummaryRow\(").Count;
                return (r.GeneratedSource.Length, rows);
            }
            var source = Sample("ResNet", "ResNet18.cs");
            Assert.Contains("[Input(3, 224, 224)]", source);
            var (large, layers) = Generate(source);
            var (small, smallLayers) = Generate(source.Replace("[Input(3, 224, 224)]", "[Input(3, 64, 64)]"));
            _out.WriteLine($"ResNet-18: {layers} layers; {large:N0} chars at 224x224 ({large / layers:N0} per layer), {small:N0} at 64x64");
            Assert.Equal(layers, smallLayers);
            Assert.True(layers >= 60, $"{layers} summary rows: the per-layer bound below assumes one row per layer");
            Assert.True(large <= 8_000 * layers, $"{large:N0} chars for {layers} layers: over 8,000 per layer");
            Assert.True(large <= small * 1.2, $"224x224: {large:N0} chars vs 64x64: {small:N0}: the code grows with the image");
        }

        [Fact]
        public void GeneratorCostOfModelA() => Measure("model A", Models.Mnist);
    }
}

using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// samples/EfficientNet: torchvision's efficientnet_b0 (parameter count, state_dict keys, eval-mode outputs), with weights
    /// from the formula of tools/golden/efficientnet_b0.py restated here.
    /// </summary>
    public class EfficientNetTests
    {
        private readonly ITestOutputHelper _out;
        public EfficientNetTests(ITestOutputHelper output) { _out = output; }

        private static string Golden(string file) => Path.Combine(DocsTests.RepoRoot(), "tests", "Generator.Tests", "Golden", file);

        private static uint Fnv1a(string text)
        {
            uint h = 2166136261;
            foreach (char c in text) unchecked { h = (h ^ c) * 16777619; }
            return h;
        }

        /// <summary>efficientnet_b0.py's uniform(key, count): an LCG mod 2^31 seeded by FNV-1a of the key, u in [-1, 1).</summary>
        private static double[] Uniform(string key, int count)
        {
            ulong state = Fnv1a(key);
            var u = new double[count];
            for (int i = 0; i < count; i++)
            {
                state = (state * 1103515245UL + 12345UL) & 0x7FFFFFFFUL;
                u[i] = state / 2147483648.0 * 2.0 - 1.0;
            }
            return u;
        }

        /// <summary>efficientnet_b0.py's value(key, shape), as float32.</summary>
        private static float[] Value(string key, int[] shape)
        {
            int count = shape.Aggregate(1, (a, b) => a * b);
            if (key.EndsWith("num_batches_tracked", StringComparison.Ordinal)) return new float[count];
            var u = Uniform(key, count);
            int fanIn = shape.Skip(1).Aggregate(1, (a, b) => a * b);
            Func<double, double> f =
                key.EndsWith("running_mean", StringComparison.Ordinal) ? x => 0.1 * x
                : key.EndsWith("running_var", StringComparison.Ordinal) ? x => 1.5 + 0.5 * x
                : shape.Length == 1 && key.EndsWith(".weight", StringComparison.Ordinal) ? x => 1.0 + 0.25 * x
                : key.EndsWith(".bias", StringComparison.Ordinal) ? x => 0.1 * x
                : key == "classifier.1.weight" ? x => x * Math.Sqrt(3.0 / fanIn) * 20.0
                : x => x * Math.Sqrt(3.0 / fanIn);
            return u.Select(x => (float)f(x)).ToArray();
        }

        [Fact]
        public void EfficientNetB0MatchesTorchvision()
        {
            var sw = Stopwatch.StartNew();
            var r = GeneratorHarness.Run(File.ReadAllText(Path.Combine(DocsTests.RepoRoot(), "samples", "EfficientNet", "EfficientNetB0.cs")));
            Assert.Empty(r.Errors);
            Assert.Empty(r.Cnn);
            var asm = GeneratorHarness.Load(r);
            _out.WriteLine($"generator + compilation: {sw.Elapsed.TotalSeconds:F1} s; generated source {r.GeneratedSource.Length:N0} chars");
            const string type = "CnnGen.Samples.EfficientNet.EfficientNetB0";
            // sum(p.numel() for p in torchvision.models.efficientnet_b0().parameters()) == 5,288,548
            Assert.Equal(5_288_548, GeneratorHarness.Const(asm, type, "ParameterCount"));
            Assert.Equal(1000, GeneratorHarness.Const(asm, type, "OutputSize"));

            var model = (ICnnModel)Activator.CreateInstance(asm.GetType(type)!, 0)!;
            // tools/golden/efficientnet_b0.py: every entry of torchvision 0.14.1's efficientnet_b0().state_dict(), "key [shape]",
            // in state_dict order: parameters and batch-norm buffers together.
            string[] torchvision = File.ReadAllLines(Golden("efficientnet_b0.state_dict.txt")).Where(l => l.Length > 0).ToArray();
            Assert.Equal(360, torchvision.Length);
            var slots = model.ParameterSlots.Select(s => (Slot: s, Buffer: false)).Concat(model.BufferSlots.Select(s => (Slot: s, Buffer: true))).ToList();
            Assert.Equal(torchvision.OrderBy(k => k, StringComparer.Ordinal),
                slots.Select(s => $"{s.Slot.Key} [{string.Join(", ", s.Slot.Shape)}]").OrderBy(k => k, StringComparer.Ordinal));
            Assert.Equal(torchvision.Where(l => !l.Contains("running_") && !l.Contains("num_batches")).Select(l => l.Substring(0, l.IndexOf(' '))),
                model.ParameterSlots.Select(s => s.Key));

            foreach (var (slot, buffer) in slots)
            {
                var v = Value(slot.Key, slot.Shape);
                v.CopyTo(buffer ? model.Buffers : model.Parameters, slot.Offset);
            }
            var x = Uniform("input", 2 * 3 * 224 * 224).Select(u => (float)u).ToArray();
            var y = new float[2 * 1000];
            sw.Restart();
            model.Forward(x, y, 2);
            _out.WriteLine($"forward, batch 2: {sw.Elapsed.TotalMilliseconds:F0} ms");
            // torchvision's model in eval mode on the same weights and input.
            float[] expected = File.ReadAllLines(Golden("efficientnet_b0.logits.txt")).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
            double max = 0;
            for (int i = 0; i < y.Length; i++) max = Math.Max(max, Math.Abs(y[i] - expected[i]));
            _out.WriteLine($"max |CnnGen − torchvision| = {max:G3} (logits up to {expected.Max(Math.Abs):F2})");
            Assert.True(max < 1e-4, $"max |CnnGen − torchvision| = {max:G3}");
        }
    }
}

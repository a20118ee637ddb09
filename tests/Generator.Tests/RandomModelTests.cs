using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using CnnGen.Runtime.Tests.Reference;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Property test: random valid architectures (seeded), compiled with the generator, checked against the float64
    /// reference (tests/Runtime.Tests/Reference, linked into this project): inference forward for a batch of 3 and one
    /// sample, training-mode forward (dropout disabled), and backward (input gradient, every parameter gradient).
    /// </summary>
    public class RandomModelTests
    {
        private readonly ITestOutputHelper _out;
        public RandomModelTests(ITestOutputHelper output) { _out = output; }

        private const int Batch = 3;
        public const int ModelCount = 25;

        /// <summary>Models the property test draws: 25, or $CNNGEN_RANDOM_MODELS for a longer fuzzing run (seeds from $CNNGEN_RANDOM_SEED, default 0).</summary>
        private static int Count => int.TryParse(Environment.GetEnvironmentVariable("CNNGEN_RANDOM_MODELS"), out int n) && n > 0 ? n : ModelCount;
        private static int FirstSeed => int.TryParse(Environment.GetEnvironmentVariable("CNNGEN_RANDOM_SEED"), out int s) ? s : 0;

        // ------------------------------------------------------------------ architecture sampler

        /// <summary>One drawn architecture: the attribute text (for the generator and the reference) and a one-line description.</summary>
        internal sealed record Architecture(int Seed, string Input, IReadOnlyList<string> Layers)
        {
            public string Attributes => Input + " " + string.Join(" ", Layers);
        }

        private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

        private static int OutSize(int input, int kernel, int stride, int padding, int dilation) =>
            (input + 2 * padding - dilation * (kernel - 1) - 1) is var span && span < 0 ? 0 : span / stride + 1;

        /// <summary>Every output position of a pooling window touches at least one real input (no all-padding window).</summary>
        private static bool WindowsTouchInput(int input, int output, int kernel, int stride, int padding, int dilation)
        {
            for (int o = 0; o < output; o++)
            {
                bool any = false;
                for (int k = 0; k < kernel && !any; k++)
                {
                    int i = o * stride - padding + k * dilation;
                    any = i >= 0 && i < input;
                }
                if (!any) return false;
            }
            return true;
        }

        /// <summary>"Name = h" when both dimensions agree, else "NameHeight = h, NameWidth = w"; nothing for the default.</summary>
        private static void Pair(List<string> args, string name, int h, int w, int dflt, Random r)
        {
            if (h == w)
            {
                if (h != dflt || r.Next(4) == 0) args.Add($"{name} = {I(h)}");
            }
            else if (r.Next(2) == 0 || w == 0) // an override of 0 would mean "not set"
            {
                args.Add($"{name}Height = {I(h)}");
                args.Add($"{name}Width = {I(w)}");
            }
            else
            {
                // The square value for one dimension, an override for the other.
                args.Add($"{name} = {I(h)}");
                args.Add($"{name}Width = {I(w)}");
            }
        }

        internal static Architecture Draw(int seed)
        {
            var r = new Random(seed * 7919 + 17);
            var layers = new List<string>();
            int c = r.Next(1, 5), h = r.Next(4, 21), w = r.Next(4, 21);
            string input = $"[Input({I(c)}, {I(h)}, {I(w)})]";
            int features = 0;

            string Activation()
            {
                switch (r.Next(7))
                {
                    case 0: case 1: return "[ReLU]";
                    case 2: return r.Next(2) == 0 ? "[LeakyReLU]" : $"[LeakyReLU({(r.Next(2) == 0 ? "0.2" : "0.05")})]";
                    case 3: return r.Next(2) == 0 ? "[ELU]" : "[ELU(0.5)]";
                    case 4: return "[Sigmoid]";
                    default: return "[Tanh]";
                }
            }

            int spatialOps = r.Next(1, 6);
            for (int s = 0; s < spatialOps; s++)
            {
                int kind = r.Next(10);
                if (kind < 4)
                {
                    // Conv2d: groups divide both channel counts.
                    for (int attempt = 0; attempt < 20; attempt++)
                    {
                        var divisors = Enumerable.Range(1, c).Where(d => c % d == 0).ToArray();
                        int groups = r.Next(2) == 0 ? 1 : divisors[r.Next(divisors.Length)];
                        int outC = groups * r.Next(1, Math.Max(2, 12 / groups) + 1);
                        int kh = r.Next(1, 5), kw = r.Next(3) == 0 ? r.Next(1, 5) : kh;
                        int sh = r.Next(1, 3), sw = r.Next(4) == 0 ? r.Next(1, 3) : sh;
                        int ph = r.Next(0, 3), pw = r.Next(4) == 0 ? r.Next(0, 3) : ph;
                        int dh = r.Next(4) == 0 ? 2 : 1, dw = r.Next(4) == 0 ? r.Next(1, 3) : dh;
                        int oh = OutSize(h, kh, sh, ph, dh), ow = OutSize(w, kw, sw, pw, dw);
                        if (oh < 1 || ow < 1) continue;
                        var args = new List<string> { I(c), I(outC), I(kh) };
                        if (kw != kh) args.Add($"KernelWidth = {I(kw)}");
                        else if (r.Next(6) == 0) { args.Add($"KernelHeight = {I(kh)}"); args.Add($"KernelWidth = {I(kw)}"); }
                        Pair(args, "Stride", sh, sw, 1, r);
                        Pair(args, "Padding", ph, pw, 0, r);
                        Pair(args, "Dilation", dh, dw, 1, r);
                        if (groups != 1 || r.Next(5) == 0) args.Add($"Groups = {I(groups)}");
                        if (r.Next(3) == 0) args.Add("Bias = false");
                        layers.Add($"[Conv2d({string.Join(", ", args)})]");
                        (c, h, w) = (outC, oh, ow);
                        if (r.Next(3) != 0) layers.Add(Activation());
                        break;
                    }
                }
                else if (kind < 7)
                {
                    bool max = r.Next(2) == 0;
                    for (int attempt = 0; attempt < 20; attempt++)
                    {
                        int kh = r.Next(1, 4), kw = r.Next(3) == 0 ? r.Next(1, 4) : kh;
                        bool defaultStride = r.Next(2) == 0;
                        int sh = defaultStride ? kh : r.Next(1, 3), sw = defaultStride ? kw : (r.Next(3) == 0 ? r.Next(1, 3) : sh);
                        int ph = r.Next(0, kh / 2 + 1), pw = r.Next(0, kw / 2 + 1);
                        int dh = max && r.Next(4) == 0 ? 2 : 1, dw = max && r.Next(4) == 0 ? 2 : 1;
                        int oh = OutSize(h, kh, sh, ph, dh), ow = OutSize(w, kw, sw, pw, dw);
                        if (oh < 1 || ow < 1) continue;
                        if (!WindowsTouchInput(h, oh, kh, sh, ph, dh) || !WindowsTouchInput(w, ow, kw, sw, pw, dw)) continue;
                        var args = new List<string> { I(kh) };
                        if (kw != kh) args.Add($"KernelWidth = {I(kw)}");
                        if (!defaultStride) Pair(args, "Stride", sh, sw, -1, r);
                        Pair(args, "Padding", ph, pw, 0, r);
                        if (max) Pair(args, "Dilation", dh, dw, 1, r);
                        layers.Add($"[{(max ? "MaxPool2d" : "AvgPool2d")}({string.Join(", ", args)})]");
                        (h, w) = (oh, ow);
                        break;
                    }
                }
                else if (kind < 9)
                {
                    layers.Add(Activation());
                }
                else
                {
                    layers.Add(r.Next(3) == 0 ? "[Dropout(0.2)]" : r.Next(2) == 0 ? "[Dropout2d(0.25)]" : "[Dropout2d]");
                }
            }

            if (r.Next(6) != 0)
            {
                layers.Add("[Flatten]");
                features = c * h * w;
                int linears = r.Next(0, 3);
                for (int l = 0; l < linears; l++)
                {
                    int outF = r.Next(1, 13);
                    string inText = r.Next(3) == 0 && h > 1 && l == 0 ? $"{I(c)} * {I(h)} * {I(w)}" : I(features);
                    layers.Add(r.Next(3) == 0 ? $"[Linear({inText}, {I(outF)}, Bias = false)]" : $"[Linear({inText}, {I(outF)})]");
                    features = outF;
                    if (l < linears - 1 || r.Next(3) == 0)
                    {
                        if (r.Next(3) != 0) layers.Add(Activation());
                        if (r.Next(3) == 0) layers.Add(r.Next(2) == 0 ? "[Dropout(0.5)]" : "[Dropout(0.1)]");
                    }
                }
                int head = r.Next(5);
                if (head == 0) layers.Add("[Softmax]");
                else if (head == 1) layers.Add("[LogSoftmax]");
            }
            return new Architecture(seed, input, layers);
        }

        // ------------------------------------------------------------------ compile and load

        private static string Source(Architecture a, string className)
        {
            var sb = new StringBuilder();
            sb.AppendLine("using CnnGen;");
            sb.AppendLine("namespace RandomModels");
            sb.AppendLine("{");
            sb.AppendLine("    [Model]");
            sb.AppendLine("    " + a.Input);
            foreach (var layer in a.Layers) sb.AppendLine("    " + layer);
            sb.AppendLine($"    public partial class {className} {{ }}");
            sb.AppendLine("}");
            return sb.ToString();
        }

        /// <summary>Runs the generator, asserts a clean compilation, emits with optimizations (as a consumer's Release build).</summary>
        private static Assembly Compile(string source, List<string> problems)
        {
            var result = GeneratorHarness.Run(source);
            var gen = result.GeneratorDiagnostics.ToList();
            var errors = result.Errors.ToList();
            if (gen.Count > 0) problems.Add("generator diagnostics:\n  " + string.Join("\n  ", gen));
            if (errors.Count > 0) problems.Add("compilation errors:\n  " + string.Join("\n  ", errors.Take(10)));
            if (problems.Count > 0) return null!;
            var release = result.Output.WithOptions(result.Output.Options.WithOptimizationLevel(OptimizationLevel.Release));
            using var ms = new MemoryStream();
            var emit = release.Emit(ms);
            if (!emit.Success)
            {
                problems.Add("emit failed:\n  " + string.Join("\n  ", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
                return null!;
            }
            ms.Position = 0;
            return new AssemblyLoadContext(null, isCollectible: true).LoadFromStream(ms);
        }

        // ------------------------------------------------------------------ comparison

        /// <summary>max |a − e| over the tensor, relative to max |e| (floored at 1e-6): the scale-aware error of ParityTests.</summary>
        private static void Compare(List<string> problems, string what, ReadOnlySpan<float> actual, double[] expected, double tolerance)
        {
            if (actual.Length < expected.Length)
            {
                problems.Add($"{what}: {actual.Length} values, expected {expected.Length}");
                return;
            }
            double maxErr = 0, scale = 0;
            int worst = -1;
            for (int i = 0; i < expected.Length; i++)
            {
                double err = Math.Abs(actual[i] - expected[i]);
                if (double.IsNaN(err)) err = double.PositiveInfinity;
                if (err > maxErr) { maxErr = err; worst = i; }
                scale = Math.Max(scale, Math.Abs(expected[i]));
            }
            double rel = maxErr / Math.Max(scale, 1e-6);
            if (!(rel <= tolerance))
                problems.Add($"{what}: relative error {rel:E2} > {tolerance:E0} (worst at [{worst}]: {actual[worst]:R} vs {expected[worst]:R}; max |expected| {scale:E2})");
        }

        private static double[] D(ReadOnlySpan<float> s)
        {
            var d = new double[s.Length];
            for (int i = 0; i < s.Length; i++) d[i] = s[i];
            return d;
        }

        /// <summary>Checks one architecture; returns the problems found (empty when it matches the reference).</summary>
        internal static List<string> Check(Architecture a, string className)
        {
            var problems = new List<string>();
            RefModel reference;
            try { reference = RefModel.FromAttributes(a.Attributes); }
            catch (Exception e) { problems.Add("the reference rejects the drawn architecture (sampler bug): " + e.Message); return problems; }

            var asm = Compile(Source(a, className), problems);
            if (asm is null) return problems;
            var type = asm.GetType("RandomModels." + className)!;
            var model = (ICnnModel)Activator.CreateInstance(type, new object[] { 0 })!;

            // Shapes and parameter layout.
            if (model.InputSize != reference.InputSize) problems.Add($"InputSize {model.InputSize}, reference {reference.InputSize}");
            if (model.OutputSize != reference.OutputSize) problems.Add($"OutputSize {model.OutputSize}, reference {reference.OutputSize}");
            if (model.ParameterCount != reference.ParameterCount) problems.Add($"ParameterCount {model.ParameterCount}, reference {reference.ParameterCount}");
            if (model.Parameters.Length != reference.ParameterCount) problems.Add($"Parameters.Length {model.Parameters.Length}, reference {reference.ParameterCount}");
            var slots = model.ParameterSlots;
            if (slots.Length != reference.Parameters.Count)
                problems.Add($"{slots.Length} parameter slots, reference {reference.Parameters.Count}");
            else
                for (int i = 0; i < slots.Length; i++)
                {
                    var e = reference.Parameters[i];
                    if (slots[i].Key != e.Key || !slots[i].Shape.SequenceEqual(e.Shape) || slots[i].Offset != e.Offset)
                        problems.Add($"slot {i}: {slots[i].Key} [{string.Join(", ", slots[i].Shape)}] @{slots[i].Offset}, reference {e.Key} {e.ShapeText} @{e.Offset}");
                }
            if (problems.Count > 0) return problems;

            // Random parameters (±1.5/√fan_in for weights, ±0.5 for biases) and inputs.
            var rng = new Rng(a.Seed + 1000);
            var p = model.Parameters;
            foreach (var slot in slots)
            {
                int fanIn = slot.Shape.Length > 1 ? slot.Shape.Skip(1).Aggregate(1, (x, y) => x * y) : 0;
                float bound = fanIn > 0 ? 1.5f / MathF.Sqrt(fanIn) : 0.5f;
                for (int i = 0; i < slot.ElementCount; i++) p[slot.Offset + i] = rng.Uniform(-bound, bound);
            }
            var input = new float[Batch * model.InputSize];
            for (int i = 0; i < input.Length; i++) input[i] = rng.Uniform(-1f, 1f);
            var gradOut = new float[Batch * model.OutputSize];
            for (int i = 0; i < gradOut.Length; i++) gradOut[i] = rng.Uniform(-1f, 1f);

            var pass = reference.Forward(D(input), Batch, D(p));
            var (refDx, refDp) = reference.Backward(pass, D(gradOut));
            double[] refOut = pass.Output.Data;

            // Inference, batched and one sample.
            try
            {
                var output = new float[Batch * model.OutputSize];
                model.Forward(input, output, Batch);
                Compare(problems, "Forward (batch 3)", output, refOut, 1e-4);
                var one = new float[model.OutputSize];
                model.Forward(input.AsSpan(model.InputSize, model.InputSize), one);
                Compare(problems, "Forward (sample 1 alone)", one, refOut.AsSpan(model.OutputSize, model.OutputSize).ToArray(), 1e-4);
            }
            catch (Exception e) { problems.Add("Forward threw " + e); }

            // A large batch (inference may run it in chunks): every sample as when run alone.
            try
            {
                const int big = 67;
                var xs = new float[big * model.InputSize];
                for (int i = 0; i < xs.Length; i++) xs[i] = rng.Uniform(-1f, 1f);
                var ys = new float[big * model.OutputSize];
                model.Forward(xs, ys, big);
                var one = new float[model.OutputSize];
                for (int b = 0; b < big && problems.Count == 0; b++)
                {
                    model.Forward(xs.AsSpan(b * model.InputSize, model.InputSize), one);
                    Compare(problems, $"Forward (batch {big}) sample {b} vs alone", ys.AsSpan(b * model.OutputSize, model.OutputSize), D(one), 1e-5);
                }
            }
            catch (Exception e) { problems.Add("Forward (batch 67) threw " + e); }

            // Training: forward with dropout disabled, then backward.
            try
            {
                var ws = model.CreateWorkspace(Batch + 1, 5);
                ws.DropoutEnabled = false;
                var output = new float[Batch * model.OutputSize];
                model.ForwardTrain(ws, input, output, Batch);
                Compare(problems, "ForwardTrain", output, refOut, 1e-4);
                var grads = new float[model.ParameterCount];
                var dx = new float[Batch * model.InputSize];
                model.Backward(ws, gradOut, grads, dx);
                Compare(problems, "input gradient", dx, refDx, 1e-3);
                foreach (var slot in slots)
                    Compare(problems, "grad " + slot.Key, grads.AsSpan(slot.Offset, slot.ElementCount), refDp.AsSpan(slot.Offset, slot.ElementCount).ToArray(), 1e-3);

                // Backward without an input gradient gives the same parameter gradients (added again: 2x).
                model.ForwardTrain(ws, input, output, Batch);
                model.Backward(ws, gradOut, grads, Span<float>.Empty);
                var twice = refDp.Select(v => 2 * v).ToArray();
                Compare(problems, "accumulated parameter gradients (2 passes, second without input gradient)", grads, twice, 1e-3);
            }
            catch (Exception e) { problems.Add("training threw " + e); }

            // The same workspace with a smaller batch (the saved activations are laid out per batch size).
            try
            {
                const int small = 2;
                var pass2 = reference.Forward(D(input.AsSpan(0, small * model.InputSize)), small, D(p));
                var (refDx2, refDp2) = reference.Backward(pass2, D(gradOut.AsSpan(0, small * model.OutputSize)));
                var ws = model.CreateWorkspace(Batch + 1, 6);
                ws.DropoutEnabled = false;
                var output = new float[Batch * model.OutputSize];
                model.ForwardTrain(ws, input, output, Batch);
                model.ForwardTrain(ws, input.AsSpan(0, small * model.InputSize), output, small);
                Compare(problems, "ForwardTrain (batch 2 after 3)", output.AsSpan(0, small * model.OutputSize), pass2.Output.Data, 1e-4);
                var grads = new float[model.ParameterCount];
                var dx = new float[small * model.InputSize];
                model.Backward(ws, gradOut.AsSpan(0, small * model.OutputSize), grads, dx);
                Compare(problems, "input gradient (batch 2)", dx, refDx2, 1e-3);
                Compare(problems, "parameter gradients (batch 2)", grads, refDp2, 1e-3);
            }
            catch (Exception e) { problems.Add("training with batch 2 threw " + e); }

            // A large training batch: outputs and input gradients per sample, parameter gradients summed, as when
            // every sample runs alone.
            try
            {
                const int big = 67;
                var xs = new float[big * model.InputSize];
                for (int i = 0; i < xs.Length; i++) xs[i] = rng.Uniform(-1f, 1f);
                var dys = new float[big * model.OutputSize];
                for (int i = 0; i < dys.Length; i++) dys[i] = rng.Uniform(-1f, 1f);
                var ws = model.CreateWorkspace(big, 7);
                ws.DropoutEnabled = false;
                var ys = new float[big * model.OutputSize];
                var grads = new float[model.ParameterCount];
                var dxs = new float[big * model.InputSize];
                model.ForwardTrain(ws, xs, ys, big);
                model.Backward(ws, dys, grads, dxs);

                var ws1 = model.CreateWorkspace(1, 7);
                ws1.DropoutEnabled = false;
                var y1 = new float[model.OutputSize];
                var dx1 = new float[model.InputSize];
                var sum = new double[model.ParameterCount];
                var g1 = new float[model.ParameterCount];
                for (int b = 0; b < big && problems.Count == 0; b++)
                {
                    model.ForwardTrain(ws1, xs.AsSpan(b * model.InputSize, model.InputSize), y1, 1);
                    Array.Clear(g1);
                    model.Backward(ws1, dys.AsSpan(b * model.OutputSize, model.OutputSize), g1, dx1);
                    for (int i = 0; i < g1.Length; i++) sum[i] += g1[i];
                    Compare(problems, $"ForwardTrain (batch {big}) sample {b} vs alone", ys.AsSpan(b * model.OutputSize, model.OutputSize), D(y1), 1e-5);
                    Compare(problems, $"input gradient (batch {big}) sample {b} vs alone", dxs.AsSpan(b * model.InputSize, model.InputSize), D(dx1), 1e-4);
                }
                Compare(problems, $"parameter gradients (batch {big}) vs sum of single samples", grads, sum, 1e-4);
            }
            catch (Exception e) { problems.Add($"training with batch 67 threw " + e); }
            return problems;
        }

        // ------------------------------------------------------------------ the tests

        [Fact]
        public void Sampler_IsDeterministicAndReferenceAcceptsEveryDraw()
        {
            for (int s = 0; s < ModelCount; s++)
            {
                var a = Draw(s);
                Assert.Equal(a.Attributes, Draw(s).Attributes);
                var m = RefModel.FromAttributes(a.Attributes);
                Assert.True(m.OutputSize >= 1, a.Attributes);
            }
            // The draws cover what they should.
            string all = string.Join(" ", Enumerable.Range(0, ModelCount).Select(s => Draw(s).Attributes));
            foreach (var needed in new[] { "Conv2d", "MaxPool2d", "AvgPool2d", "Linear", "Flatten", "Groups = ", "Bias = false", "KernelWidth", "StrideWidth", "PaddingHeight", "DilationHeight", "Padding", "Dilation", "Dropout2d", "Dropout(", "Softmax", "LogSoftmax", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh" })
                Assert.Contains(needed, all);
        }

        /// <summary>Hand-picked corners the sampler rarely or never draws.</summary>
        public static TheoryData<string> EdgeArchitectures => new()
        {
            "[Input(1, 1, 1)] [Flatten] [Linear(1, 1)]",
            "[Input(2, 3, 3)] [Flatten]",
            "[Input(2, 3, 3)] [Flatten] [Flatten] [Softmax]",
            "[Input(2, 3, 3)] [Flatten] [Linear(18, 1)] [Softmax]",
            "[Input(1, 5, 5)] [Dropout(0.5)] [Dropout2d(0.5)]",
            "[Input(3, 8, 8)] [Conv2d(3, 3, 8)]",
            "[Input(3, 8, 8)] [Conv2d(3, 5, 8)] [Flatten] [LogSoftmax]",
            "[Input(1, 30, 30)] [Conv2d(1, 64, 3)] [ReLU] [MaxPool2d(2)] [Conv2d(64, 16, 3, Padding = 1)]",
            "[Input(1, 40, 40)] [Flatten] [Linear(1600, 100)] [ReLU] [Linear(100, 33)] [LogSoftmax]",
            "[Input(4, 9, 9)] [Conv2d(4, 8, 3, Groups = 4, Padding = 1)] [ELU]",
            "[Input(16, 6, 6)] [Conv2d(16, 32, 3, Groups = 8)] [Sigmoid] [Conv2d(32, 32, 1, Groups = 32)]",
            "[Input(2, 9, 9)] [MaxPool2d(3, Stride = 1, Padding = 1)] [AvgPool2d(3, Stride = 1, Padding = 1)]",
            "[Input(3, 5, 7)] [AvgPool2d(5, KernelWidth = 7)] [Flatten] [Linear(3, 2)]",
            "[Input(3, 5, 7)] [MaxPool2d(5, KernelWidth = 7)] [Flatten] [Softmax]",
            "[Input(1, 3, 3)] [Conv2d(1, 2, 1, Padding = 3)]",
            "[Input(2, 12, 12)] [Conv2d(2, 4, 7, Padding = 3)] [Tanh] [Conv2d(4, 4, 5, Stride = 3, Dilation = 2, Padding = 4)]",
            "[Input(1, 7, 33)] [Conv2d(1, 9, 1, KernelHeight = 7, KernelWidth = 1)] [LeakyReLU(0.3)]",
            "[Input(2, 8, 8)] [Conv2d(2, 4, 3, Name = \"features.0\")] [ReLU] [Flatten] [Linear(144, 3, Name = \"classifier\")]",
            "[Input(1, 28, 28)] [Conv2d(1, 16, 3)] [ReLU] [MaxPool2d(2, Stride = 2, Padding = 1)] [Conv2d(16, 32, 3)] [ReLU] [MaxPool2d(2, Stride = 2, Padding = 1)] [Flatten] [Linear(7 * 7 * 32, 32)] [ReLU] [Dropout(0.3)] [Linear(32, 10)]",
        };

        [Theory]
        [MemberData(nameof(EdgeArchitectures))]
        public void EdgeModels_MatchFloat64Reference(string attributes)
        {
            int split = attributes.IndexOf("] [", StringComparison.Ordinal);
            string input = split < 0 ? attributes : attributes[..(split + 1)];
            var layers = split < 0 ? new List<string>() : attributes[(split + 2)..].Split(" [").Select(l => l.StartsWith('[') ? l : "[" + l).ToList();
            var a = new Architecture(attributes.GetHashCode(StringComparison.Ordinal) & 0xfff, input, layers);
            Assert.Equal(attributes, a.Attributes);
            var problems = Check(a, "Edge");
            Assert.True(problems.Count == 0, attributes + "\n  " + string.Join("\n  ", problems));
        }

        [Fact]
        public void RandomModels_MatchFloat64Reference()
        {
            var failures = new List<string>();
            var sw = Stopwatch.StartNew();
            for (int s = FirstSeed; s < FirstSeed + Count; s++)
            {
                var a = Draw(s);
                var t0 = sw.Elapsed;
                List<string> problems;
                try { problems = Check(a, "Random" + s); }
                catch (Exception e) { problems = new List<string> { "threw " + e }; }
                _out.WriteLine($"#{s} ({(sw.Elapsed - t0).TotalSeconds:F1} s) {a.Attributes}: {(problems.Count == 0 ? "ok" : "FAILED")}");
                if (problems.Count > 0)
                {
                    string text = $"model #{s}: [Model] {a.Attributes}\n    " + string.Join("\n    ", problems);
                    _out.WriteLine("    " + string.Join("\n    ", problems));
                    failures.Add(text);
                }
            }
            _out.WriteLine($"{Count} models in {sw.Elapsed.TotalSeconds:F1} s");
            Assert.True(failures.Count == 0, $"{failures.Count} of {Count} random models disagree with the reference:\n" + string.Join("\n", failures));
        }
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Numerics;
using System.Text;
using CsCheck;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Property test (CsCheck): random model declarations, valid and invalid (sequential layers, [Block]s used by
    /// Residual / Sequential, squeeze-excitation, nesting, huge and tiny numbers, NaN / Infinity / 1e308, odd names,
    /// duplicate names, unsupported declaration shapes, user attributes named like CnnGen's), each compiled in memory with
    /// the generator. For every case: no generator exception or CS8785, no CNN0079, no error located in generated code,
    /// every CNN diagnostic in the user's file, a rejected model has a CNN error, an accepted model compiles with no error
    /// and its ParameterCount equals the count this test computes from the declaration itself; each case within a time and
    /// allocation bound. <see cref="Cases"/> cases per run ($CNNGEN_FUZZ_CASES for a long run); a failure prints the
    /// case's seed and its source, and $CNNGEN_FUZZ_SEED replays the run (tests/README.md).
    /// </summary>
    public class FuzzDeclarationTests
    {
        private readonly ITestOutputHelper _out;
        public FuzzDeclarationTests(ITestOutputHelper output) { _out = output; }

        private const int DefaultCases = 150;
        private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("CNNGEN_FUZZ_CASES"), out int n) && n > 0 ? n : DefaultCases;
        private static string? Seed => Environment.GetEnvironmentVariable("CNNGEN_FUZZ_SEED") is { Length: > 0 } s ? s : null;

        /// <summary>Bounds per case: wall time (loaded 2-core CI box) and bytes allocated by the thread running the generator.</summary>
        private static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(60);
        private const long MaxAllocated = 3L << 30;

        [Fact]
        public void RandomDeclarations_NeverBreakTheGenerator()
        {
            int ran = 0, accepted = 0;
            var ids = new SortedDictionary<string, int>(StringComparer.Ordinal);
            // The int drawn is the case's own seed: the declaration sampler below is deterministic in it, so the failing
            // value CsCheck prints is enough to rebuild the case (FuzzDeclarationTests.Case(seed).Source).
            Gen.Int[0, int.MaxValue].Sample(seed =>
            {
                var c = Case(seed);
                var (ok, cnn) = Check(c);
                lock (ids)
                {
                    ran++;
                    if (ok) accepted++;
                    foreach (var id in cnn) ids[id] = ids.TryGetValue(id, out int k) ? k + 1 : 1;
                }
            }, seed: Seed, iter: Cases, threads: 1, print: s => $"case seed {s}:\n{Case(s).Source}");
            _out.WriteLine($"{ran} cases, {accepted} accepted; CNN ids reported: " + string.Join(", ", ids.Select(kv => kv.Key + "×" + kv.Value)));
            // The sampler must reach both outcomes, or the property says little.
            Assert.True(accepted >= ran / 5, $"only {accepted} of {ran} cases were accepted");
            Assert.True(ran - accepted >= ran / 5, $"only {ran - accepted} of {ran} cases were rejected");
        }

        /// <summary>Runs one case and asserts the property; returns whether the model was accepted and the CNN ids reported.</summary>
        private static (bool Accepted, string[] Ids) Check(FuzzCase c)
        {
            var sw = Stopwatch.StartNew();
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            var compilation = GeneratorHarness.CreateCompilation(c.Source);
            var driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var genDiags);
            var run = driver.GetRunResult();
            string Context() => $"\n--- case ---\n{c.Source}";
            foreach (var r in run.Results) Assert.True(r.Exception is null, "generator exception: " + r.Exception + Context());
            var generatedTrees = run.GeneratedTrees.ToHashSet();
            long generatedChars = run.GeneratedTrees.Sum(t => (long)t.Length);
            var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            var elapsed = sw.Elapsed;
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

            Assert.DoesNotContain(genDiags.Concat(errors), d => d.Id == "CS8785");
            Assert.DoesNotContain(genDiags, d => d.Id == "CNN0079");
            var inGenerated = errors.Where(d => d.Location.SourceTree is { } t && generatedTrees.Contains(t)).ToList();
            Assert.True(inGenerated.Count == 0, "errors in generated code:\n" + string.Join("\n", inGenerated.Take(5)) + Context());
            var cnn = genDiags.Where(d => d.Id.StartsWith("CNN", StringComparison.Ordinal)).ToList();
            Assert.True(cnn.All(d => d.Location.GetLineSpan().Path == "Model.cs"), "a CNN diagnostic outside the user's file:\n" + string.Join("\n", cnn) + Context());
            Assert.True(elapsed < MaxTime, $"took {elapsed.TotalSeconds:F1} s" + Context());
            Assert.True(allocated < MaxAllocated, $"allocated {allocated >> 20} MiB" + Context());
            Assert.True(generatedChars < 8_000_000, $"generated {generatedChars} characters" + Context());

            var model = output.GetTypeByMetadataName("T.M");
            var count = model?.GetMembers("ParameterCount").OfType<IFieldSymbol>().FirstOrDefault(f => f.IsConst);
            bool rejected = cnn.Any(d => d.Severity == DiagnosticSeverity.Error);
            if (rejected)
            {
                // Rejected: the user sees CNN errors in their own file (checked above) and no others in generated code.
                return (false, cnn.Select(d => d.Id).Distinct().ToArray());
            }
            Assert.True(errors.Count == 0, "accepted model does not compile:\n" + string.Join("\n", errors.Take(5)) + Context());
            Assert.True(count != null, "accepted model has no ParameterCount" + Context());
            Assert.Equal(c.Parameters, new BigInteger(Convert.ToInt64(count!.ConstantValue, CultureInfo.InvariantCulture)));
            return (true, Array.Empty<string>());
        }

        // ------------------------------------------------------------------ the declaration sampler

        /// <summary>One drawn case: the source (one file: blocks and model T.M) and the parameter count its layers declare.</summary>
        internal sealed record FuzzCase(int Seed, string Source, BigInteger Parameters);

        /// <summary>A layer attribute as text, and the parameters it declares (counted here, from the arguments written).</summary>
        private sealed record Layer(string Text, BigInteger Parameters);

        private static readonly int[] OddInts = { 0, -1, 1, 2, int.MaxValue, int.MaxValue - 1, 1073741823, 1073741824, 46341, 65536, 4097, int.MinValue };

        private static readonly string[] OddDoubles =
        {
            "double.NaN", "double.PositiveInfinity", "double.NegativeInfinity", "1e308", "-1e308", "1e-50", "0", "1", "0.9999999999",
            "3.5e38", "-3.5e38", "1e-46", "0.5", "-0.5", "2",
        };

        private static readonly string[] OddNames =
        {
            "conv1", "features.0", "a.b.c", "", ".", "a..b", "a.", ".a", "x\"y", "back\\slash", "\u00fcn\u00efcode", "with space", "0", "1", "a\nb",
            "dup", "dup", "tab\t", "\"); System.Console.WriteLine(\"", new string('n', 101), new string('k', 100), "_", "9lives",
        };

        /// <summary>Counts are exact (BigInteger): odd arguments make counts beyond any integer type, which the generator must reject.</summary>
        private static BigInteger Total(IEnumerable<Layer> layers) => layers.Aggregate(BigInteger.Zero, (a, l) => a + l.Parameters);

        private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

        /// <summary>A C# string literal for any string (the declarations must be valid C#: the odd values are the payload).</summary>
        private static string Lit(string s)
        {
            var sb = new StringBuilder("\"");
            foreach (char ch in s)
            {
                if (ch == '"' || ch == '\\') sb.Append('\\').Append(ch);
                else if (ch < ' ' || ch > '~') sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                else sb.Append(ch);
            }
            return sb.Append('"').ToString();
        }

        /// <summary>The case drawn from <paramref name="seed"/> (deterministic).</summary>
        internal static FuzzCase Case(int seed)
        {
            var r = new Random(seed);
            var s = new Sampler(r);
            return s.Build(seed);
        }

        private sealed class Sampler
        {
            private readonly Random _r;
            private readonly StringBuilder _blocks = new();
            private int _blockCount;
            private readonly double _odd; // how often an argument is replaced by an odd value

            public Sampler(Random r)
            {
                _r = r;
                _odd = r.Next(3) switch { 0 => 0.0, 1 => 0.03, _ => 0.12 };
            }

            private bool Chance(double p) => _r.NextDouble() < p;

            private int Int(int lo, int hi) => Chance(_odd) ? OddInts[_r.Next(OddInts.Length)] : _r.Next(lo, hi + 1);

            private string Double(double lo, double hi) =>
                Chance(_odd) ? OddDoubles[_r.Next(OddDoubles.Length)] : Math.Round(lo + _r.NextDouble() * (hi - lo), 3).ToString("R", CultureInfo.InvariantCulture);

            private string NameArg() => Chance(_odd > 0 ? 0.25 : 0.1) ? $", Name = {Lit(_odd > 0 ? OddNames[_r.Next(OddNames.Length)] : "n" + _r.Next(6))}" : "";

            /// <summary>Attribute arguments: the positional ones, then the named ones (with a leading comma each).</summary>
            private static string Attr(string name, string args, string named) =>
                "[" + name + (args.Length + named.Length == 0 ? "" : "(" + (args.Length == 0 ? named.TrimStart(',', ' ') : args + named) + ")") + "]";

            public FuzzCase Build(int seed)
            {
                int c = Int(1, 3), h = Int(3, 10), w = Int(3, 10);
                var layers = Chain(c, h, w, _r.Next(1, 7), depth: 0, out _);
                var sb = new StringBuilder("using CnnGen;\n");
                string declaration = Declaration(out string members, out string outside);
                sb.Append(outside);
                sb.Append("namespace T\n{\n");
                sb.Append(_blocks);
                sb.Append("    [Model]\n");
                sb.Append($"    [Input({I(c)}, {I(h)}, {I(w)})]\n");
                foreach (var l in layers) sb.Append("    ").Append(l.Text).Append('\n');
                sb.Append("    ").Append(declaration).Append("\n    {\n").Append(members).Append("    }\n}\n");
                return new FuzzCase(seed, sb.ToString(), Total(layers));
            }

            /// <summary>The class declaration: usually a plain partial class, sometimes a shape CnnGen must refuse or accept.</summary>
            private string Declaration(out string members, out string outside)
            {
                members = "";
                outside = "";
                if (!Chance(_odd > 0 ? 0.3 : 0.05)) return "public partial class M";
                switch (_r.Next(14))
                {
                    case 0: return "public partial record M";
                    case 1: return "public partial record M(int X)";
                    case 2: return "public partial class M(int x)";
                    case 3: return "public partial struct M";
                    case 4: return "public static partial class M";
                    case 5: return "public partial class M<TX>";
                    case 6: members = "        public int InputSize => 1;\n"; break;
                    case 7: members = "        public M(int seed) { }\n"; break;
                    case 8: members = "        public M() { }\n"; break;
                    case 9: members = "        public M(string s) : this(1) { }\n        public void Forward(float[] x) { }\n"; break;
                    case 10: members = "        private int s_slots;\n        private void Conv2d_1_Forward() { }\n"; break;
                    case 11:
                        outside = "namespace CnnGen { public sealed class AddAttribute : System.Attribute { } public sealed class ScaleAttribute : LayerAttribute { } }\n";
                        return "[Add] public partial class M";
                    case 12:
                        outside = "namespace CnnGen { public sealed class BranchBeginAttribute : LayerAttribute { } }\n";
                        return "[BranchBegin] public partial class M";
                    default: return "public abstract partial class M";
                }
                return "public partial class M";
            }

            /// <summary>
            /// Up to <paramref name="count"/> layers for an input [c, h, w] (h = 0: flattened to c features), mostly valid for
            /// the shape reached, with odd values mixed in. <paramref name="outC"/> is the channels (or features) at the end.
            /// </summary>
            private List<Layer> Chain(int c, int h, int w, int count, int depth, out int outC)
            {
                var list = new List<Layer>();
                bool flat = false;
                for (int i = 0; i < count; i++)
                {
                    int k = _r.Next(flat ? 6 : 16);
                    if (flat)
                    {
                        switch (k)
                        {
                            case 0: case 1: case 2:
                            {
                                int o = Int(1, 6);
                                bool bias = !Chance(0.2);
                                list.Add(new Layer(Attr("Linear", $"{I(Chance(0.9) ? c : Int(1, 9))}, {I(o)}", (bias ? "" : ", Bias = false") + NameArg()),
                                    (BigInteger)o * c + (bias ? o : 0)));
                                c = o;
                                break;
                            }
                            case 3: list.Add(new Layer(Attr("Dropout", Double(0, 0.9), NameArg()), 0)); break;
                            case 4: list.Add(new Layer(Attr(Chance(0.5) ? "Softmax" : "LogSoftmax", "", NameArg()), 0)); break;
                            default: list.Add(new Layer(Attr(new[] { "ReLU", "Sigmoid", "Tanh", "SiLU", "Identity" }[_r.Next(5)], "", NameArg()), 0)); break;
                        }
                        continue;
                    }
                    switch (k)
                    {
                        case 0: case 1: case 2:
                        {
                            int o = Int(1, 4), kk = Int(1, 3), g = Chance(0.15) ? c : 1;
                            if (g > 1 && o % g != 0) o = g;
                            bool bias = !Chance(0.2);
                            string named = "";
                            int p = 0, st = 1, dl = 1;
                            if (Chance(0.4)) { p = Int(0, 1); named += $", Padding = {I(p)}"; }
                            if (Chance(0.2)) { st = Int(1, 2); named += $", Stride = {I(st)}"; }
                            if (Chance(0.1)) { dl = Int(1, 2); named += $", Dilation = {I(dl)}"; }
                            if (g > 1) named += $", Groups = {I(g)}";
                            if (!bias) named += ", Bias = false";
                            long inPerGroup = g > 0 ? c / g : 0;
                            list.Add(new Layer(Attr("Conv2d", $"{I(c)}, {I(o)}, {I(kk)}", named + NameArg()), (BigInteger)o * inPerGroup * kk * kk + (bias ? o : 0)));
                            c = o;
                            h = OutSize(h, kk, st, p, dl);
                            w = OutSize(w, kk, st, p, dl);
                            break;
                        }
                        case 3:
                        {
                            int kk = Int(1, 2), p = Chance(0.3) ? Int(0, 1) : 0;
                            string named = p != 0 || Chance(0.1) ? $", Padding = {I(p)}" : "";
                            list.Add(new Layer(Attr(Chance(0.5) ? "MaxPool2d" : "AvgPool2d", I(kk), named + NameArg()), 0));
                            h = OutSize(h, kk, kk, p, 1);
                            w = OutSize(w, kk, kk, p, 1);
                            break;
                        }
                        case 4:
                        {
                            bool affine = !Chance(0.2);
                            string named = (Chance(0.3) ? $", Eps = {Double(1e-6, 1e-3)}" : "") + (Chance(0.2) ? $", Momentum = {Double(0, 1)}" : "")
                                + (affine ? "" : ", Affine = false");
                            list.Add(new Layer(Attr("BatchNorm2d", I(c), named + NameArg()), affine ? (BigInteger)2 * c : 0));
                            break;
                        }
                        case 5: list.Add(new Layer(Attr("LeakyReLU", Chance(0.5) ? Double(-1, 1) : "", NameArg()), 0)); break;
                        case 6: list.Add(new Layer(Attr("ELU", Chance(0.5) ? Double(0, 2) : "", NameArg()), 0)); break;
                        case 7: list.Add(new Layer(Attr("Dropout2d", Double(0, 0.9), NameArg()), 0)); break;
                        case 8:
                        {
                            int red = Chance(0.8) ? 1 : Int(1, 2);
                            BigInteger sq = red > 0 ? c / red : 0;
                            list.Add(new Layer(Attr("SqueezeExcitation", $"{I(c)}, {I(red)}", NameArg()), 2 * sq * c + sq + c));
                            break;
                        }
                        case 9:
                        {
                            // A residual around shape-keeping layers (3×3 convolutions with padding 1), sometimes a projection shortcut.
                            var body = Block(depth, c, () => new Layer(Attr("Conv2d", $"{I(c)}, {I(c)}, 3", ", Padding = 1" + NameArg()), (BigInteger)9 * c * c + c));
                            string shortcut = "";
                            BigInteger sp = 0;
                            if (Chance(0.3))
                            {
                                var sc = Block(depth, c, () => new Layer(Attr("Conv2d", $"{I(c)}, {I(c)}, 1", ", Bias = false" + NameArg()), (BigInteger)c * c));
                                shortcut = $", Shortcut = typeof({sc.Name})";
                                sp = sc.Parameters;
                            }
                            list.Add(new Layer(Attr("Residual", $"typeof({body.Name})", shortcut + (Chance(0.5) ? ", ReLU = true" : "")
                                + (Chance(0.2) ? $", ShortcutName = {Lit(OddNames[_r.Next(OddNames.Length)])}" : "") + NameArg()), body.Parameters + sp));
                            break;
                        }
                        case 10:
                        {
                            var block = Block(depth, c, () => new Layer(Attr(new[] { "ReLU", "Tanh", "Identity" }[_r.Next(3)], "", NameArg()), 0));
                            list.Add(new Layer(Attr("Sequential", $"typeof({block.Name})", NameArg()), block.Parameters));
                            break;
                        }
                        case 11:
                            list.Add(new Layer(Attr("Flatten", "", NameArg()), 0));
                            c = (int)Math.Min(int.MaxValue, (long)c * h * w);
                            flat = true;
                            break;
                        case 12:
                            list.Add(Chance(0.5) ? new Layer(Attr("GlobalAvgPool2d", "", NameArg()), 0) : new Layer(Attr("AdaptiveAvgPool2d", I(Int(1, 1)), NameArg()), 0));
                            h = w = 1;
                            break;
                        case 13:
                            if (_odd > 0 && Chance(0.3))
                            {
                                // Blocks that repeat each other: 2^n layers.
                                int n = _r.Next(11, 17); // 2^11 = 2,048 ReLUs: more than BlockExpansion.MaxLayers
                                string b0 = NewBlock("[ReLU]");
                                string prev = b0;
                                for (int j = 0; j < n; j++) prev = NewBlock($"[Sequential(typeof({prev}))] [Sequential(typeof({prev}))]");
                                list.Add(new Layer($"[Sequential(typeof({prev}))]", 0));
                                break;
                            }
                            goto default;
                        default:
                            list.Add(new Layer(Attr(new[] { "ReLU", "ReLU6", "Sigmoid", "Tanh", "SiLU", "Swish", "Identity" }[_r.Next(7)], "", NameArg()), 0));
                            break;
                    }
                }
                outC = c;
                return list;
            }

            /// <summary>PyTorch's output size (floor mode), at least 1 (a smaller one is rejected anyway, later layers don't matter).</summary>
            private static int OutSize(int input, int kernel, int stride, int padding, int dilation)
            {
                long span = (long)input + 2L * padding - (long)dilation * (kernel - 1) - 1;
                if (span < 0 || stride < 1) return 1;
                return (int)Math.Min(int.MaxValue, span / stride + 1);
            }

            private sealed record BlockRef(string Name, BigInteger Parameters);

            /// <summary>A [Block] of one to three layers drawn by <paramref name="layer"/>, sometimes wrapping a nested Sequential block.</summary>
            private BlockRef Block(int depth, int c, Func<Layer> layer)
            {
                var layers = new List<Layer>();
                int n = _r.Next(1, 4);
                for (int i = 0; i < n; i++) layers.Add(layer());
                if (depth < 2 && Chance(0.3))
                {
                    var inner = Block(depth + 1, c, layer);
                    layers.Add(new Layer($"[Sequential(typeof({inner.Name}){NameArg()})]", inner.Parameters));
                }
                if (Chance(_odd / 2)) layers.Clear(); // an empty block
                string module = Chance(_odd) ? $"(ModuleName = {Lit(OddNames[_r.Next(OddNames.Length)])})" : Chance(0.2) ? "(ModuleName = \"Unit\")" : "";
                string name = NewBlock(string.Join(" ", layers.Select(l => l.Text)), module);
                return new BlockRef(name, Total(layers));
            }

            private string NewBlock(string attributes, string module = "")
            {
                string name = "B" + I(_blockCount++);
                _blocks.Append($"    [Block{module}] {attributes} public partial class {name} {{ }}\n");
                return name;
            }
        }

        /// <summary>The sampler is deterministic: the same seed gives the same case (so a printed seed reproduces a failure).</summary>
        [Fact]
        public void Sampler_IsDeterministic()
        {
            for (int seed = 0; seed < 50; seed++) Assert.Equal(Case(seed), Case(seed));
        }
    }
}

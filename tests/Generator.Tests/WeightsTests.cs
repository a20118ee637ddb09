using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using CnnGen.Generator.Weights;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// [Model(Weights = "...")]: weights compiled in exactly, every malformed or mismatched file a CNN003x error at the
    /// Weights argument (never a crash), and the pipeline's caching with weights files.
    /// The safetensors bytes are written here by hand (<see cref="SafeTensorsBytes"/>), independently of the
    /// generator's reader and of the runtime's writer.
    /// </summary>
    public class WeightsTests
    {
        private readonly ITestOutputHelper _out;
        public WeightsTests(ITestOutputHelper output) { _out = output; }

        // Conv2d(1, 2, 2): weight [2, 1, 2, 2] + bias [2]; input 1x3x3 -> [2, 2, 2] -> 8 features; Linear(8, 3): [3, 8] + [3].
        internal const string Small = @"using CnnGen;
namespace T
{
    [Model(Weights = ""tiny.safetensors"")]
    [Input(1, 3, 3)]
    [Conv2d(1, 2, 2)]
    [ReLU]
    [Flatten]
    [Linear(8, 3)]
    public partial class M { }
}
";
        private const int SmallParameters = 8 + 2 + 24 + 3;

        internal sealed record Tensor(string Name, string DType, long[] Shape, byte[] Data);

        internal static Tensor F32(string name, long[] shape, float[] values)
        {
            var data = new byte[values.Length * 4];
            for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(data.AsSpan(4 * i), values[i]);
            return new Tensor(name, "F32", shape, data);
        }

        /// <summary>A safetensors file: 8-byte little-endian header length, JSON header, data (in the given order).</summary>
        internal static byte[] SafeTensorsBytes(IEnumerable<Tensor> tensors, int truncateBy = 0)
        {
            var json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
            var data = new MemoryStream();
            foreach (var t in tensors)
            {
                long begin = data.Length;
                data.Write(t.Data);
                json.Append(CultureInfo.InvariantCulture, $",\"{t.Name}\":{{\"dtype\":\"{t.DType}\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{begin},{data.Length}]}}");
            }
            json.Append('}');
            byte[] header = Encoding.UTF8.GetBytes(json.ToString());
            var file = new MemoryStream();
            file.Write(BitConverter.GetBytes((ulong)header.Length));
            file.Write(header);
            file.Write(data.ToArray());
            byte[] bytes = file.ToArray();
            return bytes.AsSpan(0, bytes.Length - truncateBy).ToArray();
        }

        /// <summary>The encoded form CnnGen.targets writes (format version 1).</summary>
        internal static string Encode(string source, byte[] bytes) =>
            "cnngen-weights 1\nsource: " + source + "\nlength: " + bytes.Length.ToString(CultureInfo.InvariantCulture) + "\n" +
            Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", "\n") + "\n";

        internal sealed class Text : AdditionalText
        {
            private readonly string _text;
            public Text(string path, string text) { Path = path; _text = text; }
            public override string Path { get; }
            public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(_text, Encoding.UTF8);
        }

        /// <summary>An AdditionalText that must never be read (a raw binary .safetensors item).</summary>
        internal sealed class Unreadable : AdditionalText
        {
            public Unreadable(string path) { Path = path; }
            public override string Path { get; }
            public override SourceText GetText(CancellationToken cancellationToken = default) => throw new InvalidOperationException("the generator read a raw .safetensors file as text");
        }

        /// <summary>The marker CnnGen.targets writes for an AdditionalFiles item whose file does not exist.</summary>
        internal static AdditionalText Missing(string source, string fullPath) =>
            new Text("/proj/obj/cnngen/0/" + Path.GetFileName(source) + ".cnngen-weights", "cnngen-weights 1\nsource: " + source + "\nmissing: " + fullPath + "\n");

        internal static AdditionalText Encoded(string source, byte[] bytes) =>
            new Text("/proj/obj/cnngen/0/" + Path.GetFileName(source) + ".cnngen-weights", Encode(source, bytes));

        private static GeneratorDriver Driver(params AdditionalText[] files) =>
            CSharpGeneratorDriver.Create(new[] { new ModelGenerator().AsSourceGenerator() }, files, GeneratorHarness.ParseOptions, null,
                new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

        internal static GeneratorHarness.Result Run(string source, params AdditionalText[] files) =>
            GeneratorHarness.Run(GeneratorHarness.CreateCompilation(source), files);

        private static float[] Sequence(int n, float scale) => Enumerable.Range(0, n).Select(i => (i - n / 2) * scale).ToArray();

        private static List<Tensor> SmallTensors(float[] all) => new()
        {
            F32("0.weight", new long[] { 2, 1, 2, 2 }, all[..8]),
            F32("0.bias", new long[] { 2 }, all[8..10]),
            F32("3.weight", new long[] { 3, 8 }, all[10..34]),
            F32("3.bias", new long[] { 3 }, all[34..37]),
        };

        // ---- exact values ----------------------------------------------------------------------------

        [Fact]
        public void BakedWeightsAreTheFilesBitsAndTheParameterlessConstructorStartsWithThem()
        {
            // Values a decimal literal could get wrong: -0, the smallest subnormal, float.MaxValue/MinValue/Epsilon
            // neighbours, 0.1 (not exact), 1/3, the largest subnormal and float.MaxValue's neighbour; then ordinary weights.
            // (NaN and infinities are not baked: CNN0048, as LoadWeights rejects them; their literals are FloatLiteralsRoundTrip's.)
            float[] all = Sequence(SmallParameters, 0.0371f);
            float[] special =
            {
                -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, 0.1f, 1f / 3f, BitConverter.Int32BitsToSingle(0x00800000),
                BitConverter.Int32BitsToSingle(0x007FFFFF), BitConverter.Int32BitsToSingle(0x7F7FFFFE), -1e-44f, 16777217f, 1e-38f, -3.4028234e38f, 123456.789f,
            };
            special.CopyTo(all, 0);
            // The file lists the tensors out of model order: the generator places them by key.
            var tensors = SmallTensors(all);
            tensors.Reverse();
            byte[] file = SafeTensorsBytes(tensors);

            var r = Run(Small, Encoded("tiny.safetensors", file));
            Assert.Empty(r.Errors);
            Assert.Contains("public static global::System.ReadOnlySpan<float> BakedWeights => new float[]", r.GeneratedSource);
            Assert.Contains("// 3.weight [3, 8] (Linear-3): 24 values from offset 10", r.GeneratedSource);
            var asm = GeneratorHarness.Load(r);
            var type = asm.GetType("T.M")!;
            object model = Activator.CreateInstance(type)!;
            var parameters = (float[])type.GetProperty("Parameters")!.GetValue(model)!;
            Assert.Equal(SmallParameters, parameters.Length);
            for (int i = 0; i < all.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(all[i]) == BitConverter.SingleToInt32Bits(parameters[i]) || (float.IsNaN(all[i]) && float.IsNaN(parameters[i])),
                    $"parameter {i}: expected {all[i]:R} (0x{BitConverter.SingleToInt32Bits(all[i]):x8}), got {parameters[i]:R} (0x{BitConverter.SingleToInt32Bits(parameters[i]):x8})");

            string sha = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(file)).ToLowerInvariant();
            Assert.Equal(sha, type.GetField("BakedWeightsSha256")!.GetRawConstantValue());
            Assert.Equal("tiny.safetensors", type.GetField("BakedWeightsFile")!.GetRawConstantValue());

            // new M(seed) is the PyTorch initialization, not the baked weights; LoadBakedWeights restores them.
            object seeded = Activator.CreateInstance(type, 1)!;
            var p1 = (float[])type.GetProperty("Parameters")!.GetValue(seeded)!;
            Assert.NotEqual(BitConverter.SingleToInt32Bits(all[20]), BitConverter.SingleToInt32Bits(p1[20]));
            type.GetMethod("LoadBakedWeights")!.Invoke(seeded, null);
            Assert.Equal(BitConverter.SingleToInt32Bits(all[20]), BitConverter.SingleToInt32Bits(p1[20]));
        }

        [Fact]
        public void BakedModelComputesWhatTheSameWeightsLoadedAtRunTimeCompute()
        {
            // The runtime writes the file (SafeTensors.Save of a seeded model of the same layers); the generator bakes it;
            // the baked model's outputs must equal, bit for bit, a model that loads the file with LoadWeights.
            string plain = Small.Replace("[Model(Weights = \"tiny.safetensors\")]", "[Model]").Replace("class M", "class P");
            var pr = GeneratorHarness.Run(plain);
            var pasm = GeneratorHarness.Load(pr);
            var ptype = pasm.GetType("T.P")!;
            object source = Activator.CreateInstance(ptype, 7)!;
            string path = Path.Combine(Path.GetTempPath(), $"cnngen-bake-{Guid.NewGuid():N}.safetensors");
            try
            {
                ptype.GetMethod("SaveWeights")!.Invoke(source, new object[] { path });
                byte[] file = File.ReadAllBytes(path);
                var r = Run(Small, Encoded("models/tiny.safetensors", file));
                Assert.Empty(r.Errors);
                var type = GeneratorHarness.Load(r).GetType("T.M")!;
                object baked = Activator.CreateInstance(type)!;
                object loaded = Activator.CreateInstance(type, 3)!;
                type.GetMethod("LoadWeights")!.Invoke(loaded, new object[] { path });
                var input = Enumerable.Range(0, 9 * 4).Select(i => MathF.Sin(i * 0.7f)).ToArray();
                var y1 = new float[12];
                var y2 = new float[12];
                ((ICnnModel)baked).Forward(input, y1, 4);
                ((ICnnModel)loaded).Forward(input, y2, 4);
                Assert.Equal(y2, y1);
                Assert.Contains(y1, v => v != 0);
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Fact]
        public void GeneratedCodeOfABakedModelMatchesTheSnapshot()
        {
            // Values with a visible pattern, so the snapshot shows how tensors are laid out.
            float[] all = Sequence(SmallParameters, 0.125f);
            var r = Run(Small, Encoded("tiny.safetensors", SafeTensorsBytes(SmallTensors(all))));
            Assert.Empty(r.Errors);
            Snapshot.Verify(r.GeneratedSource, "BakedTiny");
        }

        [Fact]
        public void PyTorchStateDictBakesToWhatTheRuntimeLoads()
        {
            // model_a.weights.safetensors: the state_dict of the DESIGN.md model in PyTorch, written by
            // tools/golden/make_parity.py (its own JSON formatting, with __metadata__). The baked parameters must equal,
            // bit for bit, what the runtime's independent reader (SafeTensors.LoadInto via LoadWeights) puts there.
            string path = Path.Combine(DocsTests.RepoRoot(), "tests", "Runtime.Tests", "Fixtures", "parity", "models", "model_a.weights.safetensors");
            string mnist = Models.Mnist.Replace("[Model]", "[Model(Weights = \"model_a.weights.safetensors\")]");
            var r = Run(mnist, Encoded("fixtures/model_a.weights.safetensors", File.ReadAllBytes(path)));
            Assert.Empty(r.Errors);
            var type = GeneratorHarness.Load(r).GetType("Samples.MnistCnn")!;
            var baked = (ICnnModel)Activator.CreateInstance(type)!;
            var loaded = (ICnnModel)Activator.CreateInstance(type, 0)!;
            loaded.LoadWeights(path);
            Assert.Equal(loaded.Parameters.Select(BitConverter.SingleToInt32Bits), baked.Parameters.Select(BitConverter.SingleToInt32Bits));
        }

        [Fact]
        public void HeaderParserReadsWhatJsonAllowsAndRejectsTheRest()
        {
            byte[] File(string json, int dataBytes)
            {
                byte[] header = Encoding.UTF8.GetBytes(json);
                return BitConverter.GetBytes((ulong)header.Length).Concat(header).Concat(new byte[dataBytes]).ToArray();
            }
            // Whitespace, escapes (\u00e9, \", \\) in metadata strings, a scalar tensor (shape []).
            // (Metadata values must be strings, as the format says: the non-string "v" of an earlier version of this test is
            // rejected below, by the validator LoadWeights shares.)
            var ok = WeightsFileSpec.Parse("x", File(" {\n \"__metadata__\" : {\"n\\u00e9\":\"a \\\"b\\\" \\\\ c\", \"v\": \"[1, 2.5e-3]\"},\n" +
                "\"s\": {\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]} ,\"t\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[4,20]}}\t", 20));
            Assert.Null(ok.Error);
            Assert.Equal(new[] { "s", "t" }, ok.Tensors.Select(t => t.Name).ToArray());
            Assert.Empty(ok.Tensors[0].Shape);
            Assert.Equal(20, ok.Data.Count);

            foreach (var (json, problem) in new[]
            {
                ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{}}", "duplicate key"),
                ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "invalid shape"),
                ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "invalid data_offsets"),
                ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "lacks dtype, shape or data_offsets"),
                ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", "expected ',' or '}'"),
                ("[1, 2]", "not an object"),
                ("{\"a\": tru}", "unexpected 't'"),
                ("{\"__metadata__\":{\"v\":[1, 2.5e-3, -4, true, null]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "must be a string"),
            })
            {
                var bad = WeightsFileSpec.Parse("x", File(json, 4));
                Assert.True(bad.Error != null && bad.Error.Contains(problem, StringComparison.Ordinal), $"{json}: {bad.Error}");
            }
        }

        [Theory]
        [InlineData(0f, "0f")]
        [InlineData(-0f, "-0f")]
        [InlineData(1f, "1f")]
        [InlineData(0.1f, "0.100000001f")]
        [InlineData(float.NaN, "float.NaN")]
        [InlineData(float.NegativeInfinity, "float.NegativeInfinity")]
        [InlineData(1e-45f, "1.40129846E-45f")]
        public void FloatLiteralsRoundTrip(float value, string literal) =>
            Assert.Equal(literal, Emit.ApiEmitter.FloatLiteral(value));

        // ---- diagnostics (run by DiagnosticTests.CNN0030_* .. CNN0037_*, one test per descriptor there) ----------

        private static Diagnostic Single(GeneratorHarness.Result r, string id)
        {
            DiagnosticTests.AssertNoGeneratorFailure(r);
            var cnn = r.Cnn.ToList();
            Assert.True(cnn.Count >= 1 && cnn.All(d => d.Id == id), "expected only " + id + ", got:\n" + string.Join("\n", cnn));
            var d = cnn[0];
            // At the Weights argument of [Model].
            Assert.Equal(DiagnosticTests.LineOf(Small, "Weights ="), d.Location.GetLineSpan().StartLinePosition.Line);
            // The broken model still has its members, so nothing else fails.
            Assert.DoesNotContain(r.CompilationDiagnostics, x => x.Severity == DiagnosticSeverity.Error);
            return d;
        }

        private static float[] Values => Sequence(SmallParameters, 0.01f);

        internal static void MissingFileIsCNN0030()
        {
            var r = Run(Small, Encoded("other.safetensors", SafeTensorsBytes(SmallTensors(Values))));
            var d = Single(r, "CNN0030");
            string m = d.GetMessage(CultureInfo.InvariantCulture);
            Assert.Contains("'tiny.safetensors'", m);
            Assert.Contains("other.safetensors", m);
            Assert.Contains("<AdditionalFiles Include=\"tiny.safetensors\" />", m);

            var none = Single(Run(Small), "CNN0030").GetMessage(CultureInfo.InvariantCulture);
            Assert.Contains("no .safetensors AdditionalFiles", none);
        }

        internal static void RawItemWithoutTheBuildStepIsCNN0031AndIsNeverRead()
        {
            var d = Single(Run(Small, new Unreadable("/proj/tiny.safetensors")), "CNN0031");
            Assert.Contains("CnnGen.targets", d.GetMessage(CultureInfo.InvariantCulture));
        }

        internal static void MalformedFileIsCNN0032(string how, string expected)
        {
            byte[] good = SafeTensorsBytes(SmallTensors(Values));
            AdditionalText file = how switch
            {
                "truncated" => Encoded("tiny.safetensors", SafeTensorsBytes(SmallTensors(Values), truncateBy: 5)),
                "short" => Encoded("tiny.safetensors", new byte[] { 1, 2, 3 }),
                "json" => Encoded("tiny.safetensors", Corrupt(good, 8, (byte)'[')),
                "length" => Encoded("tiny.safetensors", Corrupt(good, 0, 0xFF)),
                "offsets" => Encoded("tiny.safetensors", SafeTensorsBytes(new[] { new Tensor("0.weight", "F32", new long[] { 2, 1, 2, 2 }, new byte[30]) })),
                _ => new Text("/proj/obj/tiny.safetensors.cnngen-weights", Encode("tiny.safetensors", good).Replace("length: ", "length: 1")),
            };
            var d = Single(Run(Small, file), "CNN0032");
            string m = d.GetMessage(CultureInfo.InvariantCulture);
            Assert.Contains("'tiny.safetensors'", m);
            Assert.Contains(expected, m);
        }

        private static byte[] Corrupt(byte[] bytes, int at, byte value)
        {
            var copy = (byte[])bytes.Clone();
            copy[at] = value;
            return copy;
        }

        internal static void MissingTensorIsCNN0033()
        {
            var tensors = SmallTensors(Values).Where(t => t.Name != "3.weight");
            var d = Single(Run(Small, Encoded("tiny.safetensors", SafeTensorsBytes(tensors))), "CNN0033");
            Assert.Equal("Model 'M': the weights file 'tiny.safetensors' has no tensor '3.weight' (Linear-3 needs shape [3, 8])", d.GetMessage(CultureInfo.InvariantCulture));
        }

        internal static void WrongShapeIsCNN0034NamingBothShapes()
        {
            var tensors = SmallTensors(Values);
            tensors[2] = F32("3.weight", new long[] { 8, 3 }, Values[10..34]);
            var d = Single(Run(Small, Encoded("tiny.safetensors", SafeTensorsBytes(tensors))), "CNN0034");
            Assert.Equal("Model 'M': tensor '3.weight' in 'tiny.safetensors' has shape [8, 3], but Linear-3 needs [3, 8]", d.GetMessage(CultureInfo.InvariantCulture));
        }

        internal static void WrongDTypeIsCNN0035()
        {
            var tensors = SmallTensors(Values);
            tensors[1] = new Tensor("0.bias", "F64", new long[] { 2 }, new byte[16]);
            var d = Single(Run(Small, Encoded("tiny.safetensors", SafeTensorsBytes(tensors))), "CNN0035");
            Assert.Equal("Model 'M': tensor '0.bias' [2] in 'tiny.safetensors' is F64, but Conv2d-1 needs F32", d.GetMessage(CultureInfo.InvariantCulture));
        }

        internal static void ExtraTensorIsCNN0036()
        {
            var tensors = SmallTensors(Values);
            tensors.Add(F32("1.weight", new long[] { 2 }, new float[2]));
            var d = Single(Run(Small, Encoded("tiny.safetensors", SafeTensorsBytes(tensors))), "CNN0036");
            Assert.Equal("Model 'M': the weights file 'tiny.safetensors' has a tensor '1.weight' [2] that no layer of the model has (the model's keys: 0.weight, 0.bias, 3.weight, 3.bias)",
                d.GetMessage(CultureInfo.InvariantCulture));
        }

        internal static void MissingFileMarkerIsCNN0047NotCNN0031()
        {
            // CnnGen.targets writes this marker for an item whose file does not exist; the raw item reaches the generator too.
            var r = Run(Small, Missing("tiny.safetensors", "/proj/tiny.safetensors"), new Unreadable("/proj/tiny.safetensors"));
            var d = Single(r, "CNN0047");
            Assert.Equal("Model 'M': 'tiny.safetensors' is an AdditionalFiles item, but the file /proj/tiny.safetensors does not exist; check the path (relative to the project directory) or create the file",
                d.GetMessage(CultureInfo.InvariantCulture));
        }

        internal static void NonFiniteValueIsCNN0048NamingTheTensorAndElement()
        {
            foreach (var (value, text) in new[] { (float.NaN, "NaN"), (float.PositiveInfinity, "+Infinity"), (float.NegativeInfinity, "-Infinity") })
            {
                float[] all = Values;
                all[10 + 5] = value; // 3.weight, element 5
                var d = Single(Run(Small, Encoded("tiny.safetensors", SafeTensorsBytes(SmallTensors(all)))), "CNN0048");
                Assert.Equal($"Model 'M': the weights file 'tiny.safetensors' cannot be baked: tensor '3.weight' (F32) holds a non-finite value ({text}) at element 5 (a model with such a weight computes NaN for every input)",
                    d.GetMessage(CultureInfo.InvariantCulture));
            }
        }

        internal static void TwoFilesOfTheSameNameAreCNN0037UnlessNamedByPath()
        {
            byte[] good = SafeTensorsBytes(SmallTensors(Values));
            var a = new Text("/proj/obj/cnngen/1/tiny.safetensors.cnngen-weights", Encode("a/tiny.safetensors", good));
            var b = new Text("/proj/obj/cnngen/2/tiny.safetensors.cnngen-weights", Encode("b/tiny.safetensors", good));
            var d = Single(Run(Small, a, b), "CNN0037");
            Assert.Contains("a/tiny.safetensors, b/tiny.safetensors", d.GetMessage(CultureInfo.InvariantCulture));

            var byPath = Run(Small.Replace("\"tiny.safetensors\"", "\"b/tiny.safetensors\""), a, b);
            Assert.Empty(byPath.Errors);
            var byPathWindows = Run(Small.Replace("\"tiny.safetensors\"", "@\"b\\tiny.safetensors\""), a, b);
            Assert.Empty(byPathWindows.Errors);
        }

        [Fact]
        public void ModelWithShapeErrorsReportsOnlyTheShapeError()
        {
            string wrong = Small.Replace("[Linear(8, 3)]", "[Linear(9, 3)]");
            var r = Run(wrong, Encoded("tiny.safetensors", SafeTensorsBytes(SmallTensors(Values))));
            Assert.Equal(new[] { "CNN0021" }, r.Cnn.Select(d => d.Id).ToArray());
        }

        [Fact]
        public void ModelsWithoutWeightsIgnoreWeightsFilesAndKeepTheirConstructor()
        {
            string plain = Small.Replace("[Model(Weights = \"tiny.safetensors\")]", "[Model]");
            var r = Run(plain, Encoded("tiny.safetensors", SafeTensorsBytes(SmallTensors(Values))));
            Assert.Empty(r.Errors);
            Assert.Contains("public M(int seed = 0)", r.GeneratedSource);
            Assert.DoesNotContain("BakedWeights", r.GeneratedSource);
        }

        // ---- caching -----------------------------------------------------------------------------------

        [Fact]
        public void UnrelatedEditsHitTheCacheAndAWeightsChangeReachesOnlyTheModelThatNamesIt()
        {
            string two = Small + @"
namespace T
{
    [Model]
    [Input(1, 3, 3)]
    [Conv2d(1, 2, 2)]
    [Flatten]
    [Linear(8, 3)]
    public partial class Other { }
}
";
            var compilation = GeneratorHarness.CreateCompilation(two);
            byte[] v1 = SafeTensorsBytes(SmallTensors(Values));
            var file1 = Encoded("tiny.safetensors", v1);
            var driver = Driver(file1).RunGenerators(compilation);

            // An unrelated edit: every step cached or unchanged, nothing regenerated.
            var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace U { class X { } }", GeneratorHarness.ParseOptions, path: "X.cs"));
            driver = driver.RunGenerators(edited);
            var result = driver.GetRunResult().Results.Single();
            foreach (string step in new[] { ModelGenerator.Steps.Parse, ModelGenerator.Steps.Infer, ModelGenerator.Steps.WeightsFiles, ModelGenerator.Steps.BindWeights })
            {
                var reasons = result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
                Assert.NotEmpty(reasons);
                Assert.True(reasons.All(x => x is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), step + ": " + string.Join(", ", reasons));
            }

            // New weights: the model that names them changes, the other one's bound model is unchanged.
            float[] changed = Values;
            changed[12] = 42f;
            var file2 = Encoded("tiny.safetensors", SafeTensorsBytes(SmallTensors(changed)));
            driver = driver.ReplaceAdditionalText(file1, file2).RunGenerators(edited);
            result = driver.GetRunResult().Results.Single();
            var bound = result.TrackedSteps[ModelGenerator.Steps.BindWeights].SelectMany(s => s.Outputs).ToList();
            Assert.Contains(bound, o => o.Reason == IncrementalStepRunReason.Modified && ((Shapes.ShapedModel)o.Value).Model.ClassName == "M");
            Assert.Contains(bound, o => o.Reason == IncrementalStepRunReason.Unchanged && ((Shapes.ShapedModel)o.Value).Model.ClassName == "Other");
            string source = string.Join("\n", result.GeneratedSources.Select(s => s.SourceText.ToString()));
            Assert.Contains("42f,", source);
        }

        // ---- size and time of the DESIGN.md model's baked weights ---------------------------------------

        [Fact]
        public void DesignModelWithBakedWeightsGeneratesAndCompilesInReasonableTime()
        {
            string mnist = Models.Mnist.Replace("[Model]", "[Model(Weights = \"mnist.safetensors\")]");
            var rng = new Random(5);
            float[] all = Enumerable.Range(0, 55338).Select(_ => (float)(rng.NextDouble() * 0.2 - 0.1)).ToArray();
            var tensors = new List<Tensor>
            {
                F32("0.weight", new long[] { 16, 1, 3, 3 }, all[..144]), F32("0.bias", new long[] { 16 }, all[144..160]),
                F32("3.weight", new long[] { 32, 16, 3, 3 }, all[160..4768]), F32("3.bias", new long[] { 32 }, all[4768..4800]),
                F32("7.weight", new long[] { 32, 1568 }, all[4800..54976]), F32("7.bias", new long[] { 32 }, all[54976..55008]),
                F32("10.weight", new long[] { 10, 32 }, all[55008..55328]), F32("10.bias", new long[] { 10 }, all[55328..]),
            };
            byte[] file = SafeTensorsBytes(tensors);
            var sw = Stopwatch.StartNew();
            var r = Run(mnist, Encoded("mnist.safetensors", file));
            double generate = sw.Elapsed.TotalSeconds;
            Assert.Empty(r.Errors);
            sw.Restart();
            using var ms = new MemoryStream();
            var emit = r.Output.Emit(ms);
            double compile = sw.Elapsed.TotalSeconds;
            Assert.True(emit.Success);
            int size = r.GeneratedSource.Length;
            _out.WriteLine($"DESIGN.md model with 55,338 baked floats ({file.Length:N0}-byte file): {size:N0} chars of generated C#, generator {generate:F2} s, emit {compile:F2} s, assembly {ms.Length:N0} bytes");
            // The weights dominate: ~15 characters per float.
            Assert.InRange(size, 55338 * 8, 55338 * 20 + 200_000);
            Assert.InRange(ms.Length, 221_352, 221_352 + 400_000);
            var type = GeneratorHarness.Load(r).GetType("Samples.MnistCnn")!;
            var p = ((ICnnModel)Activator.CreateInstance(type)!).Parameters;
            Assert.Equal(all, p);
        }
    }
}

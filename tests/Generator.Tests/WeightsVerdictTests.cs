using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using CnnGen.IO;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// One verdict for one file: the same corpus of odd safetensors files goes through the generator's baking of
    /// [Model(Weights = ...)] and through the runtime's LoadWeights. Both must accept the same files (with the same values)
    /// and reject the same files (the baking's CNN0032 quoting the same problem sentence as the runtime's exception), and a
    /// rejected file must leave the model's parameters exactly as they were. The files are written here by hand, byte by byte.
    /// </summary>
    public class WeightsVerdictTests
    {
        private readonly ITestOutputHelper _out;
        public WeightsVerdictTests(ITestOutputHelper output) { _out = output; }

        // The model of WeightsTests: Conv2d(1, 2, 2) weight [2, 1, 2, 2] + bias [2], Linear(8, 3) [3, 8] + [3], from tiny.safetensors.
        private const string Model = WeightsTests.Small;

        // The model's tensors: key, shape, bytes (F32). 0.weight [0, 32), 0.bias [32, 40), 3.weight [40, 136), 3.bias [136, 148).
        private static readonly (string Key, string Shape, int Bytes)[] Tensors =
        {
            ("0.weight", "[2,1,2,2]", 32), ("0.bias", "[2]", 8), ("3.weight", "[3,8]", 96), ("3.bias", "[3]", 12),
        };

        private static string Entry(string key, string dtype, string shape, long begin, long end, string extra = "") =>
            $"\"{key}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]{extra}}}";

        /// <summary>The header of the model's tensors laid out from <paramref name="start"/>, with <paramref name="gapAfterFirst"/> bytes after the first.</summary>
        private static List<string> Layout(long start = 0, long gapAfterFirst = 0)
        {
            var entries = new List<string>();
            long at = start;
            for (int i = 0; i < Tensors.Length; i++)
            {
                entries.Add(Entry(Tensors[i].Key, "F32", Tensors[i].Shape, at, at + Tensors[i].Bytes));
                at += Tensors[i].Bytes + (i == 0 ? gapAfterFirst : 0);
            }
            return entries;
        }

        private static byte[] Data(int bytes)
        {
            var data = new byte[bytes];
            for (int i = 0; i + 4 <= bytes; i += 4)
                BitConverter.TryWriteBytes(data.AsSpan(i), (i / 4 - 18) * 0.0625f);
            return data;
        }

        private static byte[] File(string json, byte[] data, ulong? declaredLength = null)
        {
            byte[] header = Encoding.UTF8.GetBytes(json);
            return BitConverter.GetBytes(declaredLength ?? (ulong)header.Length).Concat(header).Concat(data).ToArray();
        }

        private static byte[] File(IEnumerable<string> entries, byte[] data, string? metadata = null) =>
            File("{" + string.Join(",", (metadata is null ? Array.Empty<string>() : new[] { "\"__metadata__\":" + metadata }).Concat(entries)) + "}", data);

        private static byte[] WithFloat(byte[] file, int dataByte, float value)
        {
            byte[] copy = (byte[])file.Clone();
            int headerEnd = 8 + (int)BitConverter.ToUInt64(copy, 0);
            BitConverter.TryWriteBytes(copy.AsSpan(headerEnd + dataByte), value);
            return copy;
        }

        /// <summary>The corpus: name, bytes, and whether the file is a valid safetensors file for the model.</summary>
        public static IEnumerable<(string Name, byte[] Bytes, bool Valid)> Corpus()
        {
            byte[] good = File(Layout(), Data(148));
            yield return ("good", good, true);
            yield return ("good, header padded with spaces", File("{" + string.Join(",", Layout()) + "}        ", Data(148)), true);
            yield return ("good, header order differs from data order", File(Layout().AsEnumerable().Reverse(), Data(148)), true);
            yield return ("good, metadata strings with escapes", File(Layout(), Data(148), "{\"format\":\"pt\",\"n\\u00e9\":\"a \\\"b\\\"\"}"), true);
            yield return ("good, null metadata", File(Layout(), Data(148), "null"), true);

            // Layout of the data section.
            yield return ("hole between tensors", File(Layout(gapAfterFirst: 4), Data(152)), false);
            yield return ("hole at the start", File(Layout(start: 4), Data(152)), false);
            var overlap = Layout();
            overlap[1] = Entry("0.bias", "F32", "[2]", 28, 36);
            overlap[2] = Entry("3.weight", "F32", "[3,8]", 36, 132);
            overlap[3] = Entry("3.bias", "F32", "[3]", 132, 144);
            yield return ("overlapping tensors", File(overlap, Data(144)), false);
            var same = Layout();
            same[1] = Entry("0.bias", "F32", "[2]", 0, 8);
            yield return ("two tensors at the same offset", File(same, Data(148)), false);
            yield return ("one trailing byte", good.Concat(new byte[1]).ToArray(), false);
            yield return ("1000 trailing bytes", good.Concat(new byte[1000]).ToArray(), false);
            yield return ("truncated by 3 bytes", good.AsSpan(0, good.Length - 3).ToArray(), false);
            yield return ("no data at all", File(Layout(), Array.Empty<byte>()), false);

            // Entries.
            yield return ("non-string metadata", File(Layout(), Data(148), "{\"epoch\":3}"), false);
            yield return ("metadata not an object", File(Layout(), Data(148), "[\"pt\"]"), false);
            var unknownField = Layout();
            unknownField[1] = Entry("0.bias", "F32", "[2]", 32, 40, ",\"extra\":1");
            yield return ("unknown field in an entry", File(unknownField, Data(148)), false);
            var dupField = Layout();
            dupField[1] = Entry("0.bias", "F32", "[2]", 32, 40, ",\"dtype\":\"F32\"");
            yield return ("duplicate field in an entry", File(dupField, Data(148)), false);
            yield return ("unsupported dtype F8_E4M3", File(Layout().Append(Entry("x", "F8_E4M3", "[4]", 148, 152)), Data(152)), false);
            yield return ("unknown dtype", File(Layout().Append(Entry("x", "Q7", "[4]", 148, 152)), Data(152)), false);
            var size = Layout();
            size[1] = Entry("0.bias", "F32", "[3]", 32, 40);
            yield return ("offsets disagree with dtype times shape", File(size, Data(148)), false);
            yield return ("element count overflows", File(Layout().Append(Entry("x", "F32", "[2147483647,2147483647,4]", 148, 148)), Data(148)), false);
            yield return ("dimension over int", File(Layout().Append(Entry("x", "F32", "[4294967296]", 148, 148)), Data(148)), false);
            yield return ("offsets near long.MaxValue", File(Layout().Append(Entry("x", "F32", "[1]", 9223372036854775800, 9223372036854775804)), Data(148)), false);
            yield return ("offsets past long", File(Layout().Append(Entry("x", "F32", "[1]", 0, 0).Replace("[0,0]", "[18446744073709551612,18446744073709551616]")), Data(148)), false);
            var negative = Layout();
            negative[0] = Entry("0.weight", "F32", "[2,1,2,2]", -32, 0);
            yield return ("negative offset", File(negative, Data(148)), false);
            var fractional = Layout();
            fractional[0] = Entry("0.weight", "F32", "[2,1,2,2]", 0, 32).Replace("[0,32]", "[0.0,32]");
            yield return ("fractional offset", File(fractional, Data(148)), false);
            var negativeDim = Layout();
            negativeDim[1] = Entry("0.bias", "F32", "[-2]", 32, 40);
            yield return ("negative dimension", File(negativeDim, Data(148)), false);
            yield return ("duplicate key", File(Layout().Append(Entry("0.bias", "F32", "[2]", 148, 156)), Data(156)), false);
            yield return ("empty key", File(Layout().Append(Entry("", "F32", "[0]", 148, 148)), Data(148)), false);

            // Header.
            yield return ("header length past the end", File("{" + string.Join(",", Layout()) + "}", Data(148), declaredLength: 1_000_000), false);
            yield return ("header length 1", File("{", Array.Empty<byte>()), false);
            yield return ("header length 2^63", File("{}", Array.Empty<byte>(), declaredLength: 1UL << 63), false);
            yield return ("three bytes", new byte[] { 1, 2, 3 }, false);
            yield return ("empty file", Array.Empty<byte>(), false);
            yield return ("text after the JSON object", File("{" + string.Join(",", Layout()) + "}x", Data(148)), false);
            yield return ("JSON not an object", File("[1,2]", Data(148)), false);
            yield return ("malformed JSON", File("{" + string.Join(",", Layout()), Data(148)), false);
            byte[] latin1 = File(Layout().Append(Entry("\u00e9", "F32", "[0]", 148, 148)), Data(148));
            int at = Array.IndexOf(latin1, (byte)0xC3);
            latin1[at] = 0xFF;
            yield return ("header not UTF-8", latin1, false);

            // Values.
            yield return ("NaN in 3.weight", WithFloat(good, 40 + 4 * 7, float.NaN), false);
            yield return ("+Infinity in 0.bias", WithFloat(good, 32, float.PositiveInfinity), false);
            yield return ("-Infinity in 3.bias", WithFloat(good, 144, float.NegativeInfinity), false);

            // The model's tensors.
            yield return ("missing tensor", File(Layout().Take(3), Data(136)), false);
            yield return ("extra tensor", File(Layout().Append(Entry("9.weight", "F32", "[1]", 148, 152)), Data(152)), false);
            var shape = Layout();
            shape[2] = Entry("3.weight", "F32", "[8,3]", 40, 136);
            yield return ("wrong shape", File(shape, Data(148)), false);
            var dtype = Layout();
            dtype[3] = Entry("3.bias", "F64", "[3]", 136, 160);
            yield return ("wrong dtype", File(dtype, Data(160)), false);
        }

        [Fact]
        public void BakingAndLoadWeightsGiveTheSameVerdictAndARejectedFileLeavesTheModelUnchanged()
        {
            var compiled = WeightsTests.Run(Model, WeightsTests.Encoded("tiny.safetensors", Corpus().First().Bytes));
            Assert.Empty(compiled.Errors);
            var type = GeneratorHarness.Load(compiled).GetType("T.M")!;
            var model = (ICnnModel)Activator.CreateInstance(type, 7)!;
            float[] before = (float[])model.Parameters.Clone();

            string dir = Path.Combine(Path.GetTempPath(), "cnngen-verdict-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            var disagreements = new List<string>();
            int cases = 0;
            try
            {
                foreach (var (name, bytes, valid) in Corpus())
                {
                    cases++;
                    var baked = WeightsTests.Run(Model, WeightsTests.Encoded("tiny.safetensors", bytes));
                    DiagnosticTests.AssertNoGeneratorFailure(baked);
                    var bakeError = baked.Cnn.FirstOrDefault(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);

                    string path = Path.Combine(dir, "tiny.safetensors");
                    System.IO.File.WriteAllBytes(path, bytes);
                    before.CopyTo(model.Parameters, 0);
                    WeightsFormatException? loadError = null;
                    try { model.LoadWeights(path); }
                    catch (WeightsFormatException ex) { loadError = ex; }

                    // A pipe (no length known in advance) gives the same verdict as the file.
                    WeightsFormatException? pipeError = null;
                    var staged = new float[model.ParameterCount];
                    try { SafeTensors.LoadInto(new NonSeekable(bytes), "pipe", model.ParameterSlots, staged); }
                    catch (WeightsFormatException ex) { pipeError = ex; }

                    string bake = bakeError is null ? "accepted" : bakeError.Id + " " + bakeError.GetMessage(CultureInfo.InvariantCulture);
                    string load = loadError is null ? "accepted" : loadError.Message;
                    _out.WriteLine($"{name}:\n  bake: {bake}\n  load: {load}");
                    if ((bakeError is null) != (loadError is null) || (loadError is null) != (pipeError is null) || (loadError is null) != valid)
                    {
                        disagreements.Add($"{name}: expected {(valid ? "accepted" : "rejected")}; bake: {bake}; load: {load}; pipe: {pipeError?.Message ?? "accepted"}");
                        continue;
                    }
                    if (loadError is null)
                    {
                        // Accepted: the baked values are the loaded values, bit for bit.
                        var bakedModel = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(baked).GetType("T.M")!)!;
                        Assert.Equal(bakedModel.Parameters.Select(BitConverter.SingleToInt32Bits), model.Parameters.Select(BitConverter.SingleToInt32Bits));
                        Assert.Equal(staged.Select(BitConverter.SingleToInt32Bits), model.Parameters.Select(BitConverter.SingleToInt32Bits));
                        continue;
                    }
                    // Rejected: the model is untouched, the message names the file, and a structural problem is the same sentence in both.
                    Assert.True(before.AsSpan().SequenceEqual(model.Parameters), $"{name}: the rejected file changed the parameters");
                    Assert.Contains(path, loadError.Message, StringComparison.Ordinal);
                    if (bakeError!.Id == "CNN0032")
                    {
                        string problem = Assert.Single(loadError.Problems);
                        Assert.True(bakeError.GetMessage(CultureInfo.InvariantCulture).EndsWith(": " + problem, StringComparison.Ordinal),
                            $"{name}: the baking says '{bake}', LoadWeights says '{problem}'");
                    }
                }
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
            Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
            Assert.True(cases > 40, $"only {cases} cases");
        }

        [Fact]
        public void NonFiniteValuesLoadWhenAllowedAndTheErrorNamesTheKey()
        {
            byte[] nan = Corpus().Single(c => c.Name == "NaN in 3.weight").Bytes;
            var compiled = WeightsTests.Run(Model, WeightsTests.Encoded("tiny.safetensors", Corpus().First().Bytes));
            var model = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(compiled).GetType("T.M")!, 7)!;
            string path = Path.Combine(Path.GetTempPath(), "cnngen-nan-" + Guid.NewGuid().ToString("N") + ".safetensors");
            System.IO.File.WriteAllBytes(path, nan);
            try
            {
                var ex = Assert.Throws<WeightsFormatException>(() => model.LoadWeights(path));
                Assert.Equal("3.weight", ex.Key);
                Assert.Contains("tensor '3.weight' (F32) holds a non-finite value (NaN) at element 7", ex.Message);
                Assert.Contains("AllowNonFinite", ex.Message);
                // The default options are the strict ones.
                Assert.Throws<WeightsFormatException>(() => model.LoadWeights(path, WeightsLoadOptions.Default));

                model.LoadWeights(path, new WeightsLoadOptions { AllowNonFinite = true });
                Assert.True(float.IsNaN(model.Parameters[10 + 7]));
                Assert.Equal(-18 * 0.0625f, model.Parameters[0]);
            }
            finally
            {
                System.IO.File.Delete(path);
            }
        }

        /// <summary>A read-only stream without a length, like a pipe.</summary>
        private sealed class NonSeekable : Stream
        {
            private readonly MemoryStream _inner;
            public NonSeekable(byte[] bytes) { _inner = new MemoryStream(bytes, writable: false); }
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}

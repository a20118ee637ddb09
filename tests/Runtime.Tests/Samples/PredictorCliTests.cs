using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using CnnGen.Samples.MnistPredict;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests;

/// <summary>A model of MNIST's shape for mnist-predict's command line (the real one needs trained weights to compile).</summary>
[Model]
[Input(1, 28, 28)]
[Flatten]
[Linear(784, 10)]
public partial class PredictNet { }

/// <summary>
/// mnist-predict's command line (samples/MnistPredict/Predictor.cs) against a corpus of odd inputs written here: every one
/// must give exit code 2 and exactly one line on stderr naming the file (or option) and the problem; no exception escapes;
/// an image's size is checked from its header before anything is decoded.
/// </summary>
public class PredictorCliTests
{
    private readonly ITestOutputHelper _out;
    public PredictorCliTests(ITestOutputHelper output) { _out = output; }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "images", name);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Predictor.Run(args, () => new PredictNet(1), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        var b = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(b, data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(b, 4);
        data.CopyTo(b, 8);
        return b; // CRC left 0: the reader does not check it
    }

    private static byte[] Ihdr(uint w, uint h, byte depth = 8, byte colour = 0, byte interlace = 0)
    {
        var d = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(d, w);
        BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(4), h);
        d[8] = depth; d[9] = colour; d[12] = interlace;
        return Chunk("IHDR", d);
    }

    private static byte[] Zlib(byte[] raw)
    {
        var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        return ms.ToArray();
    }

    private static readonly byte[] Signature = { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    private static byte[] Png(params byte[][] chunks) => Signature.Concat(chunks.SelectMany(c => c)).ToArray();

    private static byte[] GrayRows(int w, int h, byte filter = 0) =>
        Enumerable.Range(0, h).SelectMany(_ => new[] { filter }.Concat(new byte[w])).ToArray();

    private static byte[] Idx(byte type, int[] dims, byte[] data)
    {
        var b = new byte[4 + 4 * dims.Length + data.Length];
        b[2] = type; b[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(b, 4 + 4 * dims.Length);
        return b;
    }

    private static byte[] Gzip(byte[] raw)
    {
        var ms = new MemoryStream();
        using (var g = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) g.Write(raw);
        return ms.ToArray();
    }

    /// <summary>The corpus: a file name, its content (null: no file; "DIR": a directory), extra arguments, and a word the error must contain.</summary>
    private static IEnumerable<(string File, byte[]? Content, string[] Extra, string Expect)> Corpus()
    {
        byte[] digit = File.ReadAllBytes(Fixture("digit.pgm"));
        byte[] gray8 = File.ReadAllBytes(Fixture("gray8.png"));
        byte[] goodIdx = Idx(8, new[] { 2, 28, 28 }, new byte[2 * 784]);

        yield return ("missing.pgm", null, Array.Empty<string>(), "no such image");
        yield return ("folder.png", Encoding.ASCII.GetBytes("DIR"), Array.Empty<string>(), "is a directory");
        yield return ("empty.png", Array.Empty<byte>(), Array.Empty<string>(), "empty");
        yield return ("text.pgm", Encoding.ASCII.GetBytes("hello"), Array.Empty<string>(), "not a PGM (P2/P5) or PNG file");
        yield return ("one.pgm", new[] { (byte)'P' }, Array.Empty<string>(), "not a PGM");
        // PNG
        yield return ("signature-only.png", Signature, Array.Empty<string>(), "no IHDR chunk");
        yield return ("cut.png", gray8[..(gray8.Length - 40)], Array.Empty<string>(), "truncated");
        yield return ("cut-in-header.png", gray8[..20], Array.Empty<string>(), "truncated");
        yield return ("huge.png", Png(Ihdr(16000, 16000), Chunk("IDAT", Zlib(new byte[100])), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "16000x16000, the model takes 28x28");
        yield return ("max.png", Png(Ihdr(uint.MaxValue, uint.MaxValue), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "the model takes 28x28");
        yield return ("zero.png", Png(Ihdr(0, 28), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "image size 0x28");
        yield return ("small.png", Png(Ihdr(27, 28), Chunk("IDAT", Zlib(GrayRows(27, 28))), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "27x28, the model takes 28x28");
        yield return ("short-ihdr.png", Png(Chunk("IHDR", new byte[4]), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "IHDR chunk is 4 bytes");
        yield return ("idat-first.png", Png(Chunk("IDAT", new byte[3]), Ihdr(28, 28)), Array.Empty<string>(), "not IHDR");
        yield return ("two-ihdr.png", Png(Ihdr(28, 28), Ihdr(28, 28)), Array.Empty<string>(), "two IHDR");
        byte[] longChunk = Png(Ihdr(28, 28), Chunk("IDAT", new byte[4]));
        BinaryPrimitives.WriteUInt32BigEndian(longChunk.AsSpan(8 + 25), 0xFFFFFFF0);
        yield return ("huge-chunk.png", longChunk, Array.Empty<string>(), "runs past the end of the file");
        yield return ("no-idat.png", Png(Ihdr(28, 28), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "no image data");
        yield return ("garbage-idat.png", Png(Ihdr(28, 28), Chunk("IDAT", Encoding.ASCII.GetBytes("not zlib data at all")), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "corrupt PNG image data");
        yield return ("short-idat.png", Png(Ihdr(28, 28), Chunk("IDAT", Zlib(GrayRows(28, 10))), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "PNG image data is truncated");
        yield return ("filter.png", Png(Ihdr(28, 28), Chunk("IDAT", Zlib(GrayRows(28, 28, filter: 9))), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "invalid PNG filter 9");
        yield return ("interlaced.png", Png(Ihdr(28, 28, interlace: 1), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "interlaced");
        yield return ("depth4.png", Png(Ihdr(28, 28, depth: 4), Chunk("IDAT", Zlib(new byte[10])), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "bit depth 4");
        yield return ("colour7.png", Png(Ihdr(28, 28, colour: 7), Chunk("IDAT", Zlib(new byte[10])), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "colour type 7");
        yield return ("no-palette.png", Png(Ihdr(28, 28, colour: 3), Chunk("IDAT", Zlib(GrayRows(28, 28))), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "colour type 3");
        byte[] rowsOfFive = Enumerable.Range(0, 28).SelectMany(_ => new byte[] { 0 }.Concat(Enumerable.Repeat((byte)5, 28))).ToArray();
        yield return ("palette-index.png", Png(Ihdr(28, 28, colour: 3), Chunk("PLTE", new byte[6]), Chunk("IDAT", Zlib(rowsOfFive)), Chunk("IEND", Array.Empty<byte>())), Array.Empty<string>(), "palette entry 5, but the palette has 2");
        yield return ("bad-plte.png", Png(Ihdr(28, 28, colour: 3), Chunk("PLTE", new byte[5])), Array.Empty<string>(), "PLTE chunk of 5 bytes");
        // PGM
        yield return ("cut.pgm", digit[..500], Array.Empty<string>(), "truncated");
        yield return ("header.pgm", Encoding.ASCII.GetBytes("P5\n28"), Array.Empty<string>(), "ends before its height");
        yield return ("overflow.pgm", Encoding.ASCII.GetBytes("P5\n99999999999999999999 28\n255\n"), Array.Empty<string>(), "too large");
        yield return ("big.pgm", Encoding.ASCII.GetBytes("P5\n16000 16000\n255\n"), Array.Empty<string>(), "16000x16000, the model takes 28x28");
        yield return ("zero.pgm", Encoding.ASCII.GetBytes("P5\n0 0\n255\n"), Array.Empty<string>(), "image size 0x0");
        yield return ("maxval.pgm", Encoding.ASCII.GetBytes("P5\n28 28\n70000\n"), Array.Empty<string>(), "maxval 70000");
        yield return ("letters.pgm", Encoding.ASCII.GetBytes("P2\n28 28\n255\n1 2 x"), Array.Empty<string>(), "expected the sample 2");
        yield return ("above-max.pgm", Encoding.ASCII.GetBytes("P2 28 28 10 " + string.Join(" ", Enumerable.Repeat("11", 784))), Array.Empty<string>(), "above the maxval 10");
        yield return ("nospace.pgm", Encoding.ASCII.GetBytes("P528 28 255"), Array.Empty<string>(), "followed by whitespace");
        // IDX
        yield return ("t10k-images-idx3-ubyte", goodIdx[..100], Array.Empty<string>(), "ends after 0");
        yield return ("a-images-idx3-ubyte", Idx(8, new[] { 0, 28, 28 }, Array.Empty<byte>()), Array.Empty<string>(), "declares 0 images");
        yield return ("b-images-idx3-ubyte", Idx(8, new[] { 3, 16000, 16000 }, new byte[10]), Array.Empty<string>(), "16000x16000, the model takes 28x28");
        yield return ("c-images-idx3-ubyte", Idx(8, new[] { 65536, 65536, 65536 }, new byte[10]), Array.Empty<string>(), "65536x65536, the model takes 28x28");
        yield return ("d-images-idx3-ubyte", new byte[] { 1, 2, 3, 4, 5 }, Array.Empty<string>(), "bad magic number");
        yield return ("e-images-idx3-ubyte", Idx(8, new[] { 2, 28 }, new byte[56]), Array.Empty<string>(), "has 2 dimensions");
        yield return ("f-images-idx3-ubyte.gz", Gzip(goodIdx)[..40], Array.Empty<string>(), "corrupt gzip data");
        yield return ("g-images-idx3-ubyte.gz", new byte[] { 0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18 }, Array.Empty<string>(), "corrupt gzip data");
        yield return ("h-images-idx3-ubyte", goodIdx, new[] { "2" }, "index 2 is out of range: ");
        yield return ("i-images-idx3-ubyte", goodIdx, new[] { "-1" }, "bad INDEX '-1'");
        yield return ("j-images-idx3-ubyte", goodIdx, new[] { "99999999999999" }, "bad INDEX '99999999999999'");
        yield return ("k-images-idx3-ubyte", goodIdx, new[] { "one" }, "bad INDEX 'one'");
        yield return ("l-images-idx3-ubyte", goodIdx, new[] { "0", "1" }, "at most one index");
        yield return ("m-images-idx3-ubyte", goodIdx, new[] { "--labels", "nolabels" }, "nolabels: no such IDX labels file");
    }

    [Fact]
    public void Every_odd_input_is_one_line_naming_the_file_and_exit_code_2()
    {
        using var dir = new TempDir();
        var failures = new List<string>();
        int cases = 0;
        foreach (var (file, content, extra, expect) in Corpus())
        {
            cases++;
            string path = dir.File(file);
            if (content is not null && content.SequenceEqual(Encoding.ASCII.GetBytes("DIR"))) Directory.CreateDirectory(path);
            else if (content is not null) File.WriteAllBytes(path, content);
            var (code, _, err) = Run(new[] { path }.Concat(extra.Select(e => e == "nolabels" ? dir.File(e) : e)).ToArray());
            _out.WriteLine($"{file}: [{code}] {err.TrimEnd()}");
            string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            bool namesIt = err.Contains(file, StringComparison.Ordinal) || extra.Any(e => err.Contains(e, StringComparison.Ordinal));
            if (code != 2 || lines.Length != 1 || !err.StartsWith("mnist-predict: ", StringComparison.Ordinal) || !namesIt
                || !err.Contains(expect, StringComparison.Ordinal) || err.Contains("unexpected ", StringComparison.Ordinal))
                failures.Add($"{file}: exit {code}, stderr '{err.TrimEnd()}' (expected one line naming it, with '{expect}')");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(cases >= 45, $"only {cases} cases");
    }

    [Theory]
    [InlineData("--norm", "bad --norm 'a,b'", "a,b")]
    [InlineData("--norm", "bad --norm '0.1'", "0.1")]
    [InlineData("--norm", "bad --norm '0.1,0'", "0.1,0")]
    [InlineData("--norm", "bad --norm 'NaN,1'", "NaN,1")]
    [InlineData("--bench", "bad --bench 'soon'", "soon")]
    [InlineData("--bench", "bad --bench '0'", "0")]
    [InlineData("--bench", "bad --bench '1e308'", "1e308")]
    [InlineData("--frobnicate", "unknown option --frobnicate")]
    public void Bad_options_are_one_line_and_exit_code_2(string option, string expect, string? value = null)
    {
        string[] args = value is null ? new[] { Fixture("digit.pgm"), option } : new[] { Fixture("digit.pgm"), option, value };
        AssertOneLineError(Run(args), expect);
    }

    [Fact]
    public void A_missing_option_value_or_input_is_one_line_and_exit_code_2()
    {
        AssertOneLineError(Run(Fixture("digit.pgm"), "--norm"), "--norm needs a value");
        AssertOneLineError(Run(Fixture("digit.pgm"), "--labels"), "--labels needs a value");
        AssertOneLineError(Run(), "no input file");
        AssertOneLineError(Run("--raw"), "no input file");
    }

    private static void AssertOneLineError((int Code, string Out, string Err) r, string expect)
    {
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Out);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("mnist-predict: " + expect, r.Err);
    }

    [Fact]
    public void A_bad_weights_file_is_one_line_naming_it()
    {
        using var dir = new TempDir();
        string weights = dir.File("w.safetensors");
        // Two problems in one file (a missing and an unexpected tensor): still one line.
        byte[] header = Encoding.UTF8.GetBytes("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        File.WriteAllBytes(weights, BitConverter.GetBytes((ulong)header.Length).Concat(header).Concat(new byte[4]).ToArray());
        var (code, _, err) = Run("--weights", weights, Fixture("digit.pgm"));
        Assert.Equal(2, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(weights, err);
        Assert.Contains("missing tensor '1.weight'", err);
        Assert.Contains("unexpected tensor 'x'", err);

        var (code2, _, err2) = Run("--weights", dir.Path, Fixture("digit.pgm"));
        Assert.Equal(2, code2);
        Assert.Equal($"mnist-predict: {dir.Path}: is a directory, not a weights file\n", err2);
    }

    [Fact]
    public void A_huge_png_is_refused_from_its_header_without_decoding()
    {
        using var dir = new TempDir();
        // 16000 x 16000 8-bit gray: 256 MB of pixels if decoded; the IDAT is a real (small) zlib stream of zero rows.
        string path = dir.File("huge.png");
        File.WriteAllBytes(path, Png(Ihdr(16000, 16000), Chunk("IDAT", Zlib(new byte[1 << 20])), Chunk("IEND", Array.Empty<byte>())));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var (code, _, err) = Run(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2, code);
        Assert.Contains("the image is 16000x16000, the model takes 28x28", err);
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
        // The general reader refuses it too (over its pixel limit), also before decoding.
        var ex = Assert.Throws<InvalidDataException>(() => Images.Read(path));
        Assert.Contains("more than the 16777216 pixels", ex.Message);
    }

    [Fact]
    public void Good_inputs_still_work()
    {
        using var dir = new TempDir();
        var (code, stdout, err) = Run(Fixture("digit.pgm"));
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Equal(3, stdout.TrimEnd('\n').Split('\n').Length);
        Assert.Equal(stdout, Run(Fixture("gray8.png")).Out);

        byte[] pixels = File.ReadAllBytes(Fixture("expected.gray"));
        File.WriteAllBytes(dir.File("t-images-idx3-ubyte.gz"), Gzip(Idx(8, new[] { 2, 28, 28 }, pixels.Concat(new byte[784]).ToArray())));
        File.WriteAllBytes(dir.File("t-labels-idx1-ubyte"), Idx(8, new[] { 2 }, new byte[] { 7, 0 }));
        var one = Run(dir.File("t-images-idx3-ubyte.gz"), "0");
        Assert.Equal(0, one.Code);
        Assert.Equal(stdout + "  True:  7\n", one.Out);
        var all = Run(dir.File("t-images-idx3-ubyte.gz"));
        Assert.Equal(0, all.Code);
        Assert.StartsWith("Accuracy: ", all.Out);
    }
}

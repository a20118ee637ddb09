using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using CnnGen.IO;
using Xunit;

namespace CnnGen.Runtime.Tests;

public class SafeTensorsTests
{
    // A small model's parameter layout: Conv2d(1, 2, 2) -> Linear(8, 3) as nn.Sequential keys 0.* and 2.*.
    private static readonly TensorSlot[] Slots =
    {
        new("0.weight", new[] { 2, 1, 2, 2 }, 0),
        new("0.bias", new[] { 2 }, 8),
        new("2.weight", new[] { 3, 8 }, 10),
        new("2.bias", new[] { 3 }, 34),
    };
    private const int ParamCount = 37;

    private static float[] Params()
    {
        var p = new float[ParamCount];
        for (int i = 0; i < p.Length; i++)
            p[i] = MathF.Sin(i * 0.7f) * (i + 1);
        return p;
    }

    private static float[] Sentinel(int n = ParamCount) => Enumerable.Repeat(42.5f, n).ToArray();

    /// <summary>Builds safetensors bytes by hand: u64 LE header length, JSON padded with spaces, data.</summary>
    internal static byte[] Build(string json, byte[] data, int pad = 0, long? declaredLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(json + new string(' ', pad));
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(declaredLength ?? header.Length));
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private static byte[] F32(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    [Fact]
    public void Save_then_LoadInto_round_trips_exactly_and_keeps_metadata()
    {
        using var dir = new TempDir();
        string path = dir.File("model.safetensors");
        float[] source = Params();
        SafeTensors.Save(path, Slots, source, new Dictionary<string, string> { ["format"] = "pt", ["epoch"] = "3" });

        float[] loaded = new float[ParamCount];
        SafeTensors.LoadInto(path, Slots, loaded);
        Assert.Equal(source, loaded);

        SafeTensorFile file = SafeTensors.Read(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("3", file.Metadata["epoch"]);
        Assert.Equal(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, file.Tensors.Select(t => t.Name));
        Assert.Equal(new[] { 3, 8 }, file["2.weight"].Shape);
        Assert.Equal(SafeTensorDType.F32, file["2.weight"].DType);
        Assert.Equal(source.AsSpan(10, 24).ToArray(), file["2.weight"].Data);
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void Save_writes_the_reference_layout_header_padded_to_8_bytes_and_contiguous_offsets()
    {
        using var dir = new TempDir();
        string path = dir.File("w.safetensors");
        SafeTensors.Save(path, Slots, Params());
        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        Assert.Equal(8 + (long)n + ParamCount * 4, bytes.Length);
        string json = Encoding.UTF8.GetString(bytes, 8, (int)n).TrimEnd(' ');
        Assert.StartsWith("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,1,2,2],\"data_offsets\":[0,32]}", json);
        Assert.Contains("\"2.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[136,148]}", json);
        Assert.DoesNotContain("__metadata__", json);
        // Data starts right after the header, little-endian float32.
        Assert.Equal(Params()[0], BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n)));
    }

    [Fact]
    public void LoadInto_reads_a_hand_built_PyTorch_style_file_with_unsorted_keys_and_metadata()
    {
        // As safetensors.torch.save_file writes it: keys in any order, __metadata__ anywhere, data in its own order.
        string json = "{\"1.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}," +
                      "\"__metadata__\":{\"format\":\"pt\"}," +
                      "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
        byte[] file = Build(json, F32(1, 2, 3, 4, 5, 6, -7, -8), pad: 5);
        var slots = new TensorSlot[] { new("0.weight", new[] { 2, 3 }, 2), new("1.bias", new[] { 2 }, 0) };
        float[] dest = new float[8];
        SafeTensors.LoadInto(new MemoryStream(file), "hand.safetensors", slots, dest);
        Assert.Equal(new float[] { -7, -8, 1, 2, 3, 4, 5, 6 }, dest);

        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("hand.safetensors"), file);
        SafeTensorFile read = SafeTensors.Read(dir.File("hand.safetensors"));
        Assert.Equal("pt", read.Metadata["format"]);
        Assert.Equal(new[] { "0.weight", "1.bias" }, read.Tensors.Select(t => t.Name)); // file data order
    }

    [Fact]
    public void Read_converts_every_supported_dtype_to_float()
    {
        var data = new List<byte>();
        var parts = new List<string>();
        void Add(string key, string dtype, int[] shape, byte[] bytes)
        {
            parts.Add($"\"{key}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{data.Count},{data.Count + bytes.Length}]}}");
            data.AddRange(bytes);
        }
        byte[] f64 = new byte[16]; BinaryPrimitives.WriteDoubleLittleEndian(f64, 1.5); BinaryPrimitives.WriteDoubleLittleEndian(f64.AsSpan(8), -2.25);
        byte[] i64 = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(i64, 937);
        byte[] i32 = new byte[8]; BinaryPrimitives.WriteInt32LittleEndian(i32, -5); BinaryPrimitives.WriteInt32LittleEndian(i32.AsSpan(4), 7);
        byte[] f16 = new byte[4]; BinaryPrimitives.WriteHalfLittleEndian(f16, (Half)0.5f); BinaryPrimitives.WriteHalfLittleEndian(f16.AsSpan(2), (Half)(-3f));
        byte[] bf16 = { 0x80, 0x3F, 0x20, 0xC0 }; // 0x3F80 = 1.0, 0xC020 = -2.5
        Add("a", "F64", new[] { 2 }, f64);
        Add("n", "I64", Array.Empty<int>(), i64);
        Add("b", "I32", new[] { 1, 2 }, i32);
        Add("c", "U8", new[] { 3 }, new byte[] { 0, 128, 255 });
        Add("d", "F16", new[] { 2 }, f16);
        Add("e", "BF16", new[] { 2, 1 }, bf16);
        Add("f", "F32", new[] { 1 }, F32(0.25f));
        byte[] file = Build("{" + string.Join(",", parts) + "}", data.ToArray());
        SafeTensorFile r = SafeTensors.Read(new MemoryStream(file), "all.safetensors");

        Assert.Equal(new[] { 1.5f, -2.25f }, r["a"].Data);
        Assert.Equal(SafeTensorDType.F64, r["a"].DType);
        Assert.Equal(new[] { 937f }, r["n"].Data);
        Assert.Empty(r["n"].Shape);
        Assert.Equal(new[] { -5f, 7f }, r["b"].Data);
        Assert.Equal(new[] { 0f, 128f, 255f }, r["c"].Data);
        Assert.Equal(new[] { 0.5f, -3f }, r["d"].Data);
        Assert.Equal(new[] { 1f, -2.5f }, r["e"].Data);
        Assert.Equal(new[] { 2, 1 }, r["e"].Shape);
        Assert.Equal(bf16, r["e"].RawData);
        Assert.Equal(new[] { 0.25f }, r["f"].Data);
        Assert.Empty(r.Metadata);
    }

    private static byte[] GoodFile() => Build(
        "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}",
        F32(1, 2, 3, 4, 5, 6, 7, 8));

    private static readonly TensorSlot[] SmallSlots = { new("0.weight", new[] { 2, 3 }, 0), new("0.bias", new[] { 2 }, 6) };

    /// <summary>Loads from a real file (to exercise the path overload) and returns the exception; asserts the destination is untouched.</summary>
    private static WeightsFormatException Reject(byte[] file, TensorSlot[]? slots = null, int destLength = 8)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, file);
        float[] dest = Sentinel(destLength);
        var ex = Assert.Throws<WeightsFormatException>(() => SafeTensors.LoadInto(path, slots ?? SmallSlots, dest));
        Assert.All(dest, v => Assert.Equal(42.5f, v));
        Assert.Contains(path, ex.Message);
        Assert.Equal(path, ex.FileName);
        Assert.IsAssignableFrom<IOException>(ex);
        return ex;
    }

    [Fact]
    public void Good_file_loads_so_rejection_tests_differ_only_in_the_defect()
    {
        float[] dest = new float[8];
        SafeTensors.LoadInto(new MemoryStream(GoodFile()), "good", SmallSlots, dest);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }, dest);
    }

    [Fact]
    public void Missing_key_is_rejected_naming_the_key_and_expected_shape()
    {
        var slots = new TensorSlot[] { SmallSlots[0], SmallSlots[1], new("3.weight", new[] { 4, 2 }, 8) };
        var ex = Reject(GoodFile(), slots, destLength: 16);
        Assert.Contains("missing tensor '3.weight'", ex.Message);
        Assert.Contains("[4, 2]", ex.Message);
        Assert.Equal("3.weight", ex.Key);
    }

    [Fact]
    public void Unexpected_key_is_rejected_like_strict_load_state_dict()
    {
        var ex = Reject(GoodFile(), new[] { SmallSlots[0] });
        Assert.Contains("unexpected tensor '0.bias'", ex.Message);
        Assert.Contains("[2]", ex.Message);
        Assert.Equal("0.bias", ex.Key);
    }

    [Fact]
    public void Wrong_shape_is_rejected_naming_the_key_and_both_shapes()
    {
        var slots = new TensorSlot[] { new("0.weight", new[] { 3, 2 }, 0), SmallSlots[1] };
        var ex = Reject(GoodFile(), slots);
        Assert.Contains("tensor '0.weight' has shape [2, 3] in the file, but the model expects [3, 2]", ex.Message);
        Assert.Equal("0.weight", ex.Key);
    }

    [Fact]
    public void Several_problems_are_all_reported()
    {
        var slots = new TensorSlot[] { new("0.weight", new[] { 6 }, 0), new("1.bias", new[] { 2 }, 6) };
        var ex = Reject(GoodFile(), slots);
        Assert.Equal(3, ex.Problems.Count);
        Assert.Contains("'0.weight' has shape [2, 3] in the file, but the model expects [6]", ex.Message);
        Assert.Contains("missing tensor '1.bias'", ex.Message);
        Assert.Contains("unexpected tensor '0.bias'", ex.Message);
    }

    [Fact]
    public void Wrong_dtype_is_rejected_naming_both_dtypes_and_shapes()
    {
        byte[] f64 = new byte[48];
        byte[] file = Build(
            "{\"0.weight\":{\"dtype\":\"F64\",\"shape\":[2,3],\"data_offsets\":[0,48]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[48,56]}}",
            Concat(f64, F32(7, 8)));
        var ex = Reject(file);
        Assert.Contains("tensor '0.weight' has dtype F64 [2, 3] in the file, but the model expects F32 [2, 3]", ex.Message);
    }

    [Fact]
    public void Truncated_data_is_rejected()
    {
        byte[] good = GoodFile();
        var ex = Reject(good.AsSpan(0, good.Length - 3).ToArray());
        Assert.Contains("'0.bias'", ex.Message);
        Assert.Contains("truncated", ex.Message);
        Assert.Contains("[24, 32]", ex.Message);

        // The same through a non-seekable stream.
        float[] dest = Sentinel(8);
        var ex2 = Assert.Throws<WeightsFormatException>(() =>
            SafeTensors.LoadInto(new NonSeekable(good.AsSpan(0, good.Length - 3).ToArray()), "pipe", SmallSlots, dest));
        Assert.Contains("truncated", ex2.Message);
        Assert.All(dest, v => Assert.Equal(42.5f, v));
    }

    [Fact]
    public void Header_length_larger_than_the_file_is_rejected()
    {
        byte[] file = Build("{}", Array.Empty<byte>(), declaredLength: 1_000_000);
        var ex = Reject(file);
        Assert.Contains("header length 1000000 is larger than the rest of the file (2 bytes)", ex.Message);
        Assert.Null(ex.Key);
    }

    [Fact]
    public void File_shorter_than_the_length_prefix_is_rejected()
    {
        var ex = Reject(new byte[] { 1, 2, 3 });
        Assert.Contains("3 bytes long", ex.Message);
    }

    [Fact]
    public void Malformed_json_is_rejected()
    {
        var ex = Reject(Build("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},", F32(1, 2, 3, 4, 5, 6)));
        Assert.Contains("not well-formed JSON", ex.Message);
        var ex2 = Reject(Build("[1,2]", Array.Empty<byte>()));
        Assert.Contains("must be a JSON object", ex2.Message);
    }

    [Fact]
    public void Overlapping_offsets_are_rejected()
    {
        byte[] file = Build(
            "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[20,28]}}",
            F32(1, 2, 3, 4, 5, 6, 7, 8));
        var ex = Reject(file);
        Assert.Contains("'0.weight' [0, 24] and '0.bias' [20, 28] have overlapping data_offsets", ex.Message);
    }

    [Fact]
    public void Offsets_that_disagree_with_dtype_times_shape_are_rejected()
    {
        byte[] file = Build(
            "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}",
            F32(1, 2, 3, 4, 5, 6, 7, 8));
        var ex = Reject(file);
        Assert.Contains("tensor '0.weight' is F32 [2, 3], which needs 24 bytes, but its data_offsets [0, 20] span 20 bytes", ex.Message);
    }

    [Fact]
    public void Unsupported_dtype_and_duplicate_keys_are_rejected()
    {
        var ex = Reject(Build("{\"0.weight\":{\"dtype\":\"F8_E4M3\",\"shape\":[2,3],\"data_offsets\":[0,6]}}", new byte[6]));
        Assert.Contains("tensor '0.weight' has unsupported dtype 'F8_E4M3'", ex.Message);
        var ex2 = Reject(Build(
            "{\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
            F32(1, 2, 3, 4)));
        Assert.Contains("tensor '0.bias' appears twice", ex2.Message);
    }

    [Fact]
    public void Slots_that_do_not_fit_the_destination_are_a_programming_error()
    {
        Assert.Throws<ArgumentException>(() => SafeTensors.LoadInto(new MemoryStream(GoodFile()), "x", SmallSlots, new float[7]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(Path.Combine(Path.GetTempPath(), "never.safetensors"),
            new TensorSlot[] { new("a", new[] { 2 }, 0), new("a", new[] { 2 }, 2) }, new float[4]));
    }

    [Fact]
    public void Interrupted_save_leaves_the_previous_file_byte_identical()
    {
        using var dir = new TempDir();
        string path = dir.File("ckpt.safetensors");
        SafeTensors.Save(path, Slots, Params());
        byte[] before = File.ReadAllBytes(path);

        var ex = Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[4096]);   // half of a new file...
            s.Flush();
            throw new IOException("simulated crash midway");
        }));
        Assert.Equal("simulated crash midway", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(dir.Path)); // the temp file was cleaned up

        // A disposed-without-commit writer is also discarded.
        using (AtomicFileWriter w = AtomicFile.Create(path))
        {
            w.Stream.Write(new byte[] { 1, 2, 3 });
            Assert.True(File.Exists(w.TempPath));
            Assert.Equal(dir.Path, Path.GetDirectoryName(w.TempPath));
        }
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir.Path));

        // And a successful save replaces it.
        float[] changed = Params();
        changed[0] = 123f;
        SafeTensors.Save(path, Slots, changed);
        float[] loaded = new float[ParamCount];
        SafeTensors.LoadInto(path, Slots, loaded);
        Assert.Equal(123f, loaded[0]);
    }

    [Fact]
    public void AtomicFile_creates_new_files_and_overwrites_existing_ones()
    {
        using var dir = new TempDir();
        string path = dir.File("a.bin");
        AtomicFile.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        AtomicFile.Write(path, s => s.WriteByte(9));
        Assert.Equal(new byte[] { 9 }, File.ReadAllBytes(path));
    }

    [Fact]
    public void Loads_the_PyTorch_state_dict_of_the_DESIGN_model_and_saves_it_back_byte_for_byte()
    {
        // tools/golden/make_parity.py: state_dict() of the DESIGN.md MnistCnn as nn.Sequential (Conv2d-ReLU-MaxPool x2,
        // Flatten, Linear, ReLU, Dropout, Linear), written with metadata {"format": "pt"}.
        string path = Path.Combine(TestData.RepoRoot, "tests", "Runtime.Tests", "Fixtures", "parity", "models", "model_a.weights.safetensors");
        var slots = new TensorSlot[]
        {
            new("0.weight", new[] { 16, 1, 3, 3 }, 0),
            new("0.bias", new[] { 16 }, 144),
            new("3.weight", new[] { 32, 16, 3, 3 }, 160),
            new("3.bias", new[] { 32 }, 4768),
            new("7.weight", new[] { 32, 1568 }, 4800),
            new("7.bias", new[] { 32 }, 54976),
            new("10.weight", new[] { 10, 32 }, 55008),
            new("10.bias", new[] { 10 }, 55328),
        };
        var parameters = new float[55_338];
        SafeTensors.LoadInto(path, slots, parameters);

        SafeTensorFile reference = SafeTensors.Read(path);
        Assert.Equal("pt", reference.Metadata["format"]);
        Assert.Equal(reference["7.weight"].Data, parameters.AsSpan(4800, 32 * 1568).ToArray());
        Assert.Equal(reference["10.bias"].Data, parameters.AsSpan(55328, 10).ToArray());
        // PyTorch's default init bounds the first conv's weights by 1/sqrt(9).
        Assert.All(reference["0.weight"].Data, v => Assert.InRange(v, -1f / 3, 1f / 3));

        using var dir = new TempDir();
        string copy = dir.File("copy.safetensors");
        SafeTensors.Save(copy, slots, parameters, new Dictionary<string, string> { ["format"] = "pt" });
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(copy));

        // The full parity file also holds input/output tensors: a strict load names them as unexpected.
        string full = Path.Combine(Path.GetDirectoryName(path)!, "model_a.safetensors");
        float[] before = (float[])parameters.Clone();
        var ex = Assert.Throws<WeightsFormatException>(() => SafeTensors.LoadInto(full, slots, parameters));
        Assert.Contains("unexpected tensor 'input' (F32 [4, 1, 28, 28])", ex.Message);
        Assert.Equal(before, parameters);
    }

    [Fact]
    public void Slots_may_store_other_dtypes_such_as_batch_norm_num_batches_tracked_as_I64()
    {
        // nn.BatchNorm2d(2).state_dict(): weight, bias, running_mean, running_var (F32 [2]) and num_batches_tracked (I64, shape []).
        var slots = new TensorSlot[]
        {
            new("1.weight", new[] { 2 }, 0), new("1.bias", new[] { 2 }, 2),
            new("1.running_mean", new[] { 2 }, 4), new("1.running_var", new[] { 2 }, 6),
            new("1.num_batches_tracked", Array.Empty<int>(), 8) { DType = SafeTensorDType.I64 },
        };
        float[] values = { 1, 1, 0, 0, 0.5f, -0.25f, 1.5f, 2, 937 };
        using var dir = new TempDir();
        string path = dir.File("bn.safetensors");
        SafeTensors.Save(path, slots, values);

        SafeTensorFile file = SafeTensors.Read(path);
        Assert.Equal(SafeTensorDType.I64, file["1.num_batches_tracked"].DType);
        Assert.Empty(file["1.num_batches_tracked"].Shape);
        Assert.Equal(937L, BinaryPrimitives.ReadInt64LittleEndian(file["1.num_batches_tracked"].RawData));
        Assert.Equal(SafeTensorDType.F32, file["1.running_var"].DType);

        float[] loaded = Sentinel(9);
        SafeTensors.LoadInto(path, slots, loaded);
        Assert.Equal(values, loaded);

        // Strict: an F32 slot does not accept the I64 tensor.
        var f32Slots = (TensorSlot[])slots.Clone();
        f32Slots[4] = new TensorSlot("1.num_batches_tracked", Array.Empty<int>(), 8);
        float[] dest = Sentinel(9);
        var ex = Assert.Throws<WeightsFormatException>(() => SafeTensors.LoadInto(path, f32Slots, dest));
        Assert.Contains("tensor '1.num_batches_tracked' has dtype I64 [] in the file, but the model expects F32 []", ex.Message);
        Assert.All(dest, v => Assert.Equal(42.5f, v));
    }

    [Fact]
    public void FromFloat_rounds_and_saturates_like_a_cast_with_round_to_nearest()
    {
        var b = new byte[8];
        SafeTensors.FromFloat(SafeTensorDType.I64, 2.5f, b);
        Assert.Equal(2L, BinaryPrimitives.ReadInt64LittleEndian(b)); // ties to even
        SafeTensors.FromFloat(SafeTensorDType.I64, 1e30f, b);
        Assert.Equal(long.MaxValue, BinaryPrimitives.ReadInt64LittleEndian(b));
        SafeTensors.FromFloat(SafeTensorDType.U8, 300f, b);
        Assert.Equal(255, b[0]);
        SafeTensors.FromFloat(SafeTensorDType.I8, -3.6f, b);
        Assert.Equal(-4, (sbyte)b[0]);
        // bfloat16: 1 + 2^-8 is a tie between 1 and 1 + 2^-7 -> even (1.0, 0x3F80); 1 + 3*2^-9 rounds up to 0x3F81.
        SafeTensors.FromFloat(SafeTensorDType.BF16, 1f + 1f / 256, b);
        Assert.Equal(0x3F80, BinaryPrimitives.ReadUInt16LittleEndian(b));
        SafeTensors.FromFloat(SafeTensorDType.BF16, 1f + 3f / 512, b);
        Assert.Equal(0x3F81, BinaryPrimitives.ReadUInt16LittleEndian(b));
        SafeTensors.FromFloat(SafeTensorDType.F16, 0.5f, b);
        Assert.Equal((Half)0.5f, BinaryPrimitives.ReadHalfLittleEndian(b));
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    }
}

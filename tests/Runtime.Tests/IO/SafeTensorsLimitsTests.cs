using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using CnnGen.IO;
using CnnGen.Runtime.Tests.Generated;
using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>
/// The reader's memory bounds (nothing past the indexed data is read; data sections over an array's size and headers over
/// the limit are refused with the file's name before anything is allocated) and its values rule (NaN and infinities rejected
/// by default, naming the key; <see cref="WeightsLoadOptions.AllowNonFinite"/> accepts them).
/// </summary>
public class SafeTensorsLimitsTests
{
    private static readonly TensorSlot[] Slots = { new("w", new[] { 2 }, 0) };

    private static byte[] File(string json, byte[] data, ulong? declared = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declared ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private static byte[] Raw(SafeTensorDType dtype, params double[] values)
    {
        int size = SafeTensors.ElementSize(dtype);
        var b = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            Span<byte> s = b.AsSpan(i * size, size);
            switch (dtype)
            {
                case SafeTensorDType.F64: BinaryPrimitives.WriteDoubleLittleEndian(s, values[i]); break;
                case SafeTensorDType.F32: BinaryPrimitives.WriteSingleLittleEndian(s, (float)values[i]); break;
                case SafeTensorDType.F16: BinaryPrimitives.WriteHalfLittleEndian(s, (Half)values[i]); break;
                case SafeTensorDType.BF16: BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)(BitConverter.SingleToUInt32Bits((float)values[i]) >> 16)); break;
                case SafeTensorDType.I64: BinaryPrimitives.WriteInt64LittleEndian(s, (long)values[i]); break;
                default: throw new ArgumentOutOfRangeException(nameof(dtype));
            }
        }
        return b;
    }

    private static byte[] One(SafeTensorDType dtype, params double[] values) =>
        File($"{{\"w\":{{\"dtype\":\"{dtype}\",\"shape\":[{values.Length}],\"data_offsets\":[0,{values.Length * SafeTensors.ElementSize(dtype)}]}}}}", Raw(dtype, values));

    [Fact]
    public void A_gigabyte_of_trailing_bytes_is_rejected_without_being_read()
    {
        byte[] good = One(SafeTensorDType.F32, 1, 2);
        using var stream = new VirtualStream(good, good.Length + (1L << 30));
        var ex = Assert.Throws<WeightsFormatException>(() => SafeTensors.LoadInto(stream, "padded.safetensors", Slots, new float[2]));
        Assert.Contains("'padded.safetensors'", ex.Message);
        Assert.Contains($"the file has {1L << 30} bytes after the last tensor", ex.Message);
        Assert.True(stream.BytesRead <= good.Length, $"read {stream.BytesRead} bytes");
    }

    [Fact]
    public void A_data_section_over_two_gigabytes_is_refused_with_the_file_name_before_allocating()
    {
        const long bytes = 2_400_000_000; // F64 [300000000]
        byte[] head = File($"{{\"w\":{{\"dtype\":\"F64\",\"shape\":[300000000],\"data_offsets\":[0,{bytes}]}}}}", Array.Empty<byte>());
        using var stream = new VirtualStream(head, head.Length + bytes);
        var ex = Assert.Throws<WeightsFormatException>(() => SafeTensors.Read(stream, "huge.safetensors"));
        Assert.Contains("'huge.safetensors'", ex.Message);
        Assert.Contains("data section is 2,400,000,000 bytes", ex.Message);
        Assert.True(stream.BytesRead <= head.Length, $"read {stream.BytesRead} bytes");
    }

    [Fact]
    public void A_pipe_announcing_a_header_over_the_limit_is_refused_after_eight_bytes()
    {
        using var stream = new VirtualStream(File("{}", Array.Empty<byte>(), declared: 200_000_000), 1L << 40, seekable: false);
        var ex = Assert.Throws<WeightsFormatException>(() => SafeTensors.LoadInto(stream, "pipe", Slots, new float[2]));
        Assert.Contains("header length 200000000 exceeds the 100000000-byte limit", ex.Message);
        Assert.Equal(8, stream.BytesRead);
    }

    [Theory]
    [InlineData(SafeTensorDType.F32, double.NaN, "NaN")]
    [InlineData(SafeTensorDType.F32, double.NegativeInfinity, "-Infinity")]
    [InlineData(SafeTensorDType.F64, 1e300, "+Infinity")] // finite as a double, infinite as a float
    [InlineData(SafeTensorDType.F16, double.PositiveInfinity, "+Infinity")]
    [InlineData(SafeTensorDType.BF16, double.NaN, "NaN")]
    public void Non_finite_values_are_rejected_naming_the_key_unless_allowed(SafeTensorDType dtype, double bad, string shown)
    {
        var slots = new[] { new TensorSlot("w", new[] { 2 }, 0) { DType = dtype } };
        byte[] file = One(dtype, 0.5, bad);
        float[] dest = { 7f, 7f };
        var ex = Assert.Throws<WeightsFormatException>(() => SafeTensors.LoadInto(new MemoryStream(file), "nan.safetensors", slots, dest));
        Assert.Equal("w", ex.Key);
        Assert.Contains($"tensor 'w' ({dtype}) holds a non-finite value ({shown}) at element 1", ex.Message);
        Assert.Equal(new[] { 7f, 7f }, dest);

        SafeTensors.LoadInto(new MemoryStream(file), "nan.safetensors", slots, dest, new WeightsLoadOptions { AllowNonFinite = true });
        Assert.Equal(0.5f, dest[0]);
        Assert.False(float.IsFinite(dest[1]));
    }

    [Fact]
    public void Large_integers_are_finite_and_Read_keeps_non_finite_values()
    {
        var slots = new[] { new TensorSlot("w", new[] { 2 }, 0) { DType = SafeTensorDType.I64 } };
        float[] dest = new float[2];
        SafeTensors.LoadInto(new MemoryStream(One(SafeTensorDType.I64, 1, 9e18)), "i64", slots, dest);
        Assert.Equal(9e18f, dest[1]);
        Assert.True(float.IsNaN(SafeTensors.Read(new MemoryStream(One(SafeTensorDType.F32, 1, double.NaN)), "nan")["w"].Data[1]));
    }

    [Fact]
    public void A_rejected_file_leaves_parameters_and_batch_norm_buffers_unchanged()
    {
        using var dir = new TempDir();
        var source = new FoldSeq(3);
        for (int i = 0; i < source.Buffers.Length; i++)
            source.Buffers[i] = 1 + i % 5;
        string good = dir.File("good.safetensors");
        source.SaveWeights(good);

        // NaN as b1.running_var[2]: find it in the header, patch the bytes.
        byte[] bytes = System.IO.File.ReadAllBytes(good);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var json = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        int begin = json.RootElement.GetProperty("b1.running_var").GetProperty("data_offsets")[0].GetInt32();
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(8 + headerLength + begin + 8), float.NaN);
        string bad = dir.File("bad.safetensors");
        System.IO.File.WriteAllBytes(bad, bytes);

        var model = new FoldSeq(11);
        for (int i = 0; i < model.Buffers.Length; i++)
            model.Buffers[i] = 100 + i;
        float[] parameters = (float[])model.Parameters.Clone(), buffers = (float[])model.Buffers.Clone();
        var ex = Assert.Throws<WeightsFormatException>(() => model.LoadWeights(bad));
        Assert.Contains("tensor 'b1.running_var' (F32) holds a non-finite value (NaN) at element 2", ex.Message);
        Assert.Equal(parameters, model.Parameters);
        Assert.Equal(buffers, model.Buffers);
        Assert.Throws<WeightsFormatException>(() => model.LoadWeights(bad, WeightsLoadOptions.Default));
        Assert.Equal(buffers, model.Buffers);

        model.LoadWeights(bad, new WeightsLoadOptions { AllowNonFinite = true });
        Assert.Equal(source.Parameters, model.Parameters);
        int at = Array.FindIndex(model.BufferSlots, s => s.Key == "b1.running_var");
        Assert.True(float.IsNaN(model.Buffers[model.BufferSlots[at].Offset + 2]));

        model.LoadWeights(good, WeightsLoadOptions.Default);
        Assert.Equal(source.Buffers, model.Buffers);
    }

    /// <summary>A stream of <paramref name="length"/> bytes: <c>prefix</c>, then zeros that exist only when read. Counts what is read.</summary>
    private sealed class VirtualStream(byte[] prefix, long length, bool seekable = true) : Stream
    {
        private long _position;
        public long BytesRead { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => seekable;
        public override bool CanWrite => false;
        public override long Length => seekable ? length : throw new NotSupportedException();
        public override long Position { get => seekable ? _position : throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _position);
            for (int i = 0; i < n; i++)
                buffer[i] = _position + i < prefix.Length ? prefix[_position + i] : (byte)0;
            _position += n;
            BytesRead += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

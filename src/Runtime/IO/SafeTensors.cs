using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace CnnGen.IO;

/// <summary>One named tensor of a model's flat parameter array.</summary>
/// <param name="Key">The safetensors key, e.g. <c>0.weight</c> (PyTorch <c>nn.Sequential</c> naming).</param>
/// <param name="Shape">The tensor's shape; its element count is the product of the dimensions (1 for a scalar <c>[]</c>).</param>
/// <param name="Offset">Where the tensor's first element sits in the flat float array.</param>
public readonly record struct TensorSlot(string Key, int[] Shape, int Offset)
{
    /// <summary>The number of elements: the product of <see cref="Shape"/>.</summary>
    public int ElementCount => SafeTensors.ElementCount(Shape);

    /// <summary>
    /// The dtype stored in the file (default <see cref="SafeTensorDType.F32"/>). Values are always floats in memory; a slot such as
    /// PyTorch's batch-norm <c>num_batches_tracked</c> (I64, shape []) sets <c>DType = SafeTensorDType.I64</c> and is converted on load and save.
    /// Loading stays strict: the file's dtype must equal this one.
    /// </summary>
    public SafeTensorDType DType { get; init; }
}

/// <summary>The element types of the safetensors format.</summary>
public enum SafeTensorDType
{
    /// <summary>IEEE single precision (the default, and what model parameters use).</summary>
    F32 = 0,
    /// <summary>Boolean, one byte (0 or 1).</summary>
    BOOL,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>IEEE half precision.</summary>
    F16,
    /// <summary>bfloat16 (the upper half of an IEEE single).</summary>
    BF16,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
    /// <summary>Signed 64-bit integer (PyTorch's <c>num_batches_tracked</c>).</summary>
    I64,
    /// <summary>IEEE double precision.</summary>
    F64,
}

/// <summary>
/// A weights file that cannot be used: malformed safetensors, or tensors that do not match the model
/// (missing or unexpected key, wrong shape, wrong dtype, truncated data). The message names the file,
/// the key(s) and the shapes involved.
/// </summary>
/// <remarks>
/// Derives from <see cref="IOException"/> because <see cref="InvalidDataException"/> is sealed; a <c>catch (IOException)</c>
/// around loading catches both this and file-system errors.
/// </remarks>
public sealed class WeightsFormatException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="fileName">The file (or stream name) being read.</param>
    /// <param name="key">The first offending tensor key, or null when the problem is not about one tensor.</param>
    /// <param name="problems">Every problem found, one sentence each.</param>
    public WeightsFormatException(string fileName, string? key, IReadOnlyList<string> problems)
        : base(Format(fileName, problems))
    {
        FileName = fileName;
        Key = key;
        Problems = problems;
    }

    /// <summary>The file (or stream name) that was rejected.</summary>
    public string FileName { get; }

    /// <summary>The first offending tensor key, or null when the problem concerns the file as a whole.</summary>
    public string? Key { get; }

    /// <summary>Every problem found, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Format(string fileName, IReadOnlyList<string> problems)
    {
        if (problems.Count == 1)
            return $"Cannot load weights from '{fileName}': {problems[0]}";
        var sb = new StringBuilder();
        sb.Append("Cannot load weights from '").Append(fileName).Append("': ").Append(problems.Count.ToString(CultureInfo.InvariantCulture)).Append(" problems:");
        foreach (string p in problems)
            sb.Append("\n  - ").Append(p);
        return sb.ToString();
    }
}

/// <summary>One tensor read by <see cref="SafeTensors.Read(string)"/>.</summary>
public sealed class SafeTensor
{
    internal SafeTensor(string name, SafeTensorDType dtype, int[] shape, byte[] raw)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        RawData = raw;
        Data = SafeTensors.ToFloat(dtype, raw);
    }

    /// <summary>The key.</summary>
    public string Name { get; }

    /// <summary>The stored element type.</summary>
    public SafeTensorDType DType { get; }

    /// <summary>The shape (empty for a scalar).</summary>
    public int[] Shape { get; }

    /// <summary>The number of elements.</summary>
    public int ElementCount => Data.Length;

    /// <summary>The stored bytes, little-endian, exactly as in the file.</summary>
    public byte[] RawData { get; }

    /// <summary>The values converted to float (integers and booleans converted by value; 64-bit values may round).</summary>
    public float[] Data { get; }
}

/// <summary>The content of a safetensors file: tensors in file order, and the <c>__metadata__</c> strings.</summary>
public sealed class SafeTensorFile
{
    internal SafeTensorFile(List<SafeTensor> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors;
        var byName = new Dictionary<string, SafeTensor>(tensors.Count, StringComparer.Ordinal);
        foreach (SafeTensor t in tensors)
            byName.Add(t.Name, t);
        ByName = byName;
        Metadata = metadata;
    }

    /// <summary>The tensors, in the order of their data in the file.</summary>
    public IReadOnlyList<SafeTensor> Tensors { get; }

    /// <summary>The tensors by key.</summary>
    public IReadOnlyDictionary<string, SafeTensor> ByName { get; }

    /// <summary>The <c>__metadata__</c> entries (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor named <paramref name="key"/>.</summary>
    /// <param name="key">The tensor's key.</param>
    public SafeTensor this[string key] => ByName.TryGetValue(key, out SafeTensor? t) ? t : throw new KeyNotFoundException($"No tensor '{key}' in the file.");
}

/// <summary>
/// Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format:
/// an 8-byte little-endian header length N, N bytes of UTF-8 JSON describing each tensor
/// (<c>dtype</c>, <c>shape</c>, <c>data_offsets</c> relative to the end of the header) plus optional
/// <c>__metadata__</c> strings, then the raw little-endian data.
/// </summary>
public static class SafeTensors
{
    /// <summary>Upper bound on the JSON header (the reference implementation uses the same 100 MB limit).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>
    /// Loads the tensors named by <paramref name="slots"/> into <paramref name="destination"/>, strictly: every slot must be present
    /// with the slot's dtype (F32 unless the slot says otherwise) and exactly the slot's shape, and the file may hold no other tensors. On any failure a
    /// <see cref="WeightsFormatException"/> is thrown and <paramref name="destination"/> is left untouched.
    /// </summary>
    /// <param name="path">The safetensors file.</param>
    /// <param name="slots">The expected tensors and where each goes in <paramref name="destination"/>.</param>
    /// <param name="destination">The flat parameter array.</param>
    public static void LoadInto(string path, ReadOnlySpan<TensorSlot> slots, Span<float> destination)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        LoadInto(stream, path, slots, destination);
    }

    /// <summary>
    /// Loads the tensors named by <paramref name="slots"/> from a stream positioned at the start of safetensors content.
    /// Same rules as <see cref="LoadInto(string, ReadOnlySpan{TensorSlot}, Span{float})"/>.
    /// </summary>
    /// <param name="stream">The content; read to its end.</param>
    /// <param name="nameForErrors">How to name the source in error messages (usually the file path).</param>
    /// <param name="slots">The expected tensors and where each goes in <paramref name="destination"/>.</param>
    /// <param name="destination">The flat parameter array.</param>
    public static void LoadInto(Stream stream, string nameForErrors, ReadOnlySpan<TensorSlot> slots, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(stream);
        nameForErrors ??= "<stream>";
        ValidateSlots(slots, destination.Length, nameof(slots));

        Header header = ReadHeader(stream, nameForErrors);
        byte[] data = ReadRest(stream);
        ValidateEntries(header, data.LongLength, nameForErrors);

        var problems = new List<string>();
        string? firstKey = null;
        var entries = header.ByName;
        var slotKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorSlot slot in slots)
        {
            slotKeys.Add(slot.Key);
            if (!entries.TryGetValue(slot.Key, out Entry? e))
            {
                problems.Add($"missing tensor '{slot.Key}' (the model expects {slot.DType} {ShapeText(slot.Shape)})");
                firstKey ??= slot.Key;
                continue;
            }
            bool shapeOk = ShapeEquals(e.Shape, slot.Shape);
            if (e.DType != slot.DType)
            {
                problems.Add($"tensor '{slot.Key}' has dtype {e.DType} {ShapeText(e.Shape)} in the file, but the model expects {slot.DType} {ShapeText(slot.Shape)}");
                firstKey ??= slot.Key;
            }
            else if (!shapeOk)
            {
                problems.Add($"tensor '{slot.Key}' has shape {ShapeText(e.Shape)} in the file, but the model expects {ShapeText(slot.Shape)}");
                firstKey ??= slot.Key;
            }
        }
        foreach (Entry e in header.Entries)
        {
            if (!slotKeys.Contains(e.Name))
            {
                problems.Add($"unexpected tensor '{e.Name}' ({e.DType} {ShapeText(e.Shape)}): the model has no parameter with that key");
                firstKey ??= e.Name;
            }
        }
        if (problems.Count > 0)
            throw new WeightsFormatException(nameForErrors, firstKey, problems);

        // Everything checked: only now touch the destination.
        foreach (TensorSlot slot in slots)
        {
            Entry e = entries[slot.Key];
            int count = slot.ElementCount;
            Span<float> dst = destination.Slice(slot.Offset, count);
            ReadOnlySpan<byte> src = data.AsSpan(checked((int)e.Begin), count * ElementSize(e.DType));
            if (e.DType == SafeTensorDType.F32 && BitConverter.IsLittleEndian)
                src.CopyTo(MemoryMarshal.AsBytes(dst));
            else
                ToFloat(e.DType, src, dst);
        }
    }

    /// <summary>
    /// Saves the tensors named by <paramref name="slots"/> (as F32 unless a slot says otherwise), atomically: the file is written to a temporary file in the same
    /// directory, flushed to disk, then renamed over <paramref name="path"/>, so a crash never corrupts the previous file.
    /// </summary>
    /// <param name="path">The target file.</param>
    /// <param name="slots">The tensors and where each sits in <paramref name="source"/>; written in this order.</param>
    /// <param name="source">The flat parameter array.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> strings.</param>
    public static void Save(string path, ReadOnlySpan<TensorSlot> slots, ReadOnlySpan<float> source, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ValidateSlots(slots, source.Length, nameof(slots));
        using AtomicFileWriter writer = AtomicFile.Create(path);
        Write(writer.Stream, slots, source, metadata);
        writer.Commit();
    }

    /// <summary>Writes the tensors named by <paramref name="slots"/> (as F32 unless a slot says otherwise) as safetensors content to <paramref name="stream"/>.</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="slots">The tensors and where each sits in <paramref name="source"/>; written in this order.</param>
    /// <param name="source">The flat parameter array.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> strings.</param>
    public static void Write(Stream stream, ReadOnlySpan<TensorSlot> slots, ReadOnlySpan<float> source, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ValidateSlots(slots, source.Length, nameof(slots));

        var json = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (KeyValuePair<string, string> kv in metadata)
                    w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (TensorSlot slot in slots)
            {
                long bytes = (long)slot.ElementCount * ElementSize(slot.DType);
                w.WriteStartObject(slot.Key);
                w.WriteString("dtype", slot.DType.ToString());
                w.WriteStartArray("shape");
                foreach (int d in slot.Shape)
                    w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }

        // Pad the header with spaces to a multiple of 8 bytes, as the reference implementation does, so the data is aligned.
        int headerLength = (json.WrittenCount + 7) & ~7;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)headerLength);
        stream.Write(prefix);
        stream.Write(json.WrittenSpan);
        for (int i = json.WrittenCount; i < headerLength; i++)
            stream.WriteByte((byte)' ');

        Span<byte> one = stackalloc byte[8];
        foreach (TensorSlot slot in slots)
        {
            ReadOnlySpan<float> values = source.Slice(slot.Offset, slot.ElementCount);
            if (slot.DType == SafeTensorDType.F32 && BitConverter.IsLittleEndian)
            {
                stream.Write(MemoryMarshal.AsBytes(values));
                continue;
            }
            int size = ElementSize(slot.DType);
            foreach (float v in values)
            {
                FromFloat(slot.DType, v, one.Slice(0, size));
                stream.Write(one.Slice(0, size));
            }
        }
    }

    /// <summary>Reads every tensor of a safetensors file (any supported dtype, converted to float as well as kept raw) and its metadata.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The file's content.</returns>
    public static SafeTensorFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads every tensor of safetensors content from a stream.</summary>
    /// <param name="stream">The content, read to its end.</param>
    /// <param name="nameForErrors">How to name the source in error messages.</param>
    /// <returns>The content.</returns>
    public static SafeTensorFile Read(Stream stream, string nameForErrors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        nameForErrors ??= "<stream>";
        Header header = ReadHeader(stream, nameForErrors);
        byte[] data = ReadRest(stream);
        ValidateEntries(header, data.LongLength, nameForErrors);
        var sorted = new List<Entry>(header.Entries);
        sorted.Sort(static (a, b) => a.Begin.CompareTo(b.Begin));
        var tensors = new List<SafeTensor>(sorted.Count);
        foreach (Entry e in sorted)
            tensors.Add(new SafeTensor(e.Name, e.DType, e.Shape, data.AsSpan((int)e.Begin, (int)(e.End - e.Begin)).ToArray()));
        return new SafeTensorFile(tensors, header.Metadata);
    }

    /// <summary>The size in bytes of one element of <paramref name="dtype"/>.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    public static int ElementSize(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.BOOL or SafeTensorDType.U8 or SafeTensorDType.I8 => 1,
        SafeTensorDType.U16 or SafeTensorDType.I16 or SafeTensorDType.F16 or SafeTensorDType.BF16 => 2,
        SafeTensorDType.U32 or SafeTensorDType.I32 or SafeTensorDType.F32 => 4,
        SafeTensorDType.U64 or SafeTensorDType.I64 or SafeTensorDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    internal static int ElementCount(int[] shape)
    {
        int n = 1;
        foreach (int d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"Shape {ShapeText(shape)} has a negative dimension.");
            n = checked(n * d);
        }
        return n;
    }

    internal static string ShapeText(IReadOnlyList<int> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }
        return sb.Append(']').ToString();
    }

    internal static float[] ToFloat(SafeTensorDType dtype, byte[] raw)
    {
        var result = new float[raw.Length / ElementSize(dtype)];
        ToFloat(dtype, raw, result);
        return result;
    }

    /// <summary>Converts stored little-endian values of <paramref name="dtype"/> to floats (integers by value; 64-bit values may round).</summary>
    /// <param name="dtype">The stored type.</param>
    /// <param name="raw">ElementSize(dtype) bytes per value.</param>
    /// <param name="destination">One float per value.</param>
    public static void ToFloat(SafeTensorDType dtype, ReadOnlySpan<byte> raw, Span<float> destination)
    {
        int size = ElementSize(dtype);
        int n = raw.Length / size;
        if (destination.Length < n)
            throw new ArgumentException($"{n} values do not fit in {destination.Length} floats.", nameof(destination));
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<byte> b = raw.Slice(i * size, size);
            destination[i] = dtype switch
            {
                SafeTensorDType.BOOL => b[0] != 0 ? 1f : 0f,
                SafeTensorDType.U8 => b[0],
                SafeTensorDType.I8 => (sbyte)b[0],
                SafeTensorDType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
                SafeTensorDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(b),
                SafeTensorDType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
                SafeTensorDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
                SafeTensorDType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
                SafeTensorDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(b),
                SafeTensorDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(b),
                SafeTensorDType.U64 => BinaryPrimitives.ReadUInt64LittleEndian(b),
                SafeTensorDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(b),
                SafeTensorDType.F64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
                _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
            };
        }
    }

    /// <summary>
    /// Stores <paramref name="value"/> as one little-endian <paramref name="dtype"/> value: floats by IEEE rounding (BF16 rounds to
    /// nearest even), integers rounded to nearest and saturated to the type's range, BOOL as value != 0.
    /// </summary>
    /// <param name="dtype">The stored type.</param>
    /// <param name="value">The value.</param>
    /// <param name="destination">At least ElementSize(dtype) bytes.</param>
    public static void FromFloat(SafeTensorDType dtype, float value, Span<byte> destination)
    {
        double r = Math.Round((double)value, MidpointRounding.ToEven);
        switch (dtype)
        {
            case SafeTensorDType.F32: BinaryPrimitives.WriteSingleLittleEndian(destination, value); break;
            case SafeTensorDType.F64: BinaryPrimitives.WriteDoubleLittleEndian(destination, value); break;
            case SafeTensorDType.F16: BinaryPrimitives.WriteHalfLittleEndian(destination, (Half)value); break;
            case SafeTensorDType.BF16:
                {
                    uint bits = BitConverter.SingleToUInt32Bits(value);
                    ushort top = float.IsNaN(value) ? (ushort)((bits >> 16) | 0x40) : (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
                    BinaryPrimitives.WriteUInt16LittleEndian(destination, top);
                    break;
                }
            case SafeTensorDType.BOOL: destination[0] = value != 0 ? (byte)1 : (byte)0; break;
            case SafeTensorDType.U8: destination[0] = (byte)Math.Clamp(r, byte.MinValue, byte.MaxValue); break;
            case SafeTensorDType.I8: destination[0] = (byte)(sbyte)Math.Clamp(r, sbyte.MinValue, sbyte.MaxValue); break;
            case SafeTensorDType.U16: BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)Math.Clamp(r, ushort.MinValue, ushort.MaxValue)); break;
            case SafeTensorDType.I16: BinaryPrimitives.WriteInt16LittleEndian(destination, (short)Math.Clamp(r, short.MinValue, short.MaxValue)); break;
            case SafeTensorDType.U32: BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Math.Clamp(r, uint.MinValue, uint.MaxValue)); break;
            case SafeTensorDType.I32: BinaryPrimitives.WriteInt32LittleEndian(destination, (int)Math.Clamp(r, int.MinValue, int.MaxValue)); break;
            // (double)ulong.MaxValue and (double)long.MaxValue round up past the range, so saturate explicitly.
            case SafeTensorDType.U64: BinaryPrimitives.WriteUInt64LittleEndian(destination, r <= 0 || double.IsNaN(r) ? 0UL : r >= 18446744073709551615.0 ? ulong.MaxValue : (ulong)r); break;
            case SafeTensorDType.I64: BinaryPrimitives.WriteInt64LittleEndian(destination, double.IsNaN(r) ? 0L : r >= 9223372036854775807.0 ? long.MaxValue : r <= -9223372036854775808.0 ? long.MinValue : (long)r); break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }

    private static bool ShapeEquals(int[] a, int[] b) => a.AsSpan().SequenceEqual(b);

    private static void ValidateSlots(ReadOnlySpan<TensorSlot> slots, int arrayLength, string paramName)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorSlot slot in slots)
        {
            if (string.IsNullOrEmpty(slot.Key) || slot.Key == MetadataKey)
                throw new ArgumentException($"Invalid tensor key '{slot.Key}'.", paramName);
            if (slot.Shape is null)
                throw new ArgumentException($"Tensor '{slot.Key}' has no shape.", paramName);
            if (!Enum.IsDefined(slot.DType))
                throw new ArgumentException($"Tensor '{slot.Key}' has an invalid dtype {(int)slot.DType}.", paramName);
            if (!keys.Add(slot.Key))
                throw new ArgumentException($"Tensor key '{slot.Key}' appears twice.", paramName);
            int count = slot.ElementCount;
            if (slot.Offset < 0 || (long)slot.Offset + count > arrayLength)
                throw new ArgumentException($"Tensor '{slot.Key}' {ShapeText(slot.Shape)} at offset {slot.Offset} does not fit in a parameter array of {arrayLength} floats.", paramName);
        }
    }

    private sealed class Entry(string name, SafeTensorDType dtype, int[] shape, long begin, long end)
    {
        public string Name { get; } = name;
        public SafeTensorDType DType { get; } = dtype;
        public int[] Shape { get; } = shape;
        public long Begin { get; } = begin;
        public long End { get; } = end;
    }

    private sealed class Header
    {
        public List<Entry> Entries { get; } = new();
        public Dictionary<string, Entry> ByName { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);
    }

    private static WeightsFormatException Bad(string name, string problem, string? key = null) => new(name, key, new[] { problem });

    private static byte[] ReadRest(Stream stream)
    {
        if (stream.CanSeek)
        {
            long remaining = stream.Length - stream.Position;
            if (remaining > Array.MaxLength)
                throw new NotSupportedException($"Safetensors data sections over {Array.MaxLength} bytes are not supported.");
            var data = new byte[remaining];
            int read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            return read == data.Length ? data : data.AsSpan(0, read).ToArray();
        }
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return ms.ToArray();
    }

    private static Header ReadHeader(Stream stream, string name)
    {
        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
        if (got < 8)
            throw Bad(name, $"the file is {got} bytes long, too short for the 8-byte header length of the safetensors format");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength < 2)
            throw Bad(name, $"header length {headerLength} is too small to hold a JSON object");
        if (stream.CanSeek)
        {
            long available = stream.Length - stream.Position;
            if (headerLength > (ulong)available)
                throw Bad(name, $"header length {headerLength} is larger than the rest of the file ({available} bytes): not a safetensors file, or truncated");
        }
        if (headerLength > MaxHeaderBytes)
            throw Bad(name, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit: not a safetensors file");

        byte[] json = new byte[(int)headerLength];
        got = stream.ReadAtLeast(json, json.Length, throwOnEndOfStream: false);
        if (got < json.Length)
            throw Bad(name, $"header length {headerLength} is larger than the rest of the file ({got} bytes): not a safetensors file, or truncated");
        try
        {
            return ParseHeader(json, name);
        }
        catch (JsonException ex)
        {
            throw Bad(name, $"the header is not well-formed JSON ({ex.Message})");
        }
        catch (InvalidOperationException ex)
        {
            throw Bad(name, $"the header is not valid UTF-8 JSON ({ex.Message})");
        }
    }

    private static Header ParseHeader(byte[] json, string name)
    {
        var header = new Header();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
        Expect(ref reader, JsonTokenType.StartObject, name, "the header must be a JSON object");
        bool sawMetadata = false;
        while (true)
        {
            Read(ref reader, name);
            if (reader.TokenType == JsonTokenType.EndObject)
                break;
            string key = reader.GetString()!;
            if (key == MetadataKey)
            {
                if (sawMetadata)
                    throw Bad(name, "the header has two __metadata__ entries");
                sawMetadata = true;
                ParseMetadata(ref reader, header.Metadata, name);
                continue;
            }
            if (header.ByName.ContainsKey(key))
                throw Bad(name, $"tensor '{key}' appears twice in the header", key);
            Entry e = ParseEntry(ref reader, key, name);
            header.Entries.Add(e);
            header.ByName.Add(key, e);
        }
        // Only whitespace (the reference writer pads with spaces) may follow the object.
        if (reader.Read())
            throw Bad(name, "the header has content after its JSON object");
        return header;
    }

    private static void ParseMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string name)
    {
        Read(ref reader, name);
        if (reader.TokenType == JsonTokenType.Null)
            return;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Bad(name, "__metadata__ must be an object of strings");
        while (true)
        {
            Read(ref reader, name);
            if (reader.TokenType == JsonTokenType.EndObject)
                return;
            string k = reader.GetString()!;
            Read(ref reader, name);
            if (reader.TokenType != JsonTokenType.String)
                throw Bad(name, $"__metadata__ entry '{k}' must be a string, not {reader.TokenType}");
            metadata[k] = reader.GetString()!;
        }
    }

    private static Entry ParseEntry(ref Utf8JsonReader reader, string key, string name)
    {
        Read(ref reader, name);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Bad(name, $"tensor '{key}' must be described by an object with dtype, shape and data_offsets", key);
        SafeTensorDType? dtype = null;
        List<int>? shape = null;
        long begin = -1, end = -1;
        while (true)
        {
            Read(ref reader, name);
            if (reader.TokenType == JsonTokenType.EndObject)
                break;
            string field = reader.GetString()!;
            Read(ref reader, name);
            switch (field)
            {
                case "dtype":
                    if (reader.TokenType != JsonTokenType.String)
                        throw Bad(name, $"tensor '{key}': dtype must be a string", key);
                    string text = reader.GetString()!;
                    if (!TryParseDType(text, out SafeTensorDType dt))
                        throw Bad(name, $"tensor '{key}' has unsupported dtype '{text}'", key);
                    dtype = dt;
                    break;
                case "shape":
                    shape = new List<int>();
                    if (reader.TokenType != JsonTokenType.StartArray)
                        throw Bad(name, $"tensor '{key}': shape must be an array of non-negative integers", key);
                    while (true)
                    {
                        Read(ref reader, name);
                        if (reader.TokenType == JsonTokenType.EndArray)
                            break;
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long d) || d < 0)
                            throw Bad(name, $"tensor '{key}': shape must be an array of non-negative integers", key);
                        if (d > int.MaxValue)
                            throw Bad(name, $"tensor '{key}': dimension {d} is too large", key);
                        shape.Add((int)d);
                    }
                    break;
                case "data_offsets":
                    if (reader.TokenType != JsonTokenType.StartArray)
                        throw Bad(name, $"tensor '{key}': data_offsets must be an array [begin, end]", key);
                    var offsets = new List<long>(2);
                    while (true)
                    {
                        Read(ref reader, name);
                        if (reader.TokenType == JsonTokenType.EndArray)
                            break;
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long o) || o < 0)
                            throw Bad(name, $"tensor '{key}': data_offsets must be two non-negative integers", key);
                        offsets.Add(o);
                    }
                    if (offsets.Count != 2)
                        throw Bad(name, $"tensor '{key}': data_offsets must be two non-negative integers [begin, end], found {offsets.Count}", key);
                    begin = offsets[0];
                    end = offsets[1];
                    break;
                default:
                    throw Bad(name, $"tensor '{key}' has unknown field '{field}'", key);
            }
        }
        if (dtype is null || shape is null || begin < 0)
        {
            string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw Bad(name, $"tensor '{key}' has no {missing}", key);
        }
        return new Entry(key, dtype.Value, shape.ToArray(), begin, end);
    }

    private static void ValidateEntries(Header header, long dataLength, string name)
    {
        foreach (Entry e in header.Entries)
        {
            if (e.End < e.Begin)
                throw Bad(name, $"tensor '{e.Name}' has data_offsets [{e.Begin}, {e.End}] that end before they begin", e.Name);
            long count = 1;
            foreach (int d in e.Shape)
            {
                count *= d;
                if (count > int.MaxValue)
                    throw Bad(name, $"tensor '{e.Name}' {ShapeText(e.Shape)} has too many elements", e.Name);
            }
            long expected = count * ElementSize(e.DType);
            long actual = e.End - e.Begin;
            if (actual != expected)
                throw Bad(name, $"tensor '{e.Name}' is {e.DType} {ShapeText(e.Shape)}, which needs {expected} bytes, but its data_offsets [{e.Begin}, {e.End}] span {actual} bytes", e.Name);
            if (e.End > dataLength)
                throw Bad(name, $"tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] extend past the end of the data ({dataLength} bytes after the header): the file is truncated", e.Name);
        }
        var sorted = new List<Entry>(header.Entries);
        sorted.Sort(static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        for (int i = 1; i < sorted.Count; i++)
        {
            Entry prev = sorted[i - 1], cur = sorted[i];
            if (cur.Begin < prev.End)
                throw Bad(name, $"tensors '{prev.Name}' [{prev.Begin}, {prev.End}] and '{cur.Name}' [{cur.Begin}, {cur.End}] have overlapping data_offsets", cur.Name);
        }
    }

    private static bool TryParseDType(string text, out SafeTensorDType dtype)
    {
        switch (text)
        {
            case "BOOL": dtype = SafeTensorDType.BOOL; return true;
            case "U8": dtype = SafeTensorDType.U8; return true;
            case "I8": dtype = SafeTensorDType.I8; return true;
            case "U16": dtype = SafeTensorDType.U16; return true;
            case "I16": dtype = SafeTensorDType.I16; return true;
            case "F16": dtype = SafeTensorDType.F16; return true;
            case "BF16": dtype = SafeTensorDType.BF16; return true;
            case "U32": dtype = SafeTensorDType.U32; return true;
            case "I32": dtype = SafeTensorDType.I32; return true;
            case "F32": dtype = SafeTensorDType.F32; return true;
            case "U64": dtype = SafeTensorDType.U64; return true;
            case "I64": dtype = SafeTensorDType.I64; return true;
            case "F64": dtype = SafeTensorDType.F64; return true;
            default: dtype = default; return false;
        }
    }

    private static void Read(ref Utf8JsonReader reader, string name)
    {
        if (!reader.Read())
            throw Bad(name, "the header JSON ends early");
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string name, string problem)
    {
        Read(ref reader, name);
        if (reader.TokenType != type)
            throw Bad(name, problem);
    }
}

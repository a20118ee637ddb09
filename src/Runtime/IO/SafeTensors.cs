using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace CnnGen.IO;

/// <summary>
/// Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format:
/// an 8-byte little-endian header length N, N bytes of UTF-8 JSON describing each tensor
/// (<c>dtype</c>, <c>shape</c>, <c>data_offsets</c> relative to the end of the header) plus optional
/// <c>__metadata__</c> strings, then the raw little-endian data.
/// </summary>
/// <remarks>
/// Reading applies the format's rules strictly, by the same validator the generator uses to bake
/// <c>[Model(Weights = ...)]</c> (SafeTensorsFormat.cs): a bounded header, known dtypes, offsets consistent with dtype × shape,
/// and a data section the tensors index entirely (no holes, no overlaps, no bytes after the last tensor). Data sections that
/// do not fit in one array (about 2 GB) are refused with the file's name; nothing beyond the indexed data is ever read.
/// </remarks>
public static partial class SafeTensors
{
    /// <summary>Upper bound on the JSON header (the reference implementation uses the same 100 MB limit).</summary>
    public const int MaxHeaderBytes = SafeTensorsFormat.MaxHeaderBytes;

    private const string MetadataKey = SafeTensorsFormat.MetadataKey;

    /// <summary>
    /// Loads the tensors named by <paramref name="slots"/> into <paramref name="destination"/>, strictly: every slot must be present
    /// with the slot's dtype (F32 unless the slot says otherwise) and exactly the slot's shape, the file may hold no other tensors,
    /// and no value may be NaN or infinite. On any failure a <see cref="WeightsFormatException"/> is thrown and
    /// <paramref name="destination"/> is left untouched.
    /// </summary>
    /// <param name="path">The safetensors file.</param>
    /// <param name="slots">The expected tensors and where each goes in <paramref name="destination"/>.</param>
    /// <param name="destination">The flat parameter array.</param>
    public static void LoadInto(string path, ReadOnlySpan<TensorSlot> slots, Span<float> destination) =>
        LoadInto(path, slots, destination, WeightsLoadOptions.Default);

    /// <summary>As <see cref="LoadInto(string, ReadOnlySpan{TensorSlot}, Span{float})"/>, with options (e.g. to accept non-finite values).</summary>
    /// <param name="path">The safetensors file.</param>
    /// <param name="slots">The expected tensors and where each goes in <paramref name="destination"/>.</param>
    /// <param name="destination">The flat parameter array.</param>
    /// <param name="options">How strict to be about the values.</param>
    public static void LoadInto(string path, ReadOnlySpan<TensorSlot> slots, Span<float> destination, WeightsLoadOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        LoadInto(stream, path, slots, destination, options);
    }

    /// <summary>
    /// Loads the tensors named by <paramref name="slots"/> from a stream positioned at the start of safetensors content.
    /// Same rules as <see cref="LoadInto(string, ReadOnlySpan{TensorSlot}, Span{float})"/>.
    /// </summary>
    /// <param name="stream">The content; read to its end.</param>
    /// <param name="nameForErrors">How to name the source in error messages (usually the file path).</param>
    /// <param name="slots">The expected tensors and where each goes in <paramref name="destination"/>.</param>
    /// <param name="destination">The flat parameter array.</param>
    public static void LoadInto(Stream stream, string nameForErrors, ReadOnlySpan<TensorSlot> slots, Span<float> destination) =>
        LoadInto(stream, nameForErrors, slots, destination, WeightsLoadOptions.Default);

    /// <summary>As <see cref="LoadInto(Stream, string, ReadOnlySpan{TensorSlot}, Span{float})"/>, with options.</summary>
    /// <param name="stream">The content; read to its end.</param>
    /// <param name="nameForErrors">How to name the source in error messages (usually the file path).</param>
    /// <param name="slots">The expected tensors and where each goes in <paramref name="destination"/>.</param>
    /// <param name="destination">The flat parameter array.</param>
    /// <param name="options">How strict to be about the values.</param>
    public static void LoadInto(Stream stream, string nameForErrors, ReadOnlySpan<TensorSlot> slots, Span<float> destination, WeightsLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        nameForErrors ??= "<stream>";
        ValidateSlots(slots, destination.Length, nameof(slots));

        (SafeTensorsHeader header, byte[] data) = ReadChecked(stream, nameForErrors);

        var problems = new List<string>();
        string? firstKey = null;
        var entries = new Dictionary<string, SafeTensorsEntry>(header.Entries.Count, StringComparer.Ordinal);
        foreach (SafeTensorsEntry e in header.Entries)
            entries.Add(e.Name, e);
        var slotKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorSlot slot in slots)
        {
            slotKeys.Add(slot.Key);
            if (!entries.TryGetValue(slot.Key, out SafeTensorsEntry? e))
            {
                problems.Add($"missing tensor '{slot.Key}' (the model expects {slot.DType} {ShapeText(slot.Shape)})");
                firstKey ??= slot.Key;
                continue;
            }
            SafeTensorDType dtype = ParseDType(e.DType);
            if (dtype != slot.DType)
            {
                problems.Add($"tensor '{slot.Key}' has dtype {e.DType} {SafeTensorsFormat.ShapeText(e.Shape)} in the file, but the model expects {slot.DType} {ShapeText(slot.Shape)}");
                firstKey ??= slot.Key;
            }
            else if (!ShapeEquals(e.Shape, slot.Shape))
            {
                problems.Add($"tensor '{slot.Key}' has shape {SafeTensorsFormat.ShapeText(e.Shape)} in the file, but the model expects {ShapeText(slot.Shape)}");
                firstKey ??= slot.Key;
            }
            else if (!options.AllowNonFinite && FirstNonFinite(dtype, Bytes(data, e), out float bad) is int at and >= 0)
            {
                problems.Add(SafeTensorsFormat.NonFiniteProblem(slot.Key, e.DType, at, bad) +
                    " (a model with such a value computes only NaN; load with WeightsLoadOptions { AllowNonFinite = true } to accept it)");
                firstKey ??= slot.Key;
            }
        }
        foreach (SafeTensorsEntry e in header.Entries)
        {
            if (!slotKeys.Contains(e.Name))
            {
                problems.Add($"unexpected tensor '{e.Name}' ({e.DType} {SafeTensorsFormat.ShapeText(e.Shape)}): the model has no parameter with that key");
                firstKey ??= e.Name;
            }
        }
        if (problems.Count > 0)
            throw new WeightsFormatException(nameForErrors, firstKey, problems);

        // Everything checked: only now touch the destination.
        foreach (TensorSlot slot in slots)
        {
            SafeTensorsEntry e = entries[slot.Key];
            Span<float> dst = destination.Slice(slot.Offset, slot.ElementCount);
            ReadOnlySpan<byte> src = Bytes(data, e);
            if (slot.DType == SafeTensorDType.F32 && BitConverter.IsLittleEndian)
                src.CopyTo(MemoryMarshal.AsBytes(dst));
            else
                ToFloat(slot.DType, src, dst);
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
    /// <remarks>The file's structure is checked as strictly as by LoadInto; its values are returned as stored, NaN and infinities included.</remarks>
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
        (SafeTensorsHeader header, byte[] data) = ReadChecked(stream, nameForErrors);
        var sorted = new List<SafeTensorsEntry>(header.Entries);
        sorted.Sort(static (a, b) => a.Begin.CompareTo(b.Begin));
        var tensors = new List<SafeTensor>(sorted.Count);
        foreach (SafeTensorsEntry e in sorted)
            tensors.Add(new SafeTensor(e.Name, ParseDType(e.DType), ToIntShape(e.Shape), Bytes(data, e).ToArray()));
        return new SafeTensorFile(tensors, header.Metadata);
    }

    private static ReadOnlySpan<byte> Bytes(byte[] data, SafeTensorsEntry e) => data.AsSpan((int)e.Begin, (int)(e.End - e.Begin));

    private static int[] ToIntShape(long[] shape)
    {
        var result = new int[shape.Length];
        for (int i = 0; i < shape.Length; i++)
            result[i] = (int)shape[i]; // SafeTensorsFormat bounds every dimension by int.MaxValue
        return result;
    }

    private static bool ShapeEquals(long[] a, int[] b)
    {
        if (a.Length != b.Length)
            return false;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i])
                return false;
        }
        return true;
    }

    private static SafeTensorDType ParseDType(string text) => Enum.Parse<SafeTensorDType>(text, ignoreCase: false);

    /// <summary>
    /// Reads the header and exactly the data it indexes, checking both with <see cref="SafeTensorsFormat"/>. A seekable stream's
    /// length is checked before anything is read, so a huge or padded file costs no memory; a pipe is read only as far as the
    /// header says, then drained (without keeping the bytes) to report trailing bytes.
    /// </summary>
    private static (SafeTensorsHeader Header, byte[] Data) ReadChecked(Stream stream, string name)
    {
        try
        {
            long available = stream.CanSeek ? stream.Length - stream.Position : -1;
            byte[] prefix = new byte[8];
            int got = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
            int headerLength = SafeTensorsFormat.CheckHeaderLength(prefix, got, available < 0 ? -1 : available - 8);
            byte[] json = new byte[headerLength];
            got = stream.ReadAtLeast(json, json.Length, throwOnEndOfStream: false);
            if (got < json.Length)
                SafeTensorsFormat.CheckHeaderLength(prefix, 8, got); // throws: the header runs past the end
            SafeTensorsHeader header = SafeTensorsFormat.ParseHeader(json, 0, json.Length);

            if (available >= 0)
                SafeTensorsFormat.CheckDataLength(header, available - 8 - headerLength);
            if (header.DataLength > Array.MaxLength)
                throw new WeightsFormatException(name, null, new[] { string.Create(CultureInfo.InvariantCulture, $"its data section is {header.DataLength:N0} bytes; CnnGen reads safetensors files whose data fit in one array ({Array.MaxLength:N0} bytes): split the file") });
            var data = new byte[header.DataLength];
            got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            if (got < data.Length)
                SafeTensorsFormat.CheckDataLength(header, got); // throws: truncated
            if (available < 0)
                SafeTensorsFormat.CheckDataLength(header, header.DataLength + Drain(stream));
            return (header, data);
        }
        catch (SafeTensorsFormatProblem p)
        {
            throw new WeightsFormatException(name, p.Key, new[] { p.Message });
        }
    }

    /// <summary>Reads a stream to its end, keeping nothing; returns how many bytes there were.</summary>
    private static long Drain(Stream stream)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long total = 0;
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
                total += n;
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

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
}

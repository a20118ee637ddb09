using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace CnnGen.Runtime.Tests.Reference;

/// <summary>One F32 tensor of a fixture file, widened to double.</summary>
internal sealed record FixtureTensor(string Name, int[] Shape, double[] Data)
{
    public int Length => Data.Length;
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// A deliberately small, independent safetensors reader for the parity fixtures (test code; F32, and I64 for batch
/// norm's num_batches_tracked).
/// Layout: 8-byte little-endian u64 header length, a JSON header
/// <c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}</c>,
/// then the raw little-endian data; offsets are relative to the end of the header.
/// </summary>
internal sealed class FixtureFile
{
    public string Path { get; }
    /// <summary>Tensors in header order (the order the writer emitted them).</summary>
    public IReadOnlyList<FixtureTensor> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    private readonly Dictionary<string, FixtureTensor> _byName;

    private FixtureFile(string path, List<FixtureTensor> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, FixtureTensor>(StringComparer.Ordinal);
        foreach (var t in tensors) _byName.Add(t.Name, t);
    }

    /// <summary>Directory of the parity fixtures copied next to the test assembly.</summary>
    public static string ParityDirectory => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "parity");

    public bool Has(string name) => _byName.ContainsKey(name);

    public FixtureTensor this[string name] =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Path}: no tensor '{name}'");

    public FixtureTensor? TryGet(string name) => _byName.TryGetValue(name, out var t) ? t : null;

    public string Meta(string key) =>
        Metadata.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"{Path}: no metadata '{key}'");

    public string MetaOr(string key, string fallback) => Metadata.TryGetValue(key, out var v) ? v : fallback;

    public int MetaInt(string key) => int.Parse(Meta(key), System.Globalization.CultureInfo.InvariantCulture);

    public double MetaDouble(string key) => double.Parse(Meta(key), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>"a,b" metadata (height, width).</summary>
    public (int H, int W) MetaPair(string key)
    {
        var parts = Meta(key).Split(',');
        if (parts.Length != 2) throw new FormatException($"{Path}: metadata '{key}' = '{Meta(key)}' is not 'h,w'");
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }

    public static FixtureFile Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: shorter than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0, 8));
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"{path}: header length {headerLength} exceeds file size {bytes.Length}");
        int dataStart = 8 + (int)headerLength;
        int dataLength = bytes.Length - dataStart;

        var tensors = new List<FixtureTensor>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                foreach (var m in entry.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                continue;
            }
            string dtype = entry.Value.GetProperty("dtype").GetString() ?? "";
            if (dtype is not ("F32" or "I64")) throw new InvalidDataException($"{path}: tensor '{entry.Name}' has dtype {dtype}, only F32 (and I64, batch norm's num_batches_tracked) is supported");
            int size = dtype == "F32" ? 4 : 8;
            var shapeList = new List<int>();
            foreach (var d in entry.Value.GetProperty("shape").EnumerateArray()) shapeList.Add(d.GetInt32());
            int[] shape = shapeList.ToArray();
            var offsets = entry.Value.GetProperty("data_offsets");
            long begin = offsets[0].GetInt64(), end = offsets[1].GetInt64();
            long count = 1;
            foreach (int d in shape) count *= d;
            if (begin < 0 || end < begin || end > dataLength || end - begin != count * size)
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' offsets [{begin}, {end}] do not fit shape [{string.Join(", ", shape)}] in {dataLength} data bytes");
            var data = new double[count];
            var span = bytes.AsSpan(dataStart + (int)begin, (int)(end - begin));
            for (int i = 0; i < data.Length; i++)
                data[i] = size == 4 ? BinaryPrimitives.ReadSingleLittleEndian(span.Slice(4 * i, 4)) : BinaryPrimitives.ReadInt64LittleEndian(span.Slice(8 * i, 8));
            tensors.Add(new FixtureTensor(entry.Name, shape, data));
        }
        return new FixtureFile(path, tensors, metadata);
    }
}

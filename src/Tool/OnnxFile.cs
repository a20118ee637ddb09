using System;
using System.Collections.Generic;
using System.IO;
using Google.Protobuf;

namespace CnnGen.Tool;

/// <summary>An initializer (or Constant) read into memory: its dims and values (float32 or int64 only).</summary>
internal sealed record OnnxTensor(string Name, long[] Dims, float[]? Floats, long[]? Longs)
{
    public long Count { get { long n = 1; foreach (long d in Dims) n *= d; return n; } }
}

/// <summary>Reads an ONNX file with the official schema's classes (CnnGen.Runtime's Onnx protocol), checks the opset and
/// loads the initializers, inline (raw_data, float_data, int64_data) or as external data beside the file.</summary>
internal static class OnnxFile
{
    public const int MinOpset = 13, MaxOpset = 21;
    private const int Float = 1, Int64 = 7;

    public static Onnx.ModelProto Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ImportException($"cannot read the file: {e.Message}"); }
        Onnx.ModelProto model;
        try { model = Onnx.ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw new ImportException($"not an ONNX model (truncated or not a protobuf ModelProto: {e.Message})"); }
        if (model.Graph is null || model.Graph.Node.Count == 0 || model.IrVersion <= 0)
            throw new ImportException("not an ONNX model (no ir_version or no graph with nodes)");
        long opset = -1;
        foreach (var o in model.OpsetImport)
            if (o.Domain is "" or "ai.onnx") opset = o.Version;
        if (opset < MinOpset || opset > MaxOpset)
            throw new ImportException($"opset {(opset < 0 ? "(none for ai.onnx)" : opset.ToString())} is not supported (opset {MinOpset}-{MaxOpset})");
        return model;
    }

    public static OnnxTensor Load(Onnx.TensorProto t, string modelPath)
    {
        long[] dims = new long[t.Dims.Count];
        for (int i = 0; i < dims.Length; i++) dims[i] = t.Dims[i];
        long count = 1;
        foreach (long d in dims) count = d < 0 ? throw new ImportException($"initializer '{t.Name}' has a negative dimension") : count * d;
        if (t.DataType != Float && t.DataType != Int64)
            throw new ImportException($"initializer '{t.Name}' has data type {t.DataType}; only float32 (1) and int64 (7) are supported");
        int size = t.DataType == Float ? 4 : 8;
        ReadOnlySpan<byte> raw;
        if (t.DataLocation == Onnx.TensorProto.Types.DataLocation.External)
            raw = External(t, modelPath, count * size);
        else if (!t.RawData.IsEmpty)
            raw = t.RawData.Span;
        else if (t.DataType == Float)
        {
            if (t.FloatData.Count != count) throw new ImportException($"initializer '{t.Name}' holds {t.FloatData.Count} floats, its dims say {count}");
            float[] f = new float[count];
            t.FloatData.CopyTo(f, 0);
            return new OnnxTensor(t.Name, dims, f, null);
        }
        else
        {
            if (t.Int64Data.Count != count) throw new ImportException($"initializer '{t.Name}' holds {t.Int64Data.Count} int64s, its dims say {count}");
            long[] l = new long[count];
            t.Int64Data.CopyTo(l, 0);
            return new OnnxTensor(t.Name, dims, null, l);
        }
        if (raw.Length != count * size)
            throw new ImportException($"initializer '{t.Name}' has {raw.Length} bytes of data, its dims and type say {count * size}");
        if (t.DataType == Float)
        {
            float[] f = new float[count];
            for (int i = 0; i < f.Length; i++) f[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i));
            return new OnnxTensor(t.Name, dims, f, null);
        }
        long[] v = new long[count];
        for (int i = 0; i < v.Length; i++) v[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(8 * i));
        return new OnnxTensor(t.Name, dims, null, v);
    }

    private static byte[] External(Onnx.TensorProto t, string modelPath, long expected)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var kv in t.ExternalData)
        {
            switch (kv.Key)
            {
                case "location": location = kv.Value; break;
                case "offset": offset = long.Parse(kv.Value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "length": length = long.Parse(kv.Value, System.Globalization.CultureInfo.InvariantCulture); break;
            }
        }
        if (string.IsNullOrEmpty(location) || Path.IsPathRooted(location) || location.Split('/', '\\').AsSpan().Contains(".."))
            throw new ImportException($"initializer '{t.Name}': external data location '{location}' must be a file name beside the model");
        string file = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, location);
        if (length < 0) length = expected;
        if (length != expected) throw new ImportException($"initializer '{t.Name}': external data length {length}, its dims and type say {expected}");
        try
        {
            using var s = File.OpenRead(file);
            if (offset < 0 || offset + length > s.Length)
                throw new ImportException($"initializer '{t.Name}': external data {location} has {s.Length} bytes, offset {offset} + length {length} is beyond it");
            s.Position = offset;
            byte[] b = new byte[length];
            s.ReadExactly(b);
            return b;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImportException($"initializer '{t.Name}': cannot read external data '{location}': {e.Message}");
        }
    }

    /// <summary>Int attribute, or the default.</summary>
    public static long Int(Onnx.NodeProto n, string name, long dflt)
    {
        foreach (var a in n.Attribute) if (a.Name == name) return a.I;
        return dflt;
    }

    public static float Float32(Onnx.NodeProto n, string name, float dflt)
    {
        foreach (var a in n.Attribute) if (a.Name == name) return a.F;
        return dflt;
    }

    public static long[]? Ints(Onnx.NodeProto n, string name)
    {
        foreach (var a in n.Attribute) if (a.Name == name) { long[] r = new long[a.Ints.Count]; a.Ints.CopyTo(r, 0); return r; }
        return null;
    }

    public static string? Str(Onnx.NodeProto n, string name)
    {
        foreach (var a in n.Attribute) if (a.Name == name) return a.S.ToStringUtf8();
        return null;
    }

    public static HashSet<string> AttributeNames(Onnx.NodeProto n)
    {
        var s = new HashSet<string>();
        foreach (var a in n.Attribute) s.Add(a.Name);
        return s;
    }
}

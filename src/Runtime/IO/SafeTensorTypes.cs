using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

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


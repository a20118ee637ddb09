using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using CnnGen.IO;

namespace CnnGen.Tool;

/// <summary>A tensor of the written safetensors: its key (as LoadWeights expects it), PyTorch shape and values.</summary>
internal sealed record WeightTensor(string Key, int[] Shape, float[] Values, bool IsParameter, SafeTensorDType DType = SafeTensorDType.F32);

/// <summary>One CnnGen layer: the attribute text (without brackets) and its tensors.</summary>
internal sealed record ImportedLayer(string Attribute, IReadOnlyList<WeightTensor> Tensors);

/// <summary>The imported model: the declaration and its weights, written only when complete (no partial files).</summary>
internal sealed class ImportResult
{
    public ImportResult(string className, string? ns, int[] input, IReadOnlyList<ImportedLayer> layers, string source)
    {
        ClassName = className; Namespace = ns; Input = input; Layers = layers; Source = source;
    }

    public string ClassName { get; }
    public string? Namespace { get; }
    public int[] Input { get; }
    public IReadOnlyList<ImportedLayer> Layers { get; }
    public string Source { get; }
    public int LayerCount => Layers.Count;

    public long ParameterCount
    {
        get { long n = 0; foreach (var l in Layers) foreach (var t in l.Tensors) if (t.IsParameter) n += t.Values.Length; return n; }
    }

    public string Declaration()
    {
        var sb = new StringBuilder();
        sb.Append("// Imported by `cnngen import` from ").Append(Path.GetFileName(Source)).Append(" (")
          .Append(ParameterCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).Append(" parameters).\n");
        sb.Append("// Weights: ").Append(ClassName).Append(".safetensors (model.LoadWeights(\"").Append(ClassName).Append(".safetensors\")).\n");
        sb.Append("using CnnGen;\n\n");
        if (Namespace is not null) sb.Append("namespace ").Append(Namespace).Append(";\n\n");
        sb.Append("[Model]\n");
        sb.Append("[Input(").Append(string.Join(", ", Input)).Append(")]\n");
        foreach (var l in Layers) sb.Append('[').Append(l.Attribute).Append("]\n");
        sb.Append("public partial class ").Append(ClassName).Append(" { }\n");
        return sb.ToString();
    }

    /// <summary>Writes Name.cs and Name.safetensors into <paramref name="dir"/> with the runtime's atomic writer: both are
    /// complete in their temporary files before either replaces its target, so a failure while writing leaves neither.</summary>
    public void WriteTo(string dir)
    {
        Directory.CreateDirectory(dir);
        var slots = new List<TensorSlot>();
        var all = new List<float>();
        foreach (var l in Layers)
            foreach (var t in l.Tensors)
            {
                slots.Add(new TensorSlot(t.Key, t.Shape, all.Count) { DType = t.DType });
                all.AddRange(t.Values);
            }
        using var st = AtomicFile.Create(Path.Combine(dir, ClassName + ".safetensors"));
        using var cs = AtomicFile.Create(Path.Combine(dir, ClassName + ".cs"));
        SafeTensors.Write(st.Stream, slots.ToArray(), all.ToArray(),
            new Dictionary<string, string> { ["source"] = "cnngen import " + Path.GetFileName(Source) });
        using (var text = new StreamWriter(cs.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true)) text.Write(Declaration());
        st.Commit();
        cs.Commit();
    }
}

internal static class Naming
{
    public static string ClassName(string fileStem)
    {
        var sb = new StringBuilder();
        bool upper = true;
        foreach (char c in fileStem)
        {
            if (char.IsLetterOrDigit(c)) { sb.Append(upper ? char.ToUpperInvariant(c) : c); upper = false; }
            else upper = true;
        }
        if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, "Model");
        return sb.ToString();
    }

    public static bool IsIdentifier(string s)
    {
        if (s.Length == 0 || !(char.IsLetter(s[0]) || s[0] == '_')) return false;
        foreach (char c in s) if (!(char.IsLetterOrDigit(c) || c == '_')) return false;
        return true;
    }

    public static bool IsNamespace(string s) => Array.TrueForAll(s.Split('.'), IsIdentifier);
}

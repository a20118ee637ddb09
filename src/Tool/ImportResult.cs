using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using CnnGen.IO;

namespace CnnGen.Tool;

/// <summary>A tensor of the written safetensors: its key below its layer's name ("weight", "fc1.bias"), PyTorch shape and values.</summary>
internal sealed record WeightTensor(string Key, int[] Shape, float[] Values, bool IsParameter, SafeTensorDType DType = SafeTensorDType.F32);

/// <summary>An entry of a layer list: one layer attribute or a residual block.</summary>
internal abstract class ImportedItem
{
    /// <summary>The attribute's Name (a key segment path) relative to the enclosing block; null for unnamed layers.</summary>
    public string? Name { get; set; }
    public abstract long ParameterCount { get; }
    /// <summary>The items' tensors as LoadWeights expects them: the keys nest as CnnGen's generated keys do.</summary>
    public abstract void Collect(string prefix, List<(string Key, WeightTensor T)> into);
    public abstract string Render(BlockTable blocks);
    /// <summary>The full names of the weighted layers inside (for the residual's name).</summary>
    public abstract IEnumerable<string> Names();
}

/// <summary>One CnnGen layer: the attribute text (without brackets and Name) and its tensors.</summary>
internal sealed class ImportedLayer : ImportedItem
{
    public ImportedLayer(string attribute, IReadOnlyList<WeightTensor> tensors, string? name = null)
    {
        Attribute = attribute; Tensors = tensors; Name = name;
    }
    public string Attribute { get; }
    public IReadOnlyList<WeightTensor> Tensors { get; }
    public override long ParameterCount { get { long n = 0; foreach (var t in Tensors) if (t.IsParameter) n += t.Values.Length; return n; } }
    public override void Collect(string prefix, List<(string, WeightTensor)> into)
    {
        foreach (var t in Tensors) into.Add((prefix + Name + "." + t.Key, t));
    }
    public override string Render(BlockTable blocks) =>
        Name is null ? Attribute : Attribute[..^1] + (Attribute.EndsWith("()", StringComparison.Ordinal) ? "" : ", ") + $"Name = \"{Name}\")";
    public override IEnumerable<string> Names() { if (Name is not null && Tensors.Count > 0) yield return Name; }
}

/// <summary>A residual block: y = body(x) + shortcut(x) (identity when there is no shortcut), ReLU after the sum if set.</summary>
internal sealed class ImportedResidual : ImportedItem
{
    public ImportedResidual(List<ImportedItem> body, List<ImportedItem>? shortcut, bool relu)
    {
        Body = body; Shortcut = shortcut; ReLU = relu;
    }
    public List<ImportedItem> Body { get; }
    public List<ImportedItem>? Shortcut { get; }
    public string ShortcutName { get; set; } = "downsample";
    public bool ReLU { get; }
    public override long ParameterCount
    {
        get { long n = 0; foreach (var i in Body) n += i.ParameterCount; if (Shortcut is not null) foreach (var i in Shortcut) n += i.ParameterCount; return n; }
    }
    public override void Collect(string prefix, List<(string, WeightTensor)> into)
    {
        foreach (var i in Body) i.Collect(prefix + Name + ".", into);
        if (Shortcut is not null) foreach (var i in Shortcut) i.Collect(prefix + Name + "." + ShortcutName + ".", into);
    }
    public override string Render(BlockTable blocks)
    {
        var sb = new StringBuilder("Residual(typeof(").Append(blocks.Declare(Body, "Block")).Append(')');
        if (Shortcut is not null) sb.Append(", Shortcut = typeof(").Append(blocks.Declare(Shortcut, "Shortcut")).Append(')');
        if (ShortcutName != "downsample") sb.Append(", ShortcutName = \"").Append(ShortcutName).Append('"');
        if (ReLU) sb.Append(", ReLU = true");
        return sb.Append(", Name = \"").Append(Name).Append("\")").ToString();
    }
    public override IEnumerable<string> Names()
    {
        foreach (var i in Body) foreach (var n in i.Names()) yield return Name + "." + n;
        if (Shortcut is not null) foreach (var i in Shortcut) foreach (var n in i.Names()) yield return Name + "." + ShortcutName + "." + n;
    }
}

/// <summary>The [Block] classes of a declaration: a layer list that repeats (torchvision's BasicBlock in layer1) is declared once.</summary>
internal sealed class BlockTable
{
    private readonly string _model;
    private readonly Dictionary<string, string> _byText = new();
    private readonly Dictionary<string, int> _counts = new();
    public BlockTable(string model) { _model = model; }
    public StringBuilder Text { get; } = new();

    public string Declare(List<ImportedItem> items, string kind)
    {
        var lines = new StringBuilder();
        foreach (var i in items) lines.Append('[').Append(i.Render(this)).Append("]\n");
        string body = lines.ToString();
        if (_byText.TryGetValue(kind + "\n" + body, out string? name)) return name;
        _counts.TryGetValue(kind, out int k);
        _counts[kind] = ++k;
        name = _model + kind + k.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _byText[kind + "\n" + body] = name;
        Text.Append("[Block]\n").Append(body).Append("public partial class ").Append(name).Append(" { }\n\n");
        return name;
    }
}

/// <summary>The imported model: the declaration and its weights, written only when complete (no partial files).</summary>
internal sealed class ImportResult
{
    public ImportResult(string className, string? ns, int[] input, IReadOnlyList<ImportedItem> layers, string source)
    {
        ClassName = className; Namespace = ns; Input = input; Layers = layers; Source = source;
    }

    public string ClassName { get; }
    public string? Namespace { get; }
    public int[] Input { get; }
    public IReadOnlyList<ImportedItem> Layers { get; }
    public string Source { get; }
    public int LayerCount => Layers.Count;
    /// <summary>Batch norms the exporter had folded into convolutions, restored as BatchNorm2d layers.</summary>
    public int UnfoldedBatchNorms { get; init; }

    public long ParameterCount { get { long n = 0; foreach (var l in Layers) n += l.ParameterCount; return n; } }

    /// <summary>The tensors with their keys, in declaration order.</summary>
    public List<(string Key, WeightTensor T)> Tensors()
    {
        var r = new List<(string, WeightTensor)>();
        foreach (var l in Layers) l.Collect("", r);
        return r;
    }

    public string Declaration()
    {
        var blocks = new BlockTable(ClassName);
        var model = new StringBuilder();
        foreach (var l in Layers) model.Append('[').Append(l.Render(blocks)).Append("]\n");
        var sb = new StringBuilder();
        sb.Append("// Imported by `cnngen import` from ").Append(Path.GetFileName(Source)).Append(" (")
          .Append(ParameterCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).Append(" parameters).\n");
        sb.Append("// Weights: ").Append(ClassName).Append(".safetensors (model.LoadWeights(\"").Append(ClassName).Append(".safetensors\")).\n");
        sb.Append("using CnnGen;\n\n");
        if (Namespace is not null) sb.Append("namespace ").Append(Namespace).Append(";\n\n");
        sb.Append(blocks.Text);
        sb.Append("[Model]\n");
        sb.Append("[Input(").Append(string.Join(", ", Input)).Append(")]\n");
        sb.Append(model);
        sb.Append("public partial class ").Append(ClassName).Append(" { }\n");
        return sb.ToString();
    }

    /// <summary>Writes Name.cs and Name.safetensors into <paramref name="dir"/> with the runtime's atomic writer: both are
    /// complete in their temporary files before either replaces its target, so a failure while writing leaves neither.</summary>
    public void WriteTo(string dir)
    {
        string declaration = Declaration();
        var slots = new List<TensorSlot>();
        var all = new List<float>();
        foreach (var (key, t) in Tensors())
        {
            slots.Add(new TensorSlot(key, t.Shape, all.Count) { DType = t.DType });
            all.AddRange(t.Values);
        }
        Directory.CreateDirectory(dir);
        using var st = AtomicFile.Create(Path.Combine(dir, ClassName + ".safetensors"));
        using var cs = AtomicFile.Create(Path.Combine(dir, ClassName + ".cs"));
        SafeTensors.Write(st.Stream, slots.ToArray(), all.ToArray(),
            new Dictionary<string, string> { ["source"] = "cnngen import " + Path.GetFileName(Source) });
        using (var text = new StreamWriter(cs.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true)) text.Write(declaration);
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

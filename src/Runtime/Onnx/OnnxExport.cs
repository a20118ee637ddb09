using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace CnnGen.IO;

/// <summary>
/// Writes a generated model as an ONNX file (opset 17, IR version 8): its layers as ONNX nodes (inference form: batch
/// norm with its running statistics, dropout and identity gone), its weights as initializers named by the model's
/// safetensors keys, graph input <c>input</c> [batch, C, H, W] and output <c>output</c>. The generated
/// <c>ExportOnnx</c> calls it with the model's layer table.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX operator set the file declares.</summary>
    public const int Opset = 17;
    /// <summary>The ONNX IR version the file declares.</summary>
    public const int IrVersion = 8;

    /// <summary>Writes the model to <paramref name="path"/> atomically (a failed export leaves the previous file).</summary>
    public static void Save(string path, string name, OnnxLayer[] layers, ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers)
    {
        var model = Build(name, layers, parameters, buffers); // before the file is touched: an unsupported layer throws here
        AtomicFile.Write(path, s => model.WriteTo(s));
    }

    /// <summary>Writes the model to <paramref name="stream"/>.</summary>
    public static void Save(Stream stream, string name, OnnxLayer[] layers, ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Build(name, layers, parameters, buffers).WriteTo(stream);
    }

    internal static ModelProto Build(string name, OnnxLayer[] layers, ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0) throw new ArgumentException("The model has no layers.", nameof(layers));
        var b = new OnnxGraphBuilder(name);
        b.Graph.Input.Add(ValueInfo("input", layers[0].In));
        string cur = "input";
        bool flat = layers[0].In.Length == 1;
        var kept = new Stack<string>();   // BranchBegin: the block's input
        var bodies = new Stack<string>(); // ShortcutBegin: the body's output
        foreach (var l in layers)
        {
            if (l.Kind == "Linear" && !flat) { cur = b.Node("Flatten", cur, B.Int("axis", 1)); flat = true; }
            switch (l.Kind)
            {
                case "BranchBegin": kept.Push(cur); break;
                case "ShortcutBegin": bodies.Push(cur); cur = kept.Peek(); break;
                case "Add": cur = b.Node("Add", new[] { bodies.Pop(), cur }); kept.Pop(); break;
                case "Scale": cur = b.Node("Mul", new[] { cur, bodies.Pop() }); kept.Pop(); break;
                case "BlockEnd": case "Dropout": case "Dropout2d": case "Identity": break;
                case "Flatten": if (!flat) { cur = b.Node("Flatten", cur, B.Int("axis", 1)); flat = true; } break;
                default: cur = b.Layer(l, cur, parameters, buffers); break;
            }
            bool outFlat = l.Out.Length == 1;
            // A layer that ends flat (a [Flatten] done above, Linear) needs no Flatten node of its own; one whose table row says
            // flat but whose ONNX form kept [C, 1, 1] (a global pool before a head) gets one.
            if (outFlat && !flat && l.Kind != "BranchBegin" && l.Kind != "ShortcutBegin") cur = b.Node("Flatten", cur, B.Int("axis", 1));
            flat = outFlat;
        }
        if (kept.Count != 0) throw new InvalidOperationException("The layer table has an unclosed branch.");
        if (cur == "input") cur = b.Node("Identity", cur);
        b.Rename(cur, "output");
        b.Graph.Output.Add(ValueInfo("output", layers[^1].Out));
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "CnnGen",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            Graph = b.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    private static ValueInfoProto ValueInfo(string name, int[] shape)
    {
        var s = new TensorShapeProto();
        s.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (int d in shape) s.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = s } },
        };
    }

    /// <summary>A float tensor with the values as raw little-endian data.</summary>
    internal static TensorProto Tensor(string name, long[] dims, ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX export needs a little-endian machine.");
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values)) };
        t.Dims.Add(dims);
        return t;
    }
}

/// <summary>Attribute helpers.</summary>
internal static class B
{
    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    public static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    public static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(v);
        return a;
    }
}

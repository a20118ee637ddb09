using System.Collections.Generic;
using System.Linq;
using CnnGen.IO;
using static CnnGen.Tool.Importer;

namespace CnnGen.Tool;

/// <summary>
/// torchvision's SqueezeExcitation as ONNX: g = GlobalAveragePool(x); fc1 = Conv 1×1 (bias); Relu or SiLU (Sigmoid + Mul);
/// fc2 = Conv 1×1 (bias); Sigmoid; y = Mul(x, gate) → [SqueezeExcitation(C, C / squeeze, ...)] with keys fc1.*, fc2.*.
/// </summary>
internal static class SqueezeExcitation
{
    public static ImportedLayer Match(State s, Graph g, string x, Onnx.NodeProto pool, Onnx.NodeProto mul)
    {
        string expected = "x * Sigmoid(Conv(act(Conv(GlobalAveragePool(x)))))";
        Onnx.NodeProto Next(string v, string what)
        {
            var cs = g.Consumers(v);
            if (cs.Count != 1)
                throw ImportException.AtNode(mul, $"not an SE gate ({expected}): after {what} '{v}' feeds {cs.Count} nodes");
            return cs[0];
        }
        var shape = s.Shape;
        if (shape.F > 0) throw ImportException.AtNode(pool, "expects an image tensor [N, C, H, W], the input here is flattened");
        int c = shape.C;
        var fc1 = Next(pool.Output[0], "the GlobalAveragePool");
        OnnxTensor w1 = Conv1x1(s, fc1, mul, c, -1, expected);
        int squeeze = (int)w1.Dims[0];
        var acts = g.Consumers(fc1.Output[0]);
        var act = acts.Count == 2 ? acts.First(n => n.OpType != "Mul") : Next(fc1.Output[0], "fc1");
        string activation;
        string afterAct;
        if (act.OpType == "Relu" && acts.Count == 1) { activation = "relu"; afterAct = act.Output[0]; }
        else if (acts.Count == 2)
        {
            // SiLU: Sigmoid(fc1) and Mul(fc1, Sigmoid(fc1))
            var both = g.Consumers(fc1.Output[0]);
            var sig = both.FirstOrDefault(n => n.OpType == "Sigmoid");
            var m = both.FirstOrDefault(n => n.OpType == "Mul");
            if (both.Count != 2 || sig is null || m is null || !m.Input.Contains(sig.Output[0]))
                throw ImportException.AtNode(mul, $"not an SE gate ({expected}): the activation after fc1 '{fc1.Name}' is neither Relu nor SiLU");
            activation = "silu"; afterAct = m.Output[0];
        }
        else throw ImportException.AtNode(act, $"the SE activation after fc1 must be Relu or SiLU (x * Sigmoid(x)), not {act.OpType}");
        var fc2 = Next(afterAct, "the activation");
        OnnxTensor w2 = Conv1x1(s, fc2, mul, squeeze, c, expected);
        var gate = Next(fc2.Output[0], "fc2");
        if (gate.OpType != "Sigmoid")
            throw ImportException.AtNode(gate, $"the SE gate must be Sigmoid ({expected}); CnnGen's SqueezeExcitation has no {gate.OpType} scale activation");
        string other = mul.Input.FirstOrDefault(i => i != x) ?? x;
        if (other != gate.Output[0] || Next(gate.Output[0], "the gate") != mul)
            throw ImportException.AtNode(mul, $"not an SE gate ({expected}): it multiplies '{x}' by '{other}', not by the gate '{gate.Output[0]}'");
        OnnxTensor b1 = s.Tensor(fc1, 2, "bias"), b2 = s.Tensor(fc2, 2, "bias");
        string name = w1.Name.EndsWith(".fc1.weight", System.StringComparison.Ordinal) && IsKey(w1.Name) ? w1.Name[..^".fc1.weight".Length] : "";
        name = name.Length > 0 ? s.Prefix(name + ".x", "se", ".x") : s.Prefix("", "se");
        var tensors = new List<WeightTensor>
        {
            new("fc1.weight", new[] { squeeze, c, 1, 1 }, w1.Floats!, true),
            new("fc1.bias", new[] { squeeze }, b1.Floats!, true),
            new("fc2.weight", new[] { c, squeeze, 1, 1 }, w2.Floats!, true),
            new("fc2.bias", new[] { c }, b2.Floats!, true),
        };
        string args = c % squeeze == 0 ? $"{c}, {c / squeeze}" : $"{c}, 1, SqueezeChannels = {squeeze}";
        if (activation != "relu") args += $", Activation = \"{activation}\"";
        return new ImportedLayer($"SqueezeExcitation({args})", tensors, name);
    }

    /// <summary>A 1×1 convolution with bias, stride 1, no padding, group 1, from <paramref name="cin"/> channels.</summary>
    private static OnnxTensor Conv1x1(State s, Onnx.NodeProto n, Onnx.NodeProto mul, int cin, int cout, string expected)
    {
        if (n.OpType != "Conv") throw ImportException.AtNode(mul, $"not an SE gate ({expected}): '{n.Name}' is {n.OpType}, a 1×1 Conv is expected");
        OnnxTensor w = s.Tensor(n, 1, "weight");
        bool plain = w.Dims.Length == 4 && w.Dims[1] == cin && w.Dims[2] == 1 && w.Dims[3] == 1 && (cout < 0 || w.Dims[0] == cout)
            && OnnxFile.Int(n, "group", 1) == 1 && (OnnxFile.Ints(n, "strides") ?? new long[] { 1, 1 }).All(v => v == 1)
            && (OnnxFile.Ints(n, "pads") ?? new long[4]).All(v => v == 0) && (OnnxFile.Ints(n, "dilations") ?? new long[] { 1, 1 }).All(v => v == 1);
        if (!plain) throw ImportException.AtNode(n, $"an SE convolution must be 1×1 from {cin} channels{(cout > 0 ? $" to {cout}" : "")}, stride 1, no padding, one group");
        if (n.Input.Count < 3 || n.Input[2].Length == 0) throw ImportException.AtNode(n, "an SE convolution without bias is not supported (torchvision's have one)");
        return w;
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace CnnGen.Tool;

/// <summary>
/// Pattern-matches an ONNX graph into CnnGen layers. This version imports chains: every node takes the previous node's output
/// (plus initializers); Sigmoid followed by Mul(x, Sigmoid(x)) is SiLU and MatMul followed by Add(bias) is Linear.
/// Branching graphs (residual Add, SE Mul) are reported as unsupported, naming the node.
/// </summary>
internal static class Importer
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static ImportResult ImportFile(string path, string className, string? ns)
    {
        Onnx.ModelProto model = OnnxFile.Read(path);
        var g = model.Graph;
        var init = new Dictionary<string, Onnx.TensorProto>();
        foreach (var t in g.Initializer) init[t.Name] = t;
        var inputs = g.Input.Where(i => !init.ContainsKey(i.Name)).ToList();
        // The image is the first input; another non-initializer input is reported at the node that consumes it (e.g. a Conv
        // whose weight is a graph input), or here when no node does.
        if (inputs.Count == 0 || inputs.Skip(1).Any(x => !g.Node.Any(n => n.Input.Contains(x.Name))))
            throw new ImportException($"the graph has {inputs.Count} inputs; one image input is supported");
        if (g.Output.Count != 1) throw new ImportException($"the graph has {g.Output.Count} outputs; one is supported");
        var s = new State(path, init, InputShape(inputs[0]));
        string current = inputs[0].Name;
        var layers = new List<ImportedLayer>();
        var nodes = g.Node;
        for (int i = 0; i < nodes.Count; i++)
        {
            var n = nodes[i];
            if (n.Domain is not ("" or "ai.onnx")) throw ImportException.AtNode(n, $"domain '{n.Domain}' is not supported");
            if (n.OpType == "Constant")
            {
                var a = n.Attribute.FirstOrDefault(x => x.Name == "value" && x.T is not null)
                    ?? throw ImportException.AtNode(n, "only a tensor 'value' Constant is supported");
                s.Constants[n.Output[0]] = OnnxFile.Load(a.T, path);
                continue;
            }
            var data = n.Input.Where(x => x.Length > 0 && !s.IsConstant(x)).ToList();
            // SiLU: y = Sigmoid(x); z = Mul(x, y)
            if (n.OpType == "Sigmoid" && i + 1 < nodes.Count && nodes[i + 1].OpType == "Mul"
                && nodes[i + 1].Input.Contains(current) && nodes[i + 1].Input.Contains(n.Output[0]) && data.SequenceEqual(new[] { current }))
            {
                layers.Add(new ImportedLayer("SiLU", Array.Empty<WeightTensor>()));
                current = nodes[++i].Output[0];
                continue;
            }
            if (data.Count != 1 || data[0] != current)
            {
                string why = n.OpType is "Add" or "Mul" or "Concat"
                    ? $"takes {string.Join(", ", data.Select(d => "'" + d + "'"))}: branching graphs (residual Add, SE gate Mul) are not supported by this importer yet"
                    : $"takes {string.Join(", ", data.Select(d => "'" + d + "'"))}, not the previous layer's output '{current}' alone (only a chain of layers is supported)";
                if (n.OpType == "Conv" && n.Input.Count > 1 && !s.IsConstant(n.Input[1]))
                    why = $"its weight '{n.Input[1]}' is not an initializer";
                throw ImportException.AtNode(n, why);
            }
            if (n.Output.Count < 1) throw ImportException.AtNode(n, "has no output");
            if (n.OpType == "MatMul")
            {
                if (i + 1 >= nodes.Count || nodes[i + 1].OpType != "Add" || !nodes[i + 1].Input.Contains(n.Output[0]))
                    throw ImportException.AtNode(n, "MatMul is supported only followed by Add of a bias initializer (Linear)");
                var add = nodes[++i];
                string bias = add.Input.First(x => x != n.Output[0]);
                layers.Add(Layers.MatMulAdd(s, n, add, bias));
                current = add.Output[0];
                continue;
            }
            ImportedLayer? layer = Layers.Map(s, n);
            if (layer is not null) layers.Add(layer);
            current = n.Output[0];
        }
        if (current != g.Output[0].Name)
            throw new ImportException($"the graph output '{g.Output[0].Name}' is not the last layer's output '{current}'");
        if (layers.Count == 0) throw new ImportException("the graph has no layers");
        return new ImportResult(className, ns, s.Input, layers, path);
    }

    private static int[] InputShape(Onnx.ValueInfoProto v)
    {
        var dims = v.Type?.TensorType?.Shape?.Dim;
        if (v.Type?.TensorType is null || v.Type.TensorType.ElemType != 1 || dims is null || dims.Count != 4)
            throw new ImportException($"the graph input '{v.Name}' must be a float32 tensor [N, C, H, W]");
        if (dims[0].HasDimValue && dims[0].DimValue != 1)
            throw new ImportException($"the graph input '{v.Name}' has batch {dims[0].DimValue}; a symbolic batch or 1 is supported");
        var r = new int[3];
        for (int k = 1; k < 4; k++)
        {
            if (!dims[k].HasDimValue || dims[k].DimValue <= 0)
                throw new ImportException($"the graph input '{v.Name}' dimension {k} is not a fixed size");
            r[k - 1] = checked((int)dims[k].DimValue);
        }
        return r;
    }

    internal sealed class State
    {
        public State(string path, Dictionary<string, Onnx.TensorProto> init, int[] input)
        {
            Path = path; Init = init; Input = input;
            C = input[0]; H = input[1]; W = input[2];
        }
        public string Path { get; }
        public Dictionary<string, Onnx.TensorProto> Init { get; }
        public Dictionary<string, OnnxTensor> Constants { get; } = new();
        public int[] Input { get; }
        public int C, H, W;            // current shape; Features > 0 once flattened
        public int Features;
        public HashSet<string> Names { get; } = new();
        public Dictionary<string, int> Counters { get; } = new();

        public bool IsConstant(string name) => Init.ContainsKey(name) || Constants.ContainsKey(name);

        public OnnxTensor Tensor(Onnx.NodeProto n, int input, string what)
        {
            if (input >= n.Input.Count || n.Input[input].Length == 0) throw ImportException.AtNode(n, $"has no {what}");
            string name = n.Input[input];
            if (Constants.TryGetValue(name, out var c)) return c;
            if (!Init.TryGetValue(name, out var t)) throw ImportException.AtNode(n, $"its {what} '{name}' is not an initializer");
            var r = OnnxFile.Load(t, Path);
            Constants[name] = r;
            return r;
        }

        /// <summary>The layer's key prefix: the initializer's name without ".weight" (torchvision's "layer1.0.conv1"), else kindN.</summary>
        public string Prefix(string weightName, string kind)
        {
            string p;
            if (weightName.EndsWith(".weight", StringComparison.Ordinal) && weightName.Length > 7 && !weightName.Contains("::"))
                p = weightName[..^7];
            else
            {
                Counters.TryGetValue(kind, out int k);
                do { k++; p = kind + k.ToString(Inv); } while (Names.Contains(p));
                Counters[kind] = k;
            }
            if (!Names.Add(p)) throw new ImportException($"two layers would be named '{p}'");
            return p;
        }
    }

    internal static string F(double v) => v.ToString("R", Inv);
}

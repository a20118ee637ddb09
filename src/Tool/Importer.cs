using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace CnnGen.Tool;

/// <summary>
/// Pattern-matches an ONNX graph into CnnGen layers. The graph is walked from the image input: a value that feeds one node
/// continues the chain; a value that feeds two is a fork, which must be SiLU (x * Sigmoid(x)), a squeeze-excitation gate
/// (x * Sigmoid(Conv(act(Conv(GlobalAveragePool(x)))))) or a residual block (two branches, one possibly the identity, joined
/// by an Add; a Relu right after the Add is the residual's ReLU). MatMul followed by Add(bias) is Linear. Anything else is an
/// error naming the node, its op type and why (Graph.cs holds the fork patterns).
/// </summary>
internal static partial class Importer
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static ImportResult ImportFile(string path, string className, string? ns, bool keepFusedBatchNorm = false)
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
        var s = new State(path, init, InputShape(inputs[0])) { KeepFusedBatchNorm = keepFusedBatchNorm };
        var nodes = new List<Onnx.NodeProto>();
        foreach (var n in g.Node)
        {
            if (n.Domain is not ("" or "ai.onnx")) throw ImportException.AtNode(n, $"domain '{n.Domain}' is not supported");
            if (n.Output.Count < 1) throw ImportException.AtNode(n, "has no output");
            if (n.OpType == "Constant")
            {
                var a = n.Attribute.FirstOrDefault(x => x.Name == "value" && x.T is not null)
                    ?? throw ImportException.AtNode(n, "only a tensor 'value' Constant is supported");
                s.Constants[n.Output[0]] = OnnxFile.Load(a.T, path);
            }
            else if (n.OpType == "Identity" && n.Input.Count == 1 && s.IsConstant(n.Input[0]))
                // torch.onnx shares equal initializers (fresh batch norms) through Identity nodes: the output is the
                // constant under its own name (layer4.1.bn2.weight), so the keys keep torchvision's names
                s.Aliases[n.Output[0]] = n.Input[0];
            else nodes.Add(n);
        }
        var graph = new Graph(nodes, s, g.Output[0].Name);
        var layers = new List<ImportedItem>();
        string end = graph.Walk(inputs[0].Name, null, null, layers);
        if (end != g.Output[0].Name)
            throw new ImportException($"the graph output '{g.Output[0].Name}' is not the last layer's output '{end}'");
        if (layers.Count == 0) throw new ImportException("the graph has no layers");
        return new ImportResult(className, ns, s.Input, layers, path) { UnfoldedBatchNorms = s.UnfoldedBatchNorms };
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
        public Dictionary<string, string> Aliases { get; } = new();
        public (int C, int H, int W, int F) Shape { get => (C, H, W, Features); set => (C, H, W, Features) = value; }
        public int[] Input { get; }
        public int C, H, W;            // current shape; Features > 0 once flattened
        public int Features;
        public HashSet<string> Names { get; } = new();
        /// <summary>The names made up for layers whose initializers have no usable name (onnx::Conv_193).</summary>
        public HashSet<string> Generated { get; } = new();
        public Dictionary<string, int> Counters { get; } = new();
        /// <summary>Import exporter-folded conv+BN pairs as one convolution with bias (--keep-fused-bn) instead of restoring the BN.</summary>
        public bool KeepFusedBatchNorm { get; init; }
        /// <summary>How many exporter-folded batch norms were restored (see Layers.ConvWithUnfoldedBatchNorm).</summary>
        public int UnfoldedBatchNorms { get; set; }

        public bool IsConstant(string name) => Init.ContainsKey(name) || Constants.ContainsKey(name) || Aliases.ContainsKey(name);

        public OnnxTensor Tensor(Onnx.NodeProto n, int input, string what)
        {
            if (input >= n.Input.Count || n.Input[input].Length == 0) throw ImportException.AtNode(n, $"has no {what}");
            string name = n.Input[input];
            if (Constants.TryGetValue(name, out var c)) return c;
            if (Aliases.TryGetValue(name, out string? source))
            {
                var a = Tensor(source, n, what) with { Name = name };
                Constants[name] = a;
                return a;
            }
            return Tensor(name, n, what);
        }

        private OnnxTensor Tensor(string name, Onnx.NodeProto n, string what)
        {
            if (Constants.TryGetValue(name, out var c)) return c;
            if (Aliases.TryGetValue(name, out string? source)) return Tensor(source, n, what);
            if (!Init.TryGetValue(name, out var t)) throw ImportException.AtNode(n, $"its {what} '{name}' is not an initializer");
            var r = OnnxFile.Load(t, Path);
            Constants[name] = r;
            return r;
        }

        /// <summary>The layer's key prefix: the initializer's name without ".weight" (torchvision's "layer1.0.conv1"), else kindN.</summary>
        public string Prefix(string weightName, string kind, string suffix = ".weight")
        {
            string p;
            if (weightName.EndsWith(suffix, StringComparison.Ordinal) && weightName.Length > suffix.Length && IsKey(weightName))
                p = weightName[..^suffix.Length];
            else
            {
                Counters.TryGetValue(kind, out int k);
                do { k++; p = kind + k.ToString(Inv); } while (Names.Contains(p));
                Counters[kind] = k;
                Generated.Add(p);
            }
            if (!Names.Add(p)) throw new ImportException($"two layers would be named '{p}'");
            return p;
        }
    }

    /// <summary>A name CnnGen accepts as a key path (CNN0051): dot-separated segments of ASCII letters, digits, underscores.</summary>
    internal static bool IsKey(string name) =>
        name.Length <= 100 && name.Split('.').All(seg => seg.Length > 0 && seg.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'));

    internal static string F(double v) => v.ToString("R", Inv);
}

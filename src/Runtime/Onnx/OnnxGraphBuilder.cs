using System;
using System.Collections.Generic;
using System.Linq;
using Onnx;

namespace CnnGen.IO;

/// <summary>Builds the graph node by node: fresh value names, initializers from the model's weights, one layer's nodes.</summary>
internal sealed class OnnxGraphBuilder
{
    private int _next;

    public OnnxGraphBuilder(string name) { Graph = new GraphProto { Name = name }; }

    public GraphProto Graph { get; }

    public string Node(string op, string input, params AttributeProto[] attributes) => Node(op, new[] { input }, attributes);

    public string Node(string op, string[] inputs, params AttributeProto[] attributes)
    {
        string y = "t" + _next++;
        var n = new NodeProto { OpType = op, Name = op + "_" + y };
        n.Input.Add(inputs);
        n.Output.Add(y);
        n.Attribute.Add(attributes);
        Graph.Node.Add(n);
        return y;
    }

    /// <summary>A scalar float constant (a Constant node, not an initializer: initializers are the model's weights).</summary>
    public string Scalar(float v)
    {
        var value = new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxExport.Tensor("", Array.Empty<long>(), new[] { v }) };
        return Node("Constant", Array.Empty<string>(), value);
    }

    private string Constant(float[] values)
    {
        var value = new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxExport.Tensor("", new long[] { values.Length }, values) };
        return Node("Constant", Array.Empty<string>(), value);
    }

    private string Initializer(string key, long[] dims, ReadOnlySpan<float> source, int offset)
    {
        long count = 1;
        foreach (long d in dims) count *= d;
        if (offset < 0 || offset + count > source.Length) throw new ArgumentException($"Tensor {key} lies outside the model's weights.");
        Graph.Initializer.Add(OnnxExport.Tensor(key, dims, source.Slice(offset, (int)count)));
        return key;
    }

    /// <summary>Renames the final value (the output of the last node).</summary>
    public void Rename(string value, string name)
    {
        foreach (var n in Graph.Node)
        {
            for (int i = 0; i < n.Output.Count; i++) if (n.Output[i] == value) n.Output[i] = name;
        }
    }

    /// <summary>The nodes of one computing layer; returns its output value.</summary>
    public string Layer(OnnxLayer l, string x, ReadOnlySpan<float> p, ReadOnlySpan<float> buffers)
    {
        switch (l.Kind)
        {
            case "Conv2d":
            {
                int cout = l.Out[0], cin = l.In[0];
                long[] wd = { cout, cin / l.Groups, l.KernelH, l.KernelW };
                var inputs = new List<string> { x, Initializer(l.Key + ".weight", wd, p, l.ParamOffset) };
                if (l.Bias) inputs.Add(Initializer(l.Key + ".bias", new long[] { cout }, p, l.ParamOffset + (int)(wd[0] * wd[1] * wd[2] * wd[3])));
                return Node("Conv", inputs.ToArray(), B.Ints("kernel_shape", l.KernelH, l.KernelW), B.Ints("strides", l.StrideH, l.StrideW),
                    B.Ints("pads", l.PadH, l.PadW, l.PadH, l.PadW), B.Ints("dilations", l.DilationH, l.DilationW), B.Int("group", l.Groups));
            }
            case "Linear":
            {
                int fout = l.Out[0], fin = l.In.Aggregate(1, (a, d) => a * d);
                var inputs = new List<string> { x, Initializer(l.Key + ".weight", new long[] { fout, fin }, p, l.ParamOffset) };
                if (l.Bias) inputs.Add(Initializer(l.Key + ".bias", new long[] { fout }, p, l.ParamOffset + fout * fin));
                return Node("Gemm", inputs.ToArray(), B.Int("transB", 1));
            }
            case "BatchNorm2d":
            {
                int c = l.Out[0];
                var dims = new long[] { c };
                string scale = l.Bias ? Initializer(l.Key + ".weight", dims, p, l.ParamOffset) : Constant(Enumerable.Repeat(1f, c).ToArray());
                string bias = l.Bias ? Initializer(l.Key + ".bias", dims, p, l.ParamOffset + c) : Constant(new float[c]);
                string mean = Initializer(l.Key + ".running_mean", dims, buffers, l.BufferOffset);
                string var = Initializer(l.Key + ".running_var", dims, buffers, l.BufferOffset + c);
                return Node("BatchNormalization", new[] { x, scale, bias, mean, var }, B.Float("epsilon", (float)l.Value));
            }
            case "MaxPool2d":
                return Node("MaxPool", x, B.Ints("kernel_shape", l.KernelH, l.KernelW), B.Ints("strides", l.StrideH, l.StrideW),
                    B.Ints("pads", l.PadH, l.PadW, l.PadH, l.PadW), B.Ints("dilations", l.DilationH, l.DilationW), B.Int("ceil_mode", 0));
            case "AvgPool2d":
                if (l.DilationH != 1 || l.DilationW != 1) throw Unsupported(l, "a dilated average pool has no ONNX AveragePool form in opset 17");
                return Node("AveragePool", x, B.Ints("kernel_shape", l.KernelH, l.KernelW), B.Ints("strides", l.StrideH, l.StrideW),
                    B.Ints("pads", l.PadH, l.PadW, l.PadH, l.PadW), B.Int("count_include_pad", 1), B.Int("ceil_mode", 0));
            case "GlobalAvgPool2d":
                return Node("GlobalAveragePool", x);
            case "AdaptiveAvgPool2d":
            {
                int h = l.In[1], w = l.In[2], oh = l.Out.Length == 3 ? l.Out[1] : 1, ow = l.Out.Length == 3 ? l.Out[2] : 1;
                if (oh == 1 && ow == 1) return Node("GlobalAveragePool", x);
                if (h % oh != 0 || w % ow != 0)
                    throw Unsupported(l, $"adaptive average pooling from {h}×{w} to {oh}×{ow} has uneven windows (no ONNX AveragePool form)");
                return Node("AveragePool", x, B.Ints("kernel_shape", h / oh, w / ow), B.Ints("strides", h / oh, w / ow));
            }
            case "ReLU": return Node("Relu", x);
            case "ReLU6": return Node("Clip", new[] { x, Scalar(0f), Scalar(6f) });
            case "LeakyReLU": return Node("LeakyRelu", x, B.Float("alpha", (float)l.Value));
            case "ELU": return Node("Elu", x, B.Float("alpha", (float)l.Value));
            case "Sigmoid": return Node("Sigmoid", x);
            case "Tanh": return Node("Tanh", x);
            case "SiLU": return Node("Mul", new[] { x, Node("Sigmoid", x) });
            case "Hardswish": return Node("HardSwish", x);
            case "Hardsigmoid": return Node("HardSigmoid", x, B.Float("alpha", 1f / 6f), B.Float("beta", 0.5f));
            case "Softmax": return Node("Softmax", x, B.Int("axis", 1));
            case "LogSoftmax": return Node("LogSoftmax", x, B.Int("axis", 1));
            case "GELU": return Gelu(l, x);
            default: throw Unsupported(l, "the layer kind has no ONNX form");
        }
    }

    /// <summary>GELU decomposed (opset 17 has no Gelu): 0.5·x·(1 + erf(x/√2)), or 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    private string Gelu(OnnxLayer l, string x)
    {
        string inner;
        if (l.Option == "tanh")
        {
            string cube = Node("Mul", new[] { Node("Mul", new[] { x, x }), x });
            string sum = Node("Add", new[] { x, Node("Mul", new[] { cube, Scalar(0.044715f) }) });
            inner = Node("Tanh", Node("Mul", new[] { sum, Scalar((float)Math.Sqrt(2 / Math.PI)) }));
        }
        else if (l.Option is "none" or "") inner = Node("Erf", Node("Div", new[] { x, Scalar((float)Math.Sqrt(2)) }));
        else throw Unsupported(l, $"GELU approximation '{l.Option}' is unknown");
        string onePlus = Node("Add", new[] { inner, Scalar(1f) });
        return Node("Mul", new[] { Node("Mul", new[] { x, Scalar(0.5f) }), onePlus });
    }

    private static NotSupportedException Unsupported(OnnxLayer l, string why) =>
        new($"ONNX export: layer {l.Kind} '{l.Key}' cannot be exported: {why}.");
}

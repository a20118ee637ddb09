using System;
using System.Collections.Generic;
using System.Text;
using CnnGen.IO;
using static CnnGen.Tool.Importer;

namespace CnnGen.Tool;

/// <summary>One ONNX node → one CnnGen layer attribute (or none, for inference no-ops), tracking the shape.</summary>
internal static class Layers
{
    private static readonly WeightTensor[] None = Array.Empty<WeightTensor>();

    public static ImportedLayer? Map(State s, Onnx.NodeProto n)
    {
        switch (n.OpType)
        {
            case "Conv": return Conv(s, n);
            case "BatchNormalization": return BatchNorm(s, n);
            case "Relu": return Simple("ReLU");
            case "Sigmoid": return Simple("Sigmoid");
            case "Tanh": return Simple("Tanh");
            case "HardSwish": return Simple("Hardswish");
            case "HardSigmoid":
                if (Math.Abs(OnnxFile.Float32(n, "alpha", 0.2f) - 1f / 6) > 1e-6 || Math.Abs(OnnxFile.Float32(n, "beta", 0.5f) - 0.5f) > 1e-6)
                    throw ImportException.AtNode(n, "only alpha = 1/6, beta = 0.5 (PyTorch's Hardsigmoid) is supported");
                return Simple("Hardsigmoid");
            case "LeakyRelu": return Simple($"LeakyReLU({F(OnnxFile.Float32(n, "alpha", 0.01f))})");
            case "Elu": return Simple($"ELU({F(OnnxFile.Float32(n, "alpha", 1f))})");
            case "Gelu":
                string approx = OnnxFile.Str(n, "approximate") ?? "none";
                return Simple(approx == "none" ? "GELU" : $"GELU(Approximate = \"{approx}\")");
            case "Softmax":
                long axis = OnnxFile.Int(n, "axis", -1);
                if (s.Features == 0 || axis is not (-1 or 1)) throw ImportException.AtNode(n, "only Softmax over the features of a flattened tensor is supported");
                return Simple("Softmax");
            case "Dropout":
            case "Identity":
                if (n.Output.Count > 1 && n.Output[1].Length > 0) throw ImportException.AtNode(n, "a Dropout mask output is not supported");
                return null; // no-ops at inference
            case "MaxPool": return Pool(s, n, max: true);
            case "AveragePool": return Pool(s, n, max: false);
            case "GlobalAveragePool":
                NeedImage(s, n);
                s.H = s.W = 1;
                return Simple("GlobalAvgPool2d");
            case "Flatten":
                if (OnnxFile.Int(n, "axis", 1) != 1) throw ImportException.AtNode(n, "only Flatten with axis 1 is supported");
                if (s.Features > 0) return null; // [N, F] flattened again: the identity
                s.Features = s.C * s.H * s.W;
                return Simple("Flatten");
            case "Reshape": return Reshape(s, n);
            case "Gemm": return Gemm(s, n);
            default:
                throw ImportException.AtNode(n, "this op type is not supported by CnnGen's importer");
        }
    }

    internal static ImportedLayer Simple(string attribute) => new(attribute, None);

    private static void NeedImage(State s, Onnx.NodeProto n)
    {
        if (s.Features > 0) throw ImportException.AtNode(n, "expects an image tensor [N, C, H, W], the input here is flattened");
    }

    private static (long, long) Pair(Onnx.NodeProto n, string name, long dflt)
    {
        long[]? v = OnnxFile.Ints(n, name);
        if (v is null) return (dflt, dflt);
        if (v.Length != 2) throw ImportException.AtNode(n, $"{name} has {v.Length} values; 2-D (2 values) is supported");
        return (v[0], v[1]);
    }

    /// <summary>Symmetric padding (top, left) from pads or auto_pad; an asymmetric one is an error.</summary>
    private static (int, int) Pads(State s, Onnx.NodeProto n, int kh, int kw, int sh, int sw, int dh, int dw)
    {
        string auto = OnnxFile.Str(n, "auto_pad") ?? "NOTSET";
        long t, l, b, r;
        if (auto is "SAME_UPPER" or "SAME_LOWER")
        {
            long ph = Math.Max(0, ((s.H + sh - 1) / sh - 1) * sh + (kh - 1) * dh + 1 - s.H);
            long pw = Math.Max(0, ((s.W + sw - 1) / sw - 1) * sw + (kw - 1) * dw + 1 - s.W);
            t = auto == "SAME_UPPER" ? ph / 2 : ph - ph / 2; b = ph - t;
            l = auto == "SAME_UPPER" ? pw / 2 : pw - pw / 2; r = pw - l;
        }
        else if (auto == "VALID") { t = l = b = r = 0; }
        else if (auto == "NOTSET")
        {
            long[] p = OnnxFile.Ints(n, "pads") ?? new long[4];
            if (p.Length != 4) throw ImportException.AtNode(n, $"pads has {p.Length} values; 2-D (4 values) is supported");
            (t, l, b, r) = (p[0], p[1], p[2], p[3]);
        }
        else throw ImportException.AtNode(n, $"auto_pad '{auto}' is not supported");
        if (t != b || l != r)
            throw ImportException.AtNode(n, $"asymmetric padding (top {t}, left {l}, bottom {b}, right {r}) cannot be expressed: CnnGen pads symmetrically");
        return ((int)t, (int)l);
    }

    private static string Hw(string name, int h, int w, int dflt) =>
        h == w ? (h == dflt ? "" : $", {name} = {h}") : $", {name}Height = {h}, {name}Width = {w}";

    /// <summary>
    /// A convolution whose batch norm the exporter folded into it: torch.onnx's default export (training=EVAL) replaces
    /// Conv(bias=False) + BatchNorm2d by one Conv with bias whose weight and bias are new constants named onnx::Conv_NNN.
    /// </summary>
    internal static bool HasExporterFoldedBatchNorm(State s, Onnx.NodeProto n) =>
        !s.KeepFusedBatchNorm && n.OpType == "Conv" && n.Input.Count > 2 && n.Input[2].Length > 0
        && n.Input[1].StartsWith("onnx::", StringComparison.Ordinal) && n.Input[2].StartsWith("onnx::", StringComparison.Ordinal);

    /// <summary>
    /// The folded batch norm restored: Conv2d(Bias = false) with the folded weight, then BatchNorm2d with scale 1, shift = the
    /// folded bias, running mean 0 and running variance 1 − eps, so (x − 0) / √(var + eps) · 1 + shift is the folded function
    /// (to float rounding). CnnGen folds it back at inference; training gets the batch norm the source model had, and the
    /// parameter count is the source model's (torchvision resnet18: 11,689,512).
    /// </summary>
    internal static IEnumerable<ImportedLayer> ConvWithUnfoldedBatchNorm(State s, Onnx.NodeProto n)
    {
        OnnxTensor b = s.Tensor(n, 2, "bias");
        ImportedLayer conv = Conv(s, n, withoutBias: true);
        if (b.Count != s.C) throw ImportException.AtNode(n, $"bias '{b.Name}' has {b.Count} values, the weight has {s.C} output channels");
        const float eps = 1e-5f;
        var ones = new float[s.C]; Array.Fill(ones, 1f);
        var variance = new float[s.C]; Array.Fill(variance, 1f - eps);
        var tensors = BatchNormTensors(ones, (float[])b.Floats!.Clone(), new float[s.C], variance);
        s.UnfoldedBatchNorms++;
        return new[] { conv, new ImportedLayer($"BatchNorm2d({s.C})", tensors, s.Prefix("", "bn")) };
    }

    internal static ImportedLayer Conv(State s, Onnx.NodeProto n, bool withoutBias = false)
    {
        NeedImage(s, n);
        OnnxTensor w = s.Tensor(n, 1, "weight");
        if (w.Dims.Length != 4) throw ImportException.AtNode(n, $"weight '{w.Name}' has {w.Dims.Length} dims; a 2-D convolution (4) is supported");
        int group = (int)OnnxFile.Int(n, "group", 1);
        int cout = (int)w.Dims[0], cinPerGroup = (int)w.Dims[1], kh = (int)w.Dims[2], kw = (int)w.Dims[3];
        if (cinPerGroup * group != s.C)
            throw ImportException.AtNode(n, $"weight '{w.Name}' [{string.Join(", ", w.Dims)}] with group {group} expects {cinPerGroup * group} input channels, the input has {s.C}");
        long[]? ks = OnnxFile.Ints(n, "kernel_shape");
        if (ks is not null && (ks.Length != 2 || ks[0] != kh || ks[1] != kw)) throw ImportException.AtNode(n, "kernel_shape does not match the weight");
        var (sh, sw) = Pair(n, "strides", 1);
        var (dh, dw) = Pair(n, "dilations", 1);
        var (ph, pw) = Pads(s, n, kh, kw, (int)sh, (int)sw, (int)dh, (int)dw);
        bool bias = !withoutBias && n.Input.Count > 2 && n.Input[2].Length > 0;
        string prefix = s.Prefix(w.Name, "conv");
        var tensors = new List<WeightTensor> { new("weight", new[] { cout, cinPerGroup, kh, kw }, w.Floats!, true) };
        if (bias)
        {
            OnnxTensor b = s.Tensor(n, 2, "bias");
            if (b.Count != cout) throw ImportException.AtNode(n, $"bias '{b.Name}' has {b.Count} values, the weight has {cout} output channels");
            tensors.Add(new("bias", new[] { cout }, b.Floats!, true));
        }
        var a = new StringBuilder($"Conv2d({s.C}, {cout}, {(kh == kw ? kh : kh)}");
        if (kh != kw) a.Append($", KernelHeight = {kh}, KernelWidth = {kw}");
        a.Append(Hw("Stride", (int)sh, (int)sw, 1)).Append(Hw("Padding", ph, pw, 0)).Append(Hw("Dilation", (int)dh, (int)dw, 1));
        if (group != 1) a.Append($", Groups = {group}");
        if (!bias) a.Append(", Bias = false");
        a.Append(')');
        s.C = cout;
        s.H = (int)((s.H + 2 * ph - dh * (kh - 1) - 1) / sh + 1);
        s.W = (int)((s.W + 2 * pw - dw * (kw - 1) - 1) / sw + 1);
        if (s.H <= 0 || s.W <= 0) throw ImportException.AtNode(n, "the output would be empty");
        return new ImportedLayer(a.ToString(), tensors, prefix);
    }

    private static ImportedLayer BatchNorm(State s, Onnx.NodeProto n)
    {
        NeedImage(s, n);
        if (n.Output.Count > 1 && n.Output[1].Length > 0) throw ImportException.AtNode(n, "training-mode BatchNormalization (running outputs) is not supported");
        OnnxTensor scale = s.Tensor(n, 1, "scale"), bias = s.Tensor(n, 2, "bias"), mean = s.Tensor(n, 3, "mean"), var = s.Tensor(n, 4, "var");
        foreach (var t in new[] { scale, bias, mean, var })
            if (t.Count != s.C) throw ImportException.AtNode(n, $"'{t.Name}' has {t.Count} values, the input has {s.C} channels");
        double eps = OnnxFile.Float32(n, "epsilon", 1e-5f);
        string prefix = s.Prefix(scale.Name, "bn");
        string epsText = Math.Abs(eps - 1e-5) < 1e-12 ? "" : $", Eps = {F((float)eps)}";
        return new ImportedLayer($"BatchNorm2d({s.C}{epsText})", BatchNormTensors(scale.Floats!, bias.Floats!, mean.Floats!, var.Floats!), prefix);
    }

    /// <summary>A BatchNorm2d's tensors under PyTorch's keys: weight, bias, running statistics, num_batches_tracked (I64, 0).</summary>
    private static List<WeightTensor> BatchNormTensors(float[] weight, float[] bias, float[] mean, float[] variance)
    {
        int c = weight.Length;
        return new List<WeightTensor>
        {
            new("weight", new[] { c }, weight, true),
            new("bias", new[] { c }, bias, true),
            new("running_mean", new[] { c }, mean, false),
            new("running_var", new[] { c }, variance, false),
            new("num_batches_tracked", Array.Empty<int>(), new[] { 0f }, false, SafeTensorDType.I64),
        };
    }

    private static ImportedLayer Pool(State s, Onnx.NodeProto n, bool max)
    {
        NeedImage(s, n);
        long[] k = OnnxFile.Ints(n, "kernel_shape") ?? throw ImportException.AtNode(n, "has no kernel_shape");
        if (k.Length != 2) throw ImportException.AtNode(n, "only 2-D pooling is supported");
        int kh = (int)k[0], kw = (int)k[1];
        var (sh, sw) = Pair(n, "strides", 1);
        var (dh, dw) = Pair(n, "dilations", 1);
        if (!max && (dh != 1 || dw != 1)) throw ImportException.AtNode(n, "AveragePool with dilation is not supported");
        var (ph, pw) = Pads(s, n, kh, kw, (int)sh, (int)sw, (int)dh, (int)dw);
        if (!max && (ph > 0 || pw > 0) && OnnxFile.Int(n, "count_include_pad", 0) != 1)
            throw ImportException.AtNode(n, "padded AveragePool with count_include_pad = 0 is not supported (CnnGen's AvgPool2d counts the padding, as PyTorch's default)");
        if (max && OnnxFile.Int(n, "storage_order", 0) != 0) throw ImportException.AtNode(n, "storage_order 1 is not supported");
        long floorH = (s.H + 2 * ph - dh * (kh - 1) - 1) / sh + 1, floorW = (s.W + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        if (OnnxFile.Int(n, "ceil_mode", 0) == 1)
        {
            long ceilH = (s.H + 2 * ph - dh * (kh - 1) - 1 + sh - 1) / sh + 1, ceilW = (s.W + 2 * pw - dw * (kw - 1) - 1 + sw - 1) / sw + 1;
            if (ceilH != floorH || ceilW != floorW)
                throw ImportException.AtNode(n, "ceil_mode = 1 changes the output size here; CnnGen pools with floor");
        }
        var a = new StringBuilder(max ? "MaxPool2d(" : "AvgPool2d(").Append(kh);
        if (kh != kw) a.Append($", KernelHeight = {kh}, KernelWidth = {kw}");
        if (sh != kh || sw != kw) a.Append(sh == sw ? $", Stride = {sh}" : $", StrideHeight = {sh}, StrideWidth = {sw}");
        a.Append(Hw("Padding", ph, pw, 0));
        if (max) a.Append(Hw("Dilation", (int)dh, (int)dw, 1));
        a.Append(')');
        s.H = (int)floorH; s.W = (int)floorW;
        if (s.H <= 0 || s.W <= 0) throw ImportException.AtNode(n, "the output would be empty");
        return new ImportedLayer(a.ToString(), None);
    }

    private static ImportedLayer Reshape(State s, Onnx.NodeProto n)
    {
        NeedImage(s, n);
        OnnxTensor shape = s.Tensor(n, 1, "shape");
        long[] v = shape.Longs ?? throw ImportException.AtNode(n, "the shape is not int64");
        int f = s.C * s.H * s.W;
        bool to2d = v.Length == 2 && (v[0] is -1 or 0 or 1) && (v[1] == f || (v[1] == -1 && v[0] != -1));
        if (!to2d) throw ImportException.AtNode(n, $"only a Reshape to [N, {f}] (flatten) is supported, not [{string.Join(", ", v)}]");
        s.Features = f;
        return Simple("Flatten");
    }

    private static ImportedLayer Linear(State s, Onnx.NodeProto n, OnnxTensor w, bool transposed, OnnxTensor? b)
    {
        if (s.Features == 0) throw ImportException.AtNode(n, "expects a flattened input (add Flatten before it)");
        if (w.Dims.Length != 2) throw ImportException.AtNode(n, $"weight '{w.Name}' is not 2-D");
        int outF = (int)(transposed ? w.Dims[0] : w.Dims[1]), inF = (int)(transposed ? w.Dims[1] : w.Dims[0]);
        if (inF != s.Features) throw ImportException.AtNode(n, $"weight '{w.Name}' takes {inF} features, the input has {s.Features}");
        float[] wt = w.Floats!;
        if (!transposed)
        {
            wt = new float[w.Floats!.Length];
            for (int i = 0; i < inF; i++) for (int o = 0; o < outF; o++) wt[o * inF + i] = w.Floats[i * outF + o];
        }
        string prefix = s.Prefix(w.Name, "fc");
        var tensors = new List<WeightTensor> { new("weight", new[] { outF, inF }, wt, true) };
        if (b is not null)
        {
            if (b.Count != outF) throw ImportException.AtNode(n, $"bias '{b.Name}' has {b.Count} values, the layer has {outF} outputs");
            tensors.Add(new("bias", new[] { outF }, b.Floats!, true));
        }
        s.Features = outF;
        return new ImportedLayer($"Linear({inF}, {outF}{(b is null ? ", Bias = false" : "")})", tensors, prefix);
    }

    private static ImportedLayer Gemm(State s, Onnx.NodeProto n)
    {
        if (OnnxFile.Float32(n, "alpha", 1f) != 1f || OnnxFile.Float32(n, "beta", 1f) != 1f || OnnxFile.Int(n, "transA", 0) != 0)
            throw ImportException.AtNode(n, "only Gemm with alpha = 1, beta = 1, transA = 0 is supported");
        OnnxTensor w = s.Tensor(n, 1, "weight");
        OnnxTensor? b = n.Input.Count > 2 && n.Input[2].Length > 0 ? s.Tensor(n, 2, "bias") : null;
        return Linear(s, n, w, OnnxFile.Int(n, "transB", 0) == 1, b);
    }

    public static ImportedLayer MatMulAdd(State s, Onnx.NodeProto mm, Onnx.NodeProto add, string bias)
    {
        OnnxTensor w = s.Tensor(mm, 1, "weight");
        if (!s.IsConstant(bias)) throw ImportException.AtNode(add, $"'{bias}' is not an initializer (a bias after MatMul is expected)");
        int bi = add.Input.IndexOf(bias);
        return Linear(s, mm, w, transposed: false, s.Tensor(add, bi, "bias"));
    }
}

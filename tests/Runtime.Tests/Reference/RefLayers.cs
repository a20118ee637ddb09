using System;
using System.Collections.Generic;
using System.Linq;

namespace CnnGen.Runtime.Tests.Reference;

/// <summary>A dense row-major (NCHW or [N, F]) float64 tensor: the reference's only data type.</summary>
internal sealed class RefTensor
{
    public int[] Shape { get; }
    public double[] Data { get; }

    public RefTensor(params int[] shape) : this(shape, new double[Count(shape)]) { }

    public RefTensor(int[] shape, double[] data)
    {
        if (data.Length != Count(shape))
            throw new ArgumentException($"data length {data.Length} does not match shape [{string.Join(", ", shape)}]");
        Shape = (int[])shape.Clone();
        Data = data;
    }

    public int Length => Data.Length;
    public int Rank => Shape.Length;
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
    public RefTensor Clone() => new(Shape, (double[])Data.Clone());
    public RefTensor Reshape(params int[] shape) => new(shape, Data);

    public static int Count(int[] shape)
    {
        int n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException("negative dimension");
            n = checked(n * d);
        }
        return n;
    }

    /// <summary>Index of [n, c, h, w] in a 4-D tensor.</summary>
    public int Index(int n, int c, int h, int w) => ((n * Shape[1] + c) * Shape[2] + h) * Shape[3] + w;

    public double this[int n, int c, int h, int w]
    {
        get => Data[Index(n, c, h, w)];
        set => Data[Index(n, c, h, w)] = value;
    }

    public double this[int n, int f]
    {
        get => Data[n * Shape[1] + f];
        set => Data[n * Shape[1] + f] = value;
    }
}

// ------------------------------------------------------------------------------------------------------------
// Layer descriptions (one small record per layer kind; sizes as PyTorch's modules take them)
// ------------------------------------------------------------------------------------------------------------

internal abstract record RefLayer;

/// <summary>nn.Conv2d: weight [out, in / groups, kh, kw], bias [out].</summary>
internal sealed record Conv2dLayer(
    int InChannels, int OutChannels, int KernelH, int KernelW,
    int StrideH = 1, int StrideW = 1, int PadH = 0, int PadW = 0, int DilationH = 1, int DilationW = 1,
    int Groups = 1, bool Bias = true) : RefLayer
{
    public static Conv2dLayer Square(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0,
        int dilation = 1, int groups = 1, bool bias = true) =>
        new(inChannels, outChannels, kernel, kernel, stride, stride, padding, padding, dilation, dilation, groups, bias);

    public int[] WeightShape => new[] { OutChannels, InChannels / Groups, KernelH, KernelW };
}

/// <summary>nn.MaxPool2d (implicit -inf padding, first maximum wins).</summary>
internal sealed record MaxPool2dLayer(
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH = 0, int PadW = 0, int DilationH = 1, int DilationW = 1)
    : RefLayer
{
    public static MaxPool2dLayer Square(int kernel, int? stride = null, int padding = 0, int dilation = 1) =>
        new(kernel, kernel, stride ?? kernel, stride ?? kernel, padding, padding, dilation, dilation);
}

/// <summary>nn.AvgPool2d with count_include_pad=True (zero padding counted in the divisor), ceil_mode=False.</summary>
internal sealed record AvgPool2dLayer(int KernelH, int KernelW, int StrideH, int StrideW, int PadH = 0, int PadW = 0)
    : RefLayer
{
    public static AvgPool2dLayer Square(int kernel, int? stride = null, int padding = 0) =>
        new(kernel, kernel, stride ?? kernel, stride ?? kernel, padding, padding);
}

/// <summary>nn.Linear: weight [out, in], bias [out].</summary>
internal sealed record LinearLayer(int InFeatures, int OutFeatures, bool Bias = true) : RefLayer;

internal sealed record ReLULayer : RefLayer;
internal sealed record LeakyReLULayer(double NegativeSlope = 0.01) : RefLayer;
internal sealed record ELULayer(double Alpha = 1.0) : RefLayer;
internal sealed record SigmoidLayer : RefLayer;
internal sealed record TanhLayer : RefLayer;
/// <summary>nn.Softmax(dim=1).</summary>
internal sealed record SoftmaxLayer : RefLayer;
/// <summary>nn.LogSoftmax(dim=1).</summary>
internal sealed record LogSoftmaxLayer : RefLayer;
internal sealed record FlattenLayer : RefLayer;

/// <summary>nn.ReLU6: min(max(x, 0), 6).</summary>
internal sealed record ReLU6Layer : RefLayer;

/// <summary>nn.SiLU: x·sigmoid(x).</summary>
internal sealed record SiLULayer : RefLayer;

/// <summary>nn.GELU(approximate='none'): x·Φ(x); with <paramref name="Tanh"/>, approximate='tanh'.</summary>
internal sealed record GELULayer(bool Tanh = false) : RefLayer;

/// <summary>nn.Hardswish: x·min(max(x + 3, 0), 6)/6.</summary>
internal sealed record HardswishLayer : RefLayer;

/// <summary>nn.Hardsigmoid: min(max(x + 3, 0), 6)/6.</summary>
internal sealed record HardsigmoidLayer : RefLayer;

/// <summary>nn.Identity.</summary>
internal sealed record IdentityLayer : RefLayer;

/// <summary>nn.BatchNorm2d: weight (γ) and bias (β) [features] when affine; buffers running_mean, running_var [features], num_batches_tracked.</summary>
internal sealed record BatchNorm2dLayer(int Features, double Eps = 1e-5, double Momentum = 0.1, bool Affine = true) : RefLayer;

/// <summary>nn.AdaptiveAvgPool2d(1): [N, C, H, W] -> [N, C, 1, 1].</summary>
internal sealed record GlobalAvgPool2dLayer : RefLayer;

/// <summary>
/// A residual block: y = body(x) + shortcut(x) (shortcut: the identity when null), then a ReLU when <see cref="ReLU"/>,
/// as torchvision's BasicBlock / Bottleneck. Keys nest as PyTorch's module names: "prefix.{body name}" and
/// "prefix.{ShortcutPrefix}.{shortcut name}" (names default to the 0-based position, as in nn.Sequential).
/// </summary>
internal sealed record ResidualLayer(
    IReadOnlyList<RefLayer> Body, IReadOnlyList<string?>? BodyNames = null,
    IReadOnlyList<RefLayer>? Shortcut = null, IReadOnlyList<string?>? ShortcutNames = null,
    bool ReLU = false, string ShortcutPrefix = "downsample") : RefLayer;
/// <summary>nn.Dropout(p): per-element keep mask, kept values scaled by 1/(1-p).</summary>
internal sealed record DropoutLayer(double P = 0.5) : RefLayer;
/// <summary>nn.Dropout2d(p): per-(sample, channel) keep mask, kept channels scaled by 1/(1-p).</summary>
internal sealed record Dropout2dLayer(double P = 0.5) : RefLayer;

/// <summary>
/// Plain, obviously-correct float64 loops for every layer, forward and backward, batched, NCHW.
/// Backward functions take the upstream gradient dY of the layer output and return gradients of the same
/// scalar with respect to the input and the parameters (so they accumulate over the batch).
/// </summary>
internal static class RefLayers
{
    /// <summary>PyTorch's output size (floor mode): (in + 2p - d(k-1) - 1) / s + 1.</summary>
    public static int OutputSize(int input, int kernel, int stride, int padding, int dilation)
    {
        int span = input + 2 * padding - dilation * (kernel - 1) - 1;
        if (span < 0) throw new ArgumentException($"window (kernel {kernel}, dilation {dilation}) larger than padded input {input + 2 * padding}");
        return span / stride + 1;
    }

    private static void Require4D(RefTensor x, string what)
    {
        if (x.Rank != 4) throw new ArgumentException($"{what} expects [N, C, H, W], got {x.ShapeText}");
    }

    // ------------------------------------------------------------------ Conv2d

    public static RefTensor Conv2dForward(RefTensor x, RefTensor weight, RefTensor? bias, Conv2dLayer c)
    {
        Require4D(x, "Conv2d");
        CheckConv(x, weight, bias, c);
        int n = x.Shape[0], h = x.Shape[2], w = x.Shape[3];
        int oh = OutputSize(h, c.KernelH, c.StrideH, c.PadH, c.DilationH);
        int ow = OutputSize(w, c.KernelW, c.StrideW, c.PadW, c.DilationW);
        int inPerGroup = c.InChannels / c.Groups, outPerGroup = c.OutChannels / c.Groups;
        var y = new RefTensor(n, c.OutChannels, oh, ow);
        for (int b = 0; b < n; b++)
        for (int oc = 0; oc < c.OutChannels; oc++)
        {
            int g = oc / outPerGroup;
            for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                double sum = bias is null ? 0.0 : bias.Data[oc];
                for (int icg = 0; icg < inPerGroup; icg++)
                {
                    int ic = g * inPerGroup + icg;
                    for (int ki = 0; ki < c.KernelH; ki++)
                    {
                        int ih = i * c.StrideH - c.PadH + ki * c.DilationH;
                        if (ih < 0 || ih >= h) continue;
                        for (int kj = 0; kj < c.KernelW; kj++)
                        {
                            int iw = j * c.StrideW - c.PadW + kj * c.DilationW;
                            if (iw < 0 || iw >= w) continue;
                            sum += x[b, ic, ih, iw] * weight[oc, icg, ki, kj];
                        }
                    }
                }
                y[b, oc, i, j] = sum;
            }
        }
        return y;
    }

    public static (RefTensor GradInput, RefTensor GradWeight, RefTensor? GradBias) Conv2dBackward(
        RefTensor x, RefTensor weight, Conv2dLayer c, RefTensor dy)
    {
        Require4D(x, "Conv2d");
        CheckConv(x, weight, null, c);
        int n = x.Shape[0], h = x.Shape[2], w = x.Shape[3];
        int oh = dy.Shape[2], ow = dy.Shape[3];
        if (oh != OutputSize(h, c.KernelH, c.StrideH, c.PadH, c.DilationH) || ow != OutputSize(w, c.KernelW, c.StrideW, c.PadW, c.DilationW))
            throw new ArgumentException($"Conv2d backward: dY {dy.ShapeText} does not match the output of {x.ShapeText}");
        int inPerGroup = c.InChannels / c.Groups, outPerGroup = c.OutChannels / c.Groups;
        var dx = new RefTensor(x.Shape);
        var dw = new RefTensor(weight.Shape);
        var db = c.Bias ? new RefTensor(c.OutChannels) : null;
        for (int b = 0; b < n; b++)
        for (int oc = 0; oc < c.OutChannels; oc++)
        {
            int g = oc / outPerGroup;
            for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                double gy = dy[b, oc, i, j];
                if (db is not null) db.Data[oc] += gy;
                for (int icg = 0; icg < inPerGroup; icg++)
                {
                    int ic = g * inPerGroup + icg;
                    for (int ki = 0; ki < c.KernelH; ki++)
                    {
                        int ih = i * c.StrideH - c.PadH + ki * c.DilationH;
                        if (ih < 0 || ih >= h) continue;
                        for (int kj = 0; kj < c.KernelW; kj++)
                        {
                            int iw = j * c.StrideW - c.PadW + kj * c.DilationW;
                            if (iw < 0 || iw >= w) continue;
                            dx[b, ic, ih, iw] += weight[oc, icg, ki, kj] * gy;
                            dw[oc, icg, ki, kj] += x[b, ic, ih, iw] * gy;
                        }
                    }
                }
            }
        }
        return (dx, dw, db);
    }

    private static void CheckConv(RefTensor x, RefTensor weight, RefTensor? bias, Conv2dLayer c)
    {
        if (c.Groups <= 0 || c.InChannels % c.Groups != 0 || c.OutChannels % c.Groups != 0)
            throw new ArgumentException($"groups {c.Groups} must divide {c.InChannels} and {c.OutChannels}");
        if (x.Shape[1] != c.InChannels)
            throw new ArgumentException($"Conv2d expects {c.InChannels} channels, got {x.ShapeText}");
        if (!weight.Shape.SequenceEqual(c.WeightShape))
            throw new ArgumentException($"Conv2d weight {weight.ShapeText}, expected [{string.Join(", ", c.WeightShape)}]");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != c.OutChannels))
            throw new ArgumentException($"Conv2d bias {bias.ShapeText}, expected [{c.OutChannels}]");
    }

    // ------------------------------------------------------------------ MaxPool2d

    /// <summary>
    /// Max pooling; <paramref name="argmax"/> receives, per output element, the flat index into x of the maximum
    /// (scanning the window row by row, a later element wins only if strictly greater, as PyTorch's CPU kernel;
    /// padding positions hold -inf and are never selected).
    /// </summary>
    public static RefTensor MaxPool2dForward(RefTensor x, MaxPool2dLayer p, out int[] argmax)
    {
        Require4D(x, "MaxPool2d");
        int n = x.Shape[0], ch = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int oh = OutputSize(h, p.KernelH, p.StrideH, p.PadH, p.DilationH);
        int ow = OutputSize(w, p.KernelW, p.StrideW, p.PadW, p.DilationW);
        var y = new RefTensor(n, ch, oh, ow);
        argmax = new int[y.Length];
        for (int b = 0; b < n; b++)
        for (int c = 0; c < ch; c++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double best = double.NegativeInfinity;
            int bestIndex = -1;
            for (int ki = 0; ki < p.KernelH; ki++)
            {
                int ih = i * p.StrideH - p.PadH + ki * p.DilationH;
                if (ih < 0 || ih >= h) continue;
                for (int kj = 0; kj < p.KernelW; kj++)
                {
                    int iw = j * p.StrideW - p.PadW + kj * p.DilationW;
                    if (iw < 0 || iw >= w) continue;
                    double v = x[b, c, ih, iw];
                    if (bestIndex < 0 || v > best || double.IsNaN(v))
                    {
                        best = v;
                        bestIndex = x.Index(b, c, ih, iw);
                    }
                }
            }
            if (bestIndex < 0) throw new ArgumentException("MaxPool2d window entirely in padding");
            int o = y.Index(b, c, i, j);
            y.Data[o] = best;
            argmax[o] = bestIndex;
        }
        return y;
    }

    public static RefTensor MaxPool2dBackward(int[] inputShape, int[] argmax, RefTensor dy)
    {
        if (argmax.Length != dy.Length) throw new ArgumentException("argmax and dY lengths differ");
        var dx = new RefTensor(inputShape);
        for (int o = 0; o < dy.Length; o++) dx.Data[argmax[o]] += dy.Data[o];
        return dx;
    }

    // ------------------------------------------------------------------ AvgPool2d

    public static RefTensor AvgPool2dForward(RefTensor x, AvgPool2dLayer p)
    {
        Require4D(x, "AvgPool2d");
        int n = x.Shape[0], ch = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int oh = OutputSize(h, p.KernelH, p.StrideH, p.PadH, 1);
        int ow = OutputSize(w, p.KernelW, p.StrideW, p.PadW, 1);
        double divisor = p.KernelH * p.KernelW; // count_include_pad=True; floor mode never reaches past the padding
        var y = new RefTensor(n, ch, oh, ow);
        for (int b = 0; b < n; b++)
        for (int c = 0; c < ch; c++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double sum = 0;
            for (int ki = 0; ki < p.KernelH; ki++)
            {
                int ih = i * p.StrideH - p.PadH + ki;
                if (ih < 0 || ih >= h) continue;
                for (int kj = 0; kj < p.KernelW; kj++)
                {
                    int iw = j * p.StrideW - p.PadW + kj;
                    if (iw < 0 || iw >= w) continue;
                    sum += x[b, c, ih, iw];
                }
            }
            y[b, c, i, j] = sum / divisor;
        }
        return y;
    }

    public static RefTensor AvgPool2dBackward(int[] inputShape, AvgPool2dLayer p, RefTensor dy)
    {
        var dx = new RefTensor(inputShape);
        int n = inputShape[0], ch = inputShape[1], h = inputShape[2], w = inputShape[3];
        int oh = dy.Shape[2], ow = dy.Shape[3];
        double divisor = p.KernelH * p.KernelW;
        for (int b = 0; b < n; b++)
        for (int c = 0; c < ch; c++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double g = dy[b, c, i, j] / divisor;
            for (int ki = 0; ki < p.KernelH; ki++)
            {
                int ih = i * p.StrideH - p.PadH + ki;
                if (ih < 0 || ih >= h) continue;
                for (int kj = 0; kj < p.KernelW; kj++)
                {
                    int iw = j * p.StrideW - p.PadW + kj;
                    if (iw < 0 || iw >= w) continue;
                    dx[b, c, ih, iw] += g;
                }
            }
        }
        return dx;
    }

    // ------------------------------------------------------------------ Linear

    public static RefTensor LinearForward(RefTensor x, RefTensor weight, RefTensor? bias)
    {
        int n = x.Shape[0], fin = weight.Shape[1], fout = weight.Shape[0];
        if (x.Rank != 2 || x.Shape[1] != fin) throw new ArgumentException($"Linear expects [N, {fin}], got {x.ShapeText}");
        var y = new RefTensor(n, fout);
        for (int b = 0; b < n; b++)
        for (int o = 0; o < fout; o++)
        {
            double sum = bias is null ? 0.0 : bias.Data[o];
            for (int i = 0; i < fin; i++) sum += weight[o, i] * x[b, i];
            y[b, o] = sum;
        }
        return y;
    }

    public static (RefTensor GradInput, RefTensor GradWeight, RefTensor? GradBias) LinearBackward(
        RefTensor x, RefTensor weight, bool hasBias, RefTensor dy)
    {
        int n = x.Shape[0], fin = weight.Shape[1], fout = weight.Shape[0];
        var dx = new RefTensor(x.Shape);
        var dw = new RefTensor(weight.Shape);
        var db = hasBias ? new RefTensor(fout) : null;
        for (int b = 0; b < n; b++)
        for (int o = 0; o < fout; o++)
        {
            double g = dy[b, o];
            if (db is not null) db.Data[o] += g;
            for (int i = 0; i < fin; i++)
            {
                dx[b, i] += weight[o, i] * g;
                dw[o, i] += x[b, i] * g;
            }
        }
        return (dx, dw, db);
    }

    // ------------------------------------------------------------------ element-wise activations

    private static RefTensor Map(RefTensor x, Func<double, double> f)
    {
        var y = new RefTensor(x.Shape);
        for (int i = 0; i < x.Length; i++) y.Data[i] = f(x.Data[i]);
        return y;
    }

    /// <summary>dX[i] = dY[i] * f'(x[i], y[i]).</summary>
    private static RefTensor MapGrad(RefTensor x, RefTensor y, RefTensor dy, Func<double, double, double> derivative)
    {
        if (x.Length != dy.Length || y.Length != dy.Length) throw new ArgumentException("shape mismatch");
        var dx = new RefTensor(x.Shape);
        for (int i = 0; i < x.Length; i++) dx.Data[i] = dy.Data[i] * derivative(x.Data[i], y.Data[i]);
        return dx;
    }

    // PyTorch: relu'(0) = 0 (threshold_backward on x <= 0), leaky_relu'(0) = slope, elu'(0) = alpha.
    public static RefTensor ReluForward(RefTensor x) => Map(x, v => v > 0 ? v : 0.0);
    public static RefTensor ReluBackward(RefTensor x, RefTensor dy) => MapGrad(x, x, dy, (v, _) => v > 0 ? 1.0 : 0.0);

    public static RefTensor LeakyReluForward(RefTensor x, double slope) => Map(x, v => v > 0 ? v : v * slope);
    public static RefTensor LeakyReluBackward(RefTensor x, double slope, RefTensor dy) =>
        MapGrad(x, x, dy, (v, _) => v > 0 ? 1.0 : slope);

    public static RefTensor EluForward(RefTensor x, double alpha) => Map(x, v => v > 0 ? v : alpha * (Math.Exp(v) - 1.0));
    public static RefTensor EluBackward(RefTensor x, double alpha, RefTensor dy) =>
        MapGrad(x, x, dy, (v, _) => v > 0 ? 1.0 : alpha * Math.Exp(v));

    public static RefTensor SigmoidForward(RefTensor x) =>
        Map(x, v => v >= 0 ? 1.0 / (1.0 + Math.Exp(-v)) : Math.Exp(v) / (1.0 + Math.Exp(v)));
    public static RefTensor SigmoidBackward(RefTensor y, RefTensor dy) => MapGrad(y, y, dy, (_, s) => s * (1.0 - s));

    public static RefTensor TanhForward(RefTensor x) => Map(x, Math.Tanh);
    public static RefTensor TanhBackward(RefTensor y, RefTensor dy) => MapGrad(y, y, dy, (_, t) => 1.0 - t * t);

    // ------------------------------------------------------------------ Softmax / LogSoftmax over dim 1

    /// <summary>Calls body(offset, stride, count) for every slice along dim 1 of an [N, C, ...] tensor.</summary>
    private static void ForEachDim1Slice(int[] shape, Action<int, int, int> body)
    {
        if (shape.Length < 2) throw new ArgumentException("softmax over dim 1 needs rank >= 2");
        int n = shape[0], c = shape[1], inner = 1;
        for (int d = 2; d < shape.Length; d++) inner *= shape[d];
        for (int b = 0; b < n; b++)
        for (int k = 0; k < inner; k++)
            body(b * c * inner + k, inner, c);
    }

    /// <summary>Stable softmax: exp(x - max) / sum.</summary>
    public static RefTensor SoftmaxForward(RefTensor x)
    {
        var y = new RefTensor(x.Shape);
        ForEachDim1Slice(x.Shape, (o, s, c) =>
        {
            double max = double.NegativeInfinity;
            for (int i = 0; i < c; i++) max = Math.Max(max, x.Data[o + i * s]);
            double sum = 0;
            for (int i = 0; i < c; i++) sum += y.Data[o + i * s] = Math.Exp(x.Data[o + i * s] - max);
            for (int i = 0; i < c; i++) y.Data[o + i * s] /= sum;
        });
        return y;
    }

    /// <summary>dX = y * (dY - sum(dY * y)).</summary>
    public static RefTensor SoftmaxBackward(RefTensor y, RefTensor dy)
    {
        var dx = new RefTensor(y.Shape);
        ForEachDim1Slice(y.Shape, (o, s, c) =>
        {
            double dot = 0;
            for (int i = 0; i < c; i++) dot += dy.Data[o + i * s] * y.Data[o + i * s];
            for (int i = 0; i < c; i++) dx.Data[o + i * s] = y.Data[o + i * s] * (dy.Data[o + i * s] - dot);
        });
        return dx;
    }

    /// <summary>Stable log-softmax: x - max - log(sum exp(x - max)).</summary>
    public static RefTensor LogSoftmaxForward(RefTensor x)
    {
        var y = new RefTensor(x.Shape);
        ForEachDim1Slice(x.Shape, (o, s, c) =>
        {
            double max = double.NegativeInfinity;
            for (int i = 0; i < c; i++) max = Math.Max(max, x.Data[o + i * s]);
            double sum = 0;
            for (int i = 0; i < c; i++) sum += Math.Exp(x.Data[o + i * s] - max);
            double logSum = Math.Log(sum);
            for (int i = 0; i < c; i++) y.Data[o + i * s] = x.Data[o + i * s] - max - logSum;
        });
        return y;
    }

    /// <summary>dX = dY - exp(y) * sum(dY).</summary>
    public static RefTensor LogSoftmaxBackward(RefTensor y, RefTensor dy)
    {
        var dx = new RefTensor(y.Shape);
        ForEachDim1Slice(y.Shape, (o, s, c) =>
        {
            double sum = 0;
            for (int i = 0; i < c; i++) sum += dy.Data[o + i * s];
            for (int i = 0; i < c; i++) dx.Data[o + i * s] = dy.Data[o + i * s] - Math.Exp(y.Data[o + i * s]) * sum;
        });
        return dx;
    }

    // ------------------------------------------------------------------ BatchNorm2d, global average pooling, addition

    /// <summary>Per-channel statistics over (N, H, W): the mean and the biased variance.</summary>
    public static (double[] Mean, double[] Variance) ChannelStatistics(RefTensor x)
    {
        Require4D(x, "BatchNorm2d");
        int n = x.Shape[0], c = x.Shape[1], hw = x.Shape[2] * x.Shape[3];
        var mean = new double[c];
        var variance = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0;
            for (int b = 0; b < n; b++)
            for (int k = 0; k < hw; k++) sum += x.Data[(b * c + ch) * hw + k];
            mean[ch] = sum / (n * hw);
            double sq = 0;
            for (int b = 0; b < n; b++)
            for (int k = 0; k < hw; k++)
            {
                double d = x.Data[(b * c + ch) * hw + k] - mean[ch];
                sq += d * d;
            }
            variance[ch] = sq / (n * hw);
        }
        return (mean, variance);
    }

    /// <summary>y = (x − mean[c]) / √(variance[c] + eps) · γ[c] + β[c] (γ = 1, β = 0 when null).</summary>
    public static RefTensor BatchNorm2dForward(RefTensor x, double[] mean, double[] variance, double eps, double[]? gamma, double[]? beta)
    {
        Require4D(x, "BatchNorm2d");
        int n = x.Shape[0], c = x.Shape[1], hw = x.Shape[2] * x.Shape[3];
        var y = new RefTensor(x.Shape);
        for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
        {
            double inv = 1.0 / Math.Sqrt(variance[ch] + eps);
            for (int k = 0; k < hw; k++)
            {
                int i = (b * c + ch) * hw + k;
                double xhat = (x.Data[i] - mean[ch]) * inv;
                y.Data[i] = gamma is null ? xhat : xhat * gamma[ch] + beta![ch];
            }
        }
        return y;
    }

    /// <summary>
    /// Backward of <see cref="BatchNorm2dForward"/>. <paramref name="batchStatistics"/>: mean and variance were the batch's
    /// own (training mode), so they depend on x: dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)) per channel; otherwise
    /// (running statistics, eval mode) dx = γ/σ · dy. dγ = Σ dy · x̂, dβ = Σ dy.
    /// </summary>
    public static (RefTensor Dx, double[] DGamma, double[] DBeta) BatchNorm2dBackward(RefTensor x, double[] mean, double[] variance,
        double eps, double[]? gamma, bool batchStatistics, RefTensor dy)
    {
        int n = x.Shape[0], c = x.Shape[1], hw = x.Shape[2] * x.Shape[3], m = n * hw;
        var dx = new RefTensor(x.Shape);
        var dGamma = new double[c];
        var dBeta = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double inv = 1.0 / Math.Sqrt(variance[ch] + eps), g = gamma?[ch] ?? 1.0;
            double sumDy = 0, sumDyXhat = 0;
            for (int b = 0; b < n; b++)
            for (int k = 0; k < hw; k++)
            {
                int i = (b * c + ch) * hw + k;
                sumDy += dy.Data[i];
                sumDyXhat += dy.Data[i] * (x.Data[i] - mean[ch]) * inv;
            }
            dGamma[ch] = sumDyXhat;
            dBeta[ch] = sumDy;
            for (int b = 0; b < n; b++)
            for (int k = 0; k < hw; k++)
            {
                int i = (b * c + ch) * hw + k;
                double xhat = (x.Data[i] - mean[ch]) * inv;
                dx.Data[i] = batchStatistics
                    ? g * inv * (dy.Data[i] - sumDy / m - xhat * sumDyXhat / m)
                    : g * inv * dy.Data[i];
            }
        }
        return (dx, dGamma, dBeta);
    }

    public static RefTensor GlobalAvgPool2dForward(RefTensor x)
    {
        Require4D(x, "GlobalAvgPool2d");
        int n = x.Shape[0], c = x.Shape[1], hw = x.Shape[2] * x.Shape[3];
        var y = new RefTensor(n, c, 1, 1);
        for (int p = 0; p < n * c; p++)
        {
            double sum = 0;
            for (int k = 0; k < hw; k++) sum += x.Data[p * hw + k];
            y.Data[p] = sum / hw;
        }
        return y;
    }

    public static RefTensor GlobalAvgPool2dBackward(int[] inputShape, RefTensor dy)
    {
        var dx = new RefTensor(inputShape);
        int hw = inputShape[2] * inputShape[3];
        for (int p = 0; p < dy.Length; p++)
        for (int k = 0; k < hw; k++) dx.Data[p * hw + k] = dy.Data[p] / hw;
        return dx;
    }

    public static RefTensor Add(RefTensor a, RefTensor b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"cannot add {a.ShapeText} and {b.ShapeText}");
        var y = new RefTensor(a.Shape);
        for (int i = 0; i < a.Length; i++) y.Data[i] = a.Data[i] + b.Data[i];
        return y;
    }

    public static RefTensor SiluForward(RefTensor x) => Map(x, v => v / (1.0 + Math.Exp(-v)));
    public static RefTensor SiluBackward(RefTensor x, RefTensor dy) => MapGrad(x, x, dy, (v, _) =>
    {
        double s = 1.0 / (1.0 + Math.Exp(-v));
        return s * (1.0 + v * (1.0 - s));
    });

    // Issue 14's activations: the float64 references of RefActivations (PyTorch's semantics at the kinks).
    public static RefTensor GeluForward(RefTensor x, bool tanh) => tanh ? RefActivations.GeluTanhForward(x) : RefActivations.GeluForward(x);
    public static RefTensor GeluBackward(RefTensor x, bool tanh, RefTensor dy) => tanh ? RefActivations.GeluTanhBackward(x, dy) : RefActivations.GeluBackward(x, dy);
    public static RefTensor HardswishForward(RefTensor x) => RefActivations.HardswishForward(x);
    public static RefTensor HardswishBackward(RefTensor x, RefTensor dy) => RefActivations.HardswishBackward(x, dy);
    public static RefTensor HardsigmoidForward(RefTensor x) => RefActivations.HardsigmoidForward(x);
    public static RefTensor HardsigmoidBackward(RefTensor x, RefTensor dy) => RefActivations.HardsigmoidBackward(x, dy);

    public static RefTensor Relu6Forward(RefTensor x) => Map(x, v => Math.Min(Math.Max(v, 0.0), 6.0));
    // PyTorch's hardtanh backward: no gradient at the kinks.
    public static RefTensor Relu6Backward(RefTensor x, RefTensor dy) => MapGrad(x, x, dy, (v, _) => v > 0 && v < 6 ? 1.0 : 0.0);

    // ------------------------------------------------------------------ Dropout / Dropout2d (training mode, given mask)

    /// <summary>keep[i] selects element i; kept values are scaled by 1/(1-p).</summary>
    public static RefTensor DropoutForward(RefTensor x, bool[] keep, double p)
    {
        if (keep.Length != x.Length) throw new ArgumentException($"Dropout mask length {keep.Length}, input {x.ShapeText}");
        double scale = 1.0 / (1.0 - p);
        var y = new RefTensor(x.Shape);
        for (int i = 0; i < x.Length; i++) y.Data[i] = keep[i] ? x.Data[i] * scale : 0.0;
        return y;
    }

    public static RefTensor DropoutBackward(bool[] keep, double p, RefTensor dy) => DropoutForward(dy, keep, p);

    /// <summary>keep[n * C + c] selects channel c of sample n (all its H x W values).</summary>
    public static RefTensor Dropout2dForward(RefTensor x, bool[] keep, double p)
    {
        Require4D(x, "Dropout2d");
        int n = x.Shape[0], ch = x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        if (keep.Length != n * ch) throw new ArgumentException($"Dropout2d mask length {keep.Length}, expected {n * ch}");
        double scale = 1.0 / (1.0 - p);
        var y = new RefTensor(x.Shape);
        for (int b = 0; b < n; b++)
        for (int c = 0; c < ch; c++)
        for (int k = 0; k < plane; k++)
        {
            int i = (b * ch + c) * plane + k;
            y.Data[i] = keep[b * ch + c] ? x.Data[i] * scale : 0.0;
        }
        return y;
    }

    public static RefTensor Dropout2dBackward(bool[] keep, double p, RefTensor dy) => Dropout2dForward(dy, keep, p);

    // ------------------------------------------------------------------ dispatch for parameter-free layers

    /// <summary>Forward of an activation (element-wise or softmax-like) layer.</summary>
    public static RefTensor ActivationForward(RefLayer layer, RefTensor x) => layer switch
    {
        ReLULayer => ReluForward(x),
        ReLU6Layer => Relu6Forward(x),
        SiLULayer => SiluForward(x),
        GELULayer g => GeluForward(x, g.Tanh),
        HardswishLayer => HardswishForward(x),
        HardsigmoidLayer => HardsigmoidForward(x),
        IdentityLayer => x.Clone(),
        LeakyReLULayer l => LeakyReluForward(x, l.NegativeSlope),
        ELULayer e => EluForward(x, e.Alpha),
        SigmoidLayer => SigmoidForward(x),
        TanhLayer => TanhForward(x),
        SoftmaxLayer => SoftmaxForward(x),
        LogSoftmaxLayer => LogSoftmaxForward(x),
        _ => throw new ArgumentException($"{layer} is not an activation"),
    };

    /// <summary>Backward of an activation layer given its input x and output y.</summary>
    public static RefTensor ActivationBackward(RefLayer layer, RefTensor x, RefTensor y, RefTensor dy) => layer switch
    {
        ReLULayer => ReluBackward(x, dy),
        ReLU6Layer => Relu6Backward(x, dy),
        SiLULayer => SiluBackward(x, dy),
        GELULayer g => GeluBackward(x, g.Tanh, dy),
        HardswishLayer => HardswishBackward(x, dy),
        HardsigmoidLayer => HardsigmoidBackward(x, dy),
        IdentityLayer => dy.Clone(),
        LeakyReLULayer l => LeakyReluBackward(x, l.NegativeSlope, dy),
        ELULayer e => EluBackward(x, e.Alpha, dy),
        SigmoidLayer => SigmoidBackward(y, dy),
        TanhLayer => TanhBackward(y, dy),
        SoftmaxLayer => SoftmaxBackward(y, dy),
        LogSoftmaxLayer => LogSoftmaxBackward(y, dy),
        _ => throw new ArgumentException($"{layer} is not an activation"),
    };

    public static bool IsActivation(RefLayer layer) => layer is ReLULayer or ReLU6Layer or SiLULayer or GELULayer or HardswishLayer or HardsigmoidLayer or IdentityLayer or LeakyReLULayer or ELULayer or SigmoidLayer
        or TanhLayer or SoftmaxLayer or LogSoftmaxLayer;
}

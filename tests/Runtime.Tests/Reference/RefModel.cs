using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace CnnGen.Runtime.Tests.Reference;

/// <summary>One parameter tensor of a <see cref="RefModel"/>: its PyTorch state-dict key and its place in the flat array.</summary>
internal sealed record RefParameter(string Key, int Layer, int[] Shape, int Offset)
{
    public int Length => RefTensor.Count(Shape);
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// One buffer tensor of a <see cref="RefModel"/> (batch norm's running_mean, running_var [C] and num_batches_tracked
/// [1]): its state-dict key and its place in the flat buffers array.
/// </summary>
internal sealed record RefBuffer(string Key, int Layer, int Length, int Offset);

/// <summary>What <see cref="RefModel.Forward"/> keeps for the backward pass.</summary>
internal sealed class RefForwardPass
{
    internal RefForwardPass(RefTensor[] activations, int[]?[] argmax, double[] parameters,
        IReadOnlyDictionary<int, bool[]> masks)
    {
        Activations = activations;
        Argmax = argmax;
        Parameters = parameters;
        Masks = masks;
    }

    /// <summary>Per batch-norm layer: the mean and variance it normalized with (the batch's in training mode, else the running ones).</summary>
    internal Dictionary<int, (double[] Mean, double[] Variance)> Statistics { get; } = new();
    /// <summary>Per residual layer: the passes of its body and shortcut.</summary>
    internal Dictionary<int, (RefForwardPass Body, RefForwardPass? Shortcut)> Nested { get; } = new();
    /// <summary>Whether batch norm used batch statistics (training mode).</summary>
    internal bool BatchNormTraining { get; init; }
    /// <summary>The buffers after the pass: in training mode the running statistics moved, as PyTorch moves them.</summary>
    public double[] UpdatedBuffers { get; internal set; } = Array.Empty<double>();

    /// <summary>Activations[0] is the input, Activations[i + 1] the output of layer i.</summary>
    public RefTensor[] Activations { get; }
    internal int[]?[] Argmax { get; }
    internal double[] Parameters { get; }
    internal IReadOnlyDictionary<int, bool[]> Masks { get; }
    public RefTensor Output => Activations[^1];
}

/// <summary>
/// A tiny sequential runner over <see cref="RefLayer"/> descriptions, the reference for generated models.
/// Parameters live in one flat double[] in PyTorch order: for every layer with parameters, its weight then its bias.
/// Keys follow nn.Sequential: the layer's 0-based position (Flatten counted) or its Name, then ".weight"/".bias".
/// Dropout layers are the identity unless a keep mask for that layer index is passed (training mode).
/// Batch norm normalizes with the running statistics in a flat double[] of buffers (<see cref="Buffers"/>) or, in
/// training mode, with the batch's and moves the running statistics; a <see cref="ResidualLayer"/> runs nested models.
/// </summary>
internal sealed class RefModel
{
    public RefModel(int channels, int height, int width, IReadOnlyList<RefLayer> layers, IReadOnlyList<string?>? names = null)
    {
        InputShape = new[] { channels, height, width };
        Layers = layers.ToArray();
        if (names is not null && names.Count != Layers.Count) throw new ArgumentException("one name (or null) per layer");
        var shapes = new List<int[]> { InputShape };
        var parameters = new List<RefParameter>();
        var buffers = new List<RefBuffer>();
        int offset = 0, bufferOffset = 0;
        int[] shape = InputShape;
        for (int i = 0; i < Layers.Count; i++)
        {
            string prefix = names?[i] ?? i.ToString(CultureInfo.InvariantCulture);
            string where = $"layer {i} ({Layers[i]})";
            switch (Layers[i])
            {
                case Conv2dLayer c:
                    if (shape.Length != 3 || shape[0] != c.InChannels)
                        throw new ArgumentException($"{where}: expects [{c.InChannels}, H, W], receives [{string.Join(", ", shape)}]");
                    if (c.Groups <= 0 || c.InChannels % c.Groups != 0 || c.OutChannels % c.Groups != 0)
                        throw new ArgumentException($"{where}: groups must divide both channel counts");
                    parameters.Add(new RefParameter(prefix + ".weight", i, c.WeightShape, offset));
                    offset += parameters[^1].Length;
                    if (c.Bias)
                    {
                        parameters.Add(new RefParameter(prefix + ".bias", i, new[] { c.OutChannels }, offset));
                        offset += c.OutChannels;
                    }
                    shape = new[]
                    {
                        c.OutChannels,
                        RefLayers.OutputSize(shape[1], c.KernelH, c.StrideH, c.PadH, c.DilationH),
                        RefLayers.OutputSize(shape[2], c.KernelW, c.StrideW, c.PadW, c.DilationW),
                    };
                    break;
                case MaxPool2dLayer p:
                    Require3D(shape, where);
                    shape = new[]
                    {
                        shape[0],
                        RefLayers.OutputSize(shape[1], p.KernelH, p.StrideH, p.PadH, p.DilationH),
                        RefLayers.OutputSize(shape[2], p.KernelW, p.StrideW, p.PadW, p.DilationW),
                    };
                    break;
                case AvgPool2dLayer p:
                    Require3D(shape, where);
                    shape = new[]
                    {
                        shape[0],
                        RefLayers.OutputSize(shape[1], p.KernelH, p.StrideH, p.PadH, 1),
                        RefLayers.OutputSize(shape[2], p.KernelW, p.StrideW, p.PadW, 1),
                    };
                    break;
                case LinearLayer l:
                    if (shape.Length != 1 || shape[0] != l.InFeatures)
                        throw new ArgumentException($"{where}: expects {l.InFeatures} input features, receives [{string.Join(", ", shape)}]");
                    parameters.Add(new RefParameter(prefix + ".weight", i, new[] { l.OutFeatures, l.InFeatures }, offset));
                    offset += l.OutFeatures * l.InFeatures;
                    if (l.Bias)
                    {
                        parameters.Add(new RefParameter(prefix + ".bias", i, new[] { l.OutFeatures }, offset));
                        offset += l.OutFeatures;
                    }
                    shape = new[] { l.OutFeatures };
                    break;
                case FlattenLayer:
                    shape = new[] { RefTensor.Count(shape) };
                    break;
                case Dropout2dLayer:
                    Require3D(shape, where);
                    break;
                case BatchNorm2dLayer bn:
                    Require3D(shape, where);
                    if (shape[0] != bn.Features) throw new ArgumentException($"{where}: expects {bn.Features} channels, receives [{string.Join(", ", shape)}]");
                    if (bn.Affine)
                    {
                        parameters.Add(new RefParameter(prefix + ".weight", i, new[] { bn.Features }, offset));
                        parameters.Add(new RefParameter(prefix + ".bias", i, new[] { bn.Features }, offset + bn.Features));
                        offset += 2 * bn.Features;
                    }
                    buffers.Add(new RefBuffer(prefix + ".running_mean", i, bn.Features, bufferOffset));
                    buffers.Add(new RefBuffer(prefix + ".running_var", i, bn.Features, bufferOffset + bn.Features));
                    buffers.Add(new RefBuffer(prefix + ".num_batches_tracked", i, 1, bufferOffset + 2 * bn.Features));
                    bufferOffset += 2 * bn.Features + 1;
                    break;
                case GlobalAvgPool2dLayer:
                    Require3D(shape, where);
                    shape = new[] { shape[0], 1, 1 };
                    break;
                case ResidualLayer r:
                {
                    Require3D(shape, where);
                    var body = new RefModel(shape[0], shape[1], shape[2], r.Body, r.BodyNames);
                    var shortcut = r.Shortcut is null ? null : new RefModel(shape[0], shape[1], shape[2], r.Shortcut, r.ShortcutNames);
                    var joined = shortcut?.OutputShape ?? shape;
                    if (!body.OutputShape.SequenceEqual(joined))
                        throw new ArgumentException($"{where}: the body gives [{string.Join(", ", body.OutputShape)}], the shortcut [{string.Join(", ", joined)}]");
                    _nested[i] = new Nested(body, offset, bufferOffset, shortcut, offset + body.ParameterCount, bufferOffset + body.BufferCount);
                    foreach (var p in body.Parameters) parameters.Add(new RefParameter(prefix + "." + p.Key, i, p.Shape, offset + p.Offset));
                    foreach (var b in body.Buffers) buffers.Add(new RefBuffer(prefix + "." + b.Key, i, b.Length, bufferOffset + b.Offset));
                    offset += body.ParameterCount;
                    bufferOffset += body.BufferCount;
                    if (shortcut is not null)
                    {
                        foreach (var p in shortcut.Parameters) parameters.Add(new RefParameter(prefix + "." + r.ShortcutPrefix + "." + p.Key, i, p.Shape, offset + p.Offset));
                        foreach (var b in shortcut.Buffers) buffers.Add(new RefBuffer(prefix + "." + r.ShortcutPrefix + "." + b.Key, i, b.Length, bufferOffset + b.Offset));
                        offset += shortcut.ParameterCount;
                        bufferOffset += shortcut.BufferCount;
                    }
                    shape = body.OutputShape;
                    break;
                }
                case DropoutLayer:
                    break;
                case var a when RefLayers.IsActivation(a):
                    break;
                default:
                    throw new ArgumentException($"{where}: unsupported layer");
            }
            shapes.Add(shape);
        }
        Parameters = parameters;
        ParameterCount = offset;
        Buffers = buffers;
        BufferCount = bufferOffset;
        LayerShapes = shapes;
    }

    /// <summary>A residual layer's body and shortcut, with where their parameters and buffers start in the parent's arrays.</summary>
    private sealed record Nested(RefModel Body, int BodyParameters, int BodyBuffers, RefModel? Shortcut, int ShortcutParameters, int ShortcutBuffers);

    private readonly Dictionary<int, Nested> _nested = new();

    /// <summary>Batch norm's buffers (running_mean, running_var, num_batches_tracked per layer; nested ones included), in state-dict order.</summary>
    public IReadOnlyList<RefBuffer> Buffers { get; }
    public int BufferCount { get; }

    /// <summary>Buffers as a fresh batch norm has them: mean 0, variance 1, count 0.</summary>
    public double[] DefaultBuffers()
    {
        var b = new double[BufferCount];
        foreach (var t in Buffers)
            if (t.Key.EndsWith(".running_var", StringComparison.Ordinal)) Array.Fill(b, 1.0, t.Offset, t.Length);
        return b;
    }

    private static void Require3D(int[] shape, string where)
    {
        if (shape.Length != 3) throw new ArgumentException($"{where}: expects [C, H, W], receives [{string.Join(", ", shape)}]");
    }

    public IReadOnlyList<RefLayer> Layers { get; }
    /// <summary>Per-sample input shape [C, H, W].</summary>
    public int[] InputShape { get; }
    /// <summary>Per-sample shapes: [0] the input, [i + 1] the output of layer i.</summary>
    public IReadOnlyList<int[]> LayerShapes { get; }
    public int[] OutputShape => LayerShapes[^1];
    public int InputSize => RefTensor.Count(InputShape);
    public int OutputSize => RefTensor.Count(OutputShape);
    public IReadOnlyList<RefParameter> Parameters { get; }
    public int ParameterCount { get; }

    private RefTensor Slice(double[] flat, RefParameter p) => new(p.Shape, flat.AsSpan(p.Offset, p.Length).ToArray());

    private RefParameter? Find(int layer, string suffix) =>
        Parameters.FirstOrDefault(p => p.Layer == layer && p.Key.EndsWith(suffix, StringComparison.Ordinal));

    /// <summary>
    /// Runs the model on <paramref name="batch"/> samples (input: batch * InputSize values, NCHW).
    /// <paramref name="dropoutKeep"/>: for a Dropout / Dropout2d layer index, its keep mask (training mode);
    /// layers without a mask are the identity (inference mode).
    /// </summary>
    /// <param name="buffers">batch norm's running statistics (<see cref="Buffers"/>); null: <see cref="DefaultBuffers"/></param>
    /// <param name="batchNormTraining">batch norm normalizes with the batch's statistics and moves the running ones (<see cref="RefForwardPass.UpdatedBuffers"/>)</param>
    public RefForwardPass Forward(double[] input, int batch, double[] parameters,
        IReadOnlyDictionary<int, bool[]>? dropoutKeep = null, double[]? buffers = null, bool batchNormTraining = false)
    {
        if (input.Length != batch * InputSize) throw new ArgumentException($"input length {input.Length}, expected {batch} x {InputSize}");
        if (parameters.Length != ParameterCount) throw new ArgumentException($"parameters length {parameters.Length}, expected {ParameterCount}");
        buffers ??= DefaultBuffers();
        if (buffers.Length != BufferCount) throw new ArgumentException($"buffers length {buffers.Length}, expected {BufferCount}");
        dropoutKeep ??= new Dictionary<int, bool[]>();
        var acts = new RefTensor[Layers.Count + 1];
        var argmax = new int[]?[Layers.Count];
        var updated = (double[])buffers.Clone();
        var pass = new RefForwardPass(acts, argmax, (double[])parameters.Clone(), dropoutKeep) { BatchNormTraining = batchNormTraining };
        acts[0] = new RefTensor(new[] { batch }.Concat(InputShape).ToArray(), (double[])input.Clone());
        for (int i = 0; i < Layers.Count; i++)
        {
            RefTensor x = acts[i];
            acts[i + 1] = Layers[i] switch
            {
                Conv2dLayer c => RefLayers.Conv2dForward(x, Slice(parameters, Find(i, ".weight")!),
                    c.Bias ? Slice(parameters, Find(i, ".bias")!) : null, c),
                MaxPool2dLayer p => RefLayers.MaxPool2dForward(x, p, out argmax[i]),
                AvgPool2dLayer p => RefLayers.AvgPool2dForward(x, p),
                LinearLayer l => RefLayers.LinearForward(x, Slice(parameters, Find(i, ".weight")!),
                    l.Bias ? Slice(parameters, Find(i, ".bias")!) : null),
                FlattenLayer => x.Reshape(batch, RefTensor.Count(LayerShapes[i])).Clone(),
                DropoutLayer d => dropoutKeep.TryGetValue(i, out var m) ? RefLayers.DropoutForward(x, m, d.P) : x.Clone(),
                Dropout2dLayer d => dropoutKeep.TryGetValue(i, out var m) ? RefLayers.Dropout2dForward(x, m, d.P) : x.Clone(),
                BatchNorm2dLayer bn => BatchNormForward(i, bn, x, parameters, buffers, updated, pass),
                GlobalAvgPool2dLayer => RefLayers.GlobalAvgPool2dForward(x),
                ResidualLayer r => ResidualForward(i, r, x, batch, parameters, buffers, updated, pass),
                var a => RefLayers.ActivationForward(a, x),
            };
        }
        pass.UpdatedBuffers = updated;
        return pass;
    }

    private RefBuffer Buffer(int layer, string suffix) => Buffers.First(b => b.Layer == layer && b.Key.EndsWith(suffix, StringComparison.Ordinal));

    private static double[] Part(double[] flat, int offset, int length) => flat.AsSpan(offset, length).ToArray();

    private RefTensor BatchNormForward(int i, BatchNorm2dLayer bn, RefTensor x, double[] parameters, double[] buffers, double[] updated, RefForwardPass pass)
    {
        double[]? gamma = bn.Affine ? Part(parameters, Find(i, ".weight")!.Offset, bn.Features) : null;
        double[]? beta = bn.Affine ? Part(parameters, Find(i, ".bias")!.Offset, bn.Features) : null;
        RefBuffer mean = Buffer(i, ".running_mean"), variance = Buffer(i, ".running_var"), count = Buffer(i, ".num_batches_tracked");
        (double[] Mean, double[] Variance) stats;
        if (pass.BatchNormTraining)
        {
            stats = RefLayers.ChannelStatistics(x);
            int m = x.Shape[0] * x.Shape[2] * x.Shape[3];
            for (int c = 0; c < bn.Features; c++)
            {
                // PyTorch: running = (1 − momentum)·running + momentum·batch, with the unbiased variance.
                updated[mean.Offset + c] = (1 - bn.Momentum) * buffers[mean.Offset + c] + bn.Momentum * stats.Mean[c];
                updated[variance.Offset + c] = (1 - bn.Momentum) * buffers[variance.Offset + c] + bn.Momentum * stats.Variance[c] * m / (m - 1);
            }
            updated[count.Offset] = buffers[count.Offset] + 1;
        }
        else
        {
            stats = (Part(buffers, mean.Offset, bn.Features), Part(buffers, variance.Offset, bn.Features));
        }
        pass.Statistics[i] = stats;
        return RefLayers.BatchNorm2dForward(x, stats.Mean, stats.Variance, bn.Eps, gamma, beta);
    }

    private RefTensor ResidualForward(int i, ResidualLayer r, RefTensor x, int batch, double[] parameters, double[] buffers, double[] updated, RefForwardPass pass)
    {
        var n = _nested[i];
        var body = n.Body.Forward(x.Data, batch, Part(parameters, n.BodyParameters, n.Body.ParameterCount), null,
            Part(buffers, n.BodyBuffers, n.Body.BufferCount), pass.BatchNormTraining);
        body.UpdatedBuffers.CopyTo(updated, n.BodyBuffers);
        RefForwardPass? shortcut = null;
        if (n.Shortcut is not null)
        {
            shortcut = n.Shortcut.Forward(x.Data, batch, Part(parameters, n.ShortcutParameters, n.Shortcut.ParameterCount), null,
                Part(buffers, n.ShortcutBuffers, n.Shortcut.BufferCount), pass.BatchNormTraining);
            shortcut.UpdatedBuffers.CopyTo(updated, n.ShortcutBuffers);
        }
        pass.Nested[i] = (body, shortcut);
        var sum = RefLayers.Add(body.Output.Reshape(x.Shape[0], body.Output.Shape[1], body.Output.Shape[2], body.Output.Shape[3]),
            shortcut?.Output ?? x);
        return r.ReLU ? RefLayers.ReluForward(sum) : sum;
    }

    /// <summary>Gradients of sum(output * gradOutput) with respect to the input and to the flat parameters.</summary>
    public (double[] GradInput, double[] GradParameters) Backward(RefForwardPass pass, double[] gradOutput)
    {
        var acts = pass.Activations;
        if (gradOutput.Length != acts[^1].Length) throw new ArgumentException($"gradOutput length {gradOutput.Length}, expected {acts[^1].Length}");
        var grads = new double[ParameterCount];
        var dy = new RefTensor(acts[^1].Shape, (double[])gradOutput.Clone());
        for (int i = Layers.Count - 1; i >= 0; i--)
        {
            RefTensor x = acts[i], y = acts[i + 1];
            RefTensor dx;
            switch (Layers[i])
            {
                case Conv2dLayer c:
                {
                    var wp = Find(i, ".weight")!;
                    var (gx, gw, gb) = RefLayers.Conv2dBackward(x, Slice(pass.Parameters, wp), c, dy);
                    Accumulate(grads, wp, gw);
                    if (gb is not null) Accumulate(grads, Find(i, ".bias")!, gb);
                    dx = gx;
                    break;
                }
                case LinearLayer l:
                {
                    var wp = Find(i, ".weight")!;
                    var (gx, gw, gb) = RefLayers.LinearBackward(x, Slice(pass.Parameters, wp), l.Bias, dy);
                    Accumulate(grads, wp, gw);
                    if (gb is not null) Accumulate(grads, Find(i, ".bias")!, gb);
                    dx = gx;
                    break;
                }
                case MaxPool2dLayer:
                    dx = RefLayers.MaxPool2dBackward(x.Shape, pass.Argmax[i]!, dy);
                    break;
                case AvgPool2dLayer p:
                    dx = RefLayers.AvgPool2dBackward(x.Shape, p, dy);
                    break;
                case FlattenLayer:
                    dx = dy.Reshape(x.Shape).Clone();
                    break;
                case DropoutLayer d:
                    dx = pass.Masks.TryGetValue(i, out var m1) ? RefLayers.DropoutBackward(m1, d.P, dy) : dy.Clone();
                    break;
                case Dropout2dLayer d:
                    dx = pass.Masks.TryGetValue(i, out var m2) ? RefLayers.Dropout2dBackward(m2, d.P, dy) : dy.Clone();
                    break;
                case BatchNorm2dLayer bn:
                {
                    var (mean, variance) = pass.Statistics[i];
                    double[]? gamma = bn.Affine ? Part(pass.Parameters, Find(i, ".weight")!.Offset, bn.Features) : null;
                    var (gx, dGamma, dBeta) = RefLayers.BatchNorm2dBackward(x, mean, variance, bn.Eps, gamma, pass.BatchNormTraining, dy);
                    if (bn.Affine)
                    {
                        Accumulate(grads, Find(i, ".weight")!, new RefTensor(new[] { bn.Features }, dGamma));
                        Accumulate(grads, Find(i, ".bias")!, new RefTensor(new[] { bn.Features }, dBeta));
                    }
                    dx = gx;
                    break;
                }
                case GlobalAvgPool2dLayer:
                    dx = RefLayers.GlobalAvgPool2dBackward(x.Shape, dy);
                    break;
                case ResidualLayer r:
                {
                    var n = _nested[i];
                    var (bodyPass, shortcutPass) = pass.Nested[i];
                    var dSum = r.ReLU ? RefLayers.ReluBackward(y, dy) : dy; // relu'(y) = relu'(sum): y > 0 exactly where sum > 0
                    var (bodyDx, bodyGrads) = n.Body.Backward(bodyPass, dSum.Data);
                    for (int k = 0; k < bodyGrads.Length; k++) grads[n.BodyParameters + k] += bodyGrads[k];
                    double[] shortcutDx = dSum.Data;
                    if (n.Shortcut is not null)
                    {
                        var (sDx, sGrads) = n.Shortcut.Backward(shortcutPass!, dSum.Data);
                        for (int k = 0; k < sGrads.Length; k++) grads[n.ShortcutParameters + k] += sGrads[k];
                        shortcutDx = sDx;
                    }
                    dx = new RefTensor(x.Shape, bodyDx.Zip(shortcutDx, (a, b) => a + b).ToArray());
                    break;
                }
                default:
                    dx = RefLayers.ActivationBackward(Layers[i], x, y, dy);
                    break;
            }
            dy = dx;
        }
        return (dy.Data, grads);
    }

    private static void Accumulate(double[] grads, RefParameter p, RefTensor g)
    {
        if (g.Length != p.Length) throw new InvalidOperationException($"{p.Key}: gradient {g.ShapeText} vs {p.ShapeText}");
        for (int k = 0; k < p.Length; k++) grads[p.Offset + k] += g.Data[k];
    }

    /// <summary>Builds a model from a C# attribute list such as "[Input(1, 28, 28)] [Conv2d(1, 16, 3)] [ReLU] ...".</summary>
    public static RefModel FromAttributes(string attributes) => AttributeList.Parse(attributes);
}

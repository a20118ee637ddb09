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
        int offset = 0;
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
        LayerShapes = shapes;
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
    public RefForwardPass Forward(double[] input, int batch, double[] parameters,
        IReadOnlyDictionary<int, bool[]>? dropoutKeep = null)
    {
        if (input.Length != batch * InputSize) throw new ArgumentException($"input length {input.Length}, expected {batch} x {InputSize}");
        if (parameters.Length != ParameterCount) throw new ArgumentException($"parameters length {parameters.Length}, expected {ParameterCount}");
        dropoutKeep ??= new Dictionary<int, bool[]>();
        var acts = new RefTensor[Layers.Count + 1];
        var argmax = new int[]?[Layers.Count];
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
                var a => RefLayers.ActivationForward(a, x),
            };
        }
        return new RefForwardPass(acts, argmax, (double[])parameters.Clone(), dropoutKeep);
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

using System.Collections.Generic;
using System.Linq;
using System.Globalization;
using CnnGen.Generator.Parsing;

namespace CnnGen.Generator.Shapes
{
    /// <summary>
    /// Every layer kind's rules in one place: argument validity, output shape (PyTorch's formulas),
    /// parameter counts and Keras naming.
    /// </summary>
    internal static class ShapeRules
    {
        /// <summary>
        /// PyTorch's output size for convolution and pooling (floor mode):
        /// floor((in + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1. May be ≤ 0 (caller reports it).
        /// </summary>
        public static int OutputSize(int input, int kernel, int stride, int padding, int dilation)
        {
            // In long: a huge padding or dilation must not wrap around into a plausible size.
            long span = (long)input + 2L * padding - (long)dilation * (kernel - 1) - 1;
            long size = FloorDiv(span, stride) + 1;
            return (int)System.Math.Max(int.MinValue, System.Math.Min(int.MaxValue, size));
        }

        private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

        /// <summary>
        /// The most floats one tensor (or the parameter array) may hold: .NET's largest array length
        /// (Array.MaxLength, 0x7FFFFFC7). Sizes are ints throughout the generated code.
        /// </summary>
        public const int MaxFloats = 0x7FFFFFC7;

        /// <summary>The layer's parameter count, computed without overflow.</summary>
        public static long ParameterCount64(LayerSpec spec)
        {
            long bias = spec.Bias ? spec.Out : 0;
            switch (spec.Kind)
            {
                case LayerKind.Conv2d:
                    return (long)spec.Out * (spec.In / spec.Groups) * spec.KernelH * spec.KernelW + bias;
                case LayerKind.Linear:
                    return (long)spec.Out * spec.In + bias;
                case LayerKind.BatchNorm2d:
                    return spec.Bias ? 2L * spec.Out : 0;
                default:
                    return 0;
            }
        }

        /// <summary>Reports a size above <see cref="MaxFloats"/> as CNN0010; true when it fits.</summary>
        public static bool CheckSize(List<DiagnosticInfo> diags, LocationInfo? location, string layer, string what, long size)
        {
            if (size <= MaxFloats) return true;
            diags.Add(DiagnosticInfo.Create(Diagnostics.InvalidValue, location, layer, what,
                size.ToString(CultureInfo.InvariantCulture) + " floats", "at most " + MaxFloats.ToString(CultureInfo.InvariantCulture) + " floats"));
            return false;
        }

        public static (string Name, string Type) KerasNameOf(LayerKind kind) => kind switch
        {
            LayerKind.Conv2d => ("conv2d", "Conv2D"),
            LayerKind.MaxPool2d => ("max_pooling2d", "MaxPooling2D"),
            LayerKind.AvgPool2d => ("average_pooling2d", "AveragePooling2D"),
            LayerKind.ReLU => ("re_lu", "ReLU"),
            LayerKind.LeakyReLU => ("leaky_re_lu", "LeakyReLU"),
            LayerKind.ELU => ("elu", "ELU"),
            LayerKind.Softmax => ("softmax", "Softmax"),
            LayerKind.Flatten => ("flatten", "Flatten"),
            LayerKind.Linear => ("dense", "Dense"),
            LayerKind.Dropout => ("dropout", "Dropout"),
            LayerKind.Dropout2d => ("spatial_dropout2d", "SpatialDropout2D"),
            LayerKind.BatchNorm2d => ("batch_normalization", "BatchNormalization"),
            LayerKind.AdaptiveAvgPool2d or LayerKind.GlobalAvgPool2d => ("global_average_pooling2d", "GlobalAveragePooling2D"),
            LayerKind.ReLU6 => ("re_lu", "ReLU"), // keras.layers.ReLU(max_value=6)
            LayerKind.Identity => ("identity", "Identity"),
            LayerKind.Add => ("add", "Add"),
            LayerKind.Scale => ("multiply", "Multiply"),
            LayerKind.BranchBegin or LayerKind.ShortcutBegin or LayerKind.BlockEnd => ("", ""), // no Keras row
            _ => ("activation", "Activation"), // Sigmoid, Tanh, LogSoftmax, SiLU ("swish"): keras.layers.Activation
        };

        /// <summary>
        /// The module name torchsummary shows: the layer kind, except GlobalAvgPool2d, which is PyTorch's
        /// <c>nn.AdaptiveAvgPool2d(1)</c> (PyTorch has no GlobalAvgPool2d module).
        /// </summary>
        public static string TorchTypeName(LayerKind kind) => kind == LayerKind.GlobalAvgPool2d ? "AdaptiveAvgPool2d" : kind.ToString();

        /// <summary>Buffers (not parameters) a layer keeps: BatchNorm2d's running mean and variance, [C] each.</summary>
        public static int BufferCount(LayerSpec spec) => spec.Kind == LayerKind.BatchNorm2d ? 2 * spec.Out : 0;

        public static void ParameterCounts(LayerSpec spec, out int weights, out int biases)
        {
            switch (spec.Kind)
            {
                case LayerKind.Conv2d:
                    weights = spec.Out * (spec.In / spec.Groups) * spec.KernelH * spec.KernelW;
                    biases = spec.Bias ? spec.Out : 0;
                    return;
                case LayerKind.Linear:
                    weights = spec.Out * spec.In;
                    biases = spec.Bias ? spec.Out : 0;
                    return;
                case LayerKind.BatchNorm2d:
                    // γ is the "weight", β the "bias" (PyTorch's names); both only when affine.
                    weights = biases = spec.Bias ? spec.Out : 0;
                    return;
                default:
                    weights = biases = 0;
                    return;
            }
        }

        /// <summary>Checks argument values that don't depend on shapes. Returns false and adds diagnostics on error.</summary>
        public static bool ValidateArguments(LayerSpec s, string layer, List<DiagnosticInfo> diags)
        {
            int before = diags.Count;
            void Bad(string what, object value, string must) =>
                diags.Add(DiagnosticInfo.Create(Diagnostics.InvalidValue, s.Location, layer, what, value, must));
            void AtLeast(string what, int value, int min)
            {
                if (value < min) Bad(what, value, min == 0 ? "0 or more" : "at least " + min);
            }
            // Square and rectangular forms share a value unless both were given: name the one written.
            string Dim(string square, string rect) => s.NamedArguments.Contains(rect) ? rect : square;

            switch (s.Kind)
            {
                case LayerKind.Conv2d:
                    AtLeast("in channels", s.In, 1);
                    AtLeast("out channels", s.Out, 1);
                    goto case LayerKind.MaxPool2d;
                case LayerKind.MaxPool2d:
                case LayerKind.AvgPool2d:
                    AtLeast(Dim("kernel size", "KernelHeight"), s.KernelH, 1);
                    if (s.KernelW != s.KernelH || s.NamedArguments.Contains("KernelWidth")) AtLeast(Dim("kernel size", "KernelWidth"), s.KernelW, 1);
                    // A pooling stride the user didn't write defaults to the kernel size: a bad kernel is
                    // reported once, as the kernel.
                    bool conv = s.Kind == LayerKind.Conv2d, stride = s.NamedArguments.Contains("Stride");
                    bool strideHWritten = conv || stride || s.NamedArguments.Contains("StrideHeight");
                    bool strideWWritten = conv || stride || s.NamedArguments.Contains("StrideWidth");
                    if (strideHWritten) AtLeast(Dim("Stride", "StrideHeight"), s.StrideH, 1);
                    if (strideWWritten && (s.StrideW != s.StrideH || !strideHWritten)) AtLeast(Dim("Stride", "StrideWidth"), s.StrideW, 1);
                    AtLeast(Dim("Padding", "PaddingHeight"), s.PadH, 0);
                    if (s.PadW != s.PadH) AtLeast(Dim("Padding", "PaddingWidth"), s.PadW, 0);
                    AtLeast(Dim("Dilation", "DilationHeight"), s.DilationH, 1);
                    if (s.DilationW != s.DilationH) AtLeast(Dim("Dilation", "DilationWidth"), s.DilationW, 1);
                    if (s.Kind == LayerKind.Conv2d)
                    {
                        AtLeast("Groups", s.Groups, 1);
                        if (s.Groups >= 1 && s.In >= 1 && s.Out >= 1 && (s.In % s.Groups != 0 || s.Out % s.Groups != 0))
                            diags.Add(DiagnosticInfo.Create(Diagnostics.GroupsDoNotDivide, s.Location, layer, s.Groups, s.In, s.Out));
                    }
                    else if (diags.Count == before)
                    {
                        if (2 * s.PadH > s.KernelH)
                            diags.Add(DiagnosticInfo.Create(Diagnostics.PoolPaddingTooLarge, s.Location, layer, s.PadH, s.KernelH));
                        else if (2 * s.PadW > s.KernelW)
                            diags.Add(DiagnosticInfo.Create(Diagnostics.PoolPaddingTooLarge, s.Location, layer, s.PadW, s.KernelW));
                    }
                    break;
                case LayerKind.Linear:
                    AtLeast("in features", s.In, 1);
                    AtLeast("out features", s.Out, 1);
                    break;
                case LayerKind.Dropout:
                case LayerKind.Dropout2d:
                    if (double.IsNaN(s.Value) || s.Value < 0 || s.Value >= 1)
                        Bad("the drop probability p", s.Value.ToString("R", CultureInfo.InvariantCulture), "in [0, 1)");
                    break;
                case LayerKind.LeakyReLU:
                    if (double.IsNaN(s.Value) || double.IsInfinity(s.Value))
                        Bad("the negative slope", s.Value.ToString("R", CultureInfo.InvariantCulture), "a finite number");
                    break;
                case LayerKind.ELU:
                    if (double.IsNaN(s.Value) || double.IsInfinity(s.Value))
                        Bad("alpha", s.Value.ToString("R", CultureInfo.InvariantCulture), "a finite number");
                    break;
                case LayerKind.GELU:
                    if (s.Approximate != "none" && s.Approximate != "tanh") Bad("Approximate", "\"" + s.Approximate + "\"", "\"none\" or \"tanh\"");
                    break;
                case LayerKind.BatchNorm2d:
                    AtLeast("num features", s.In, 1);
                    if (double.IsNaN(s.Value) || double.IsInfinity(s.Value) || s.Value <= 0)
                        Bad("Eps", s.Value.ToString("R", CultureInfo.InvariantCulture), "a positive finite number");
                    if (double.IsNaN(s.Momentum) || s.Momentum < 0 || s.Momentum > 1)
                        Bad("Momentum", s.Momentum.ToString("R", CultureInfo.InvariantCulture), "in [0, 1]");
                    break;
                case LayerKind.AdaptiveAvgPool2d:
                    AtLeast("output size", s.Out, 1);
                    if (s.Out > 1)
                        diags.Add(DiagnosticInfo.Create(Diagnostics.AdaptiveOutputUnsupported, s.Location, layer, s.Out));
                    break;
            }
            // Parameter counts depend on the arguments only; they must fit the int-indexed parameter array.
            if (diags.Count == before && (s.Kind == LayerKind.Conv2d || s.Kind == LayerKind.Linear || s.Kind == LayerKind.BatchNorm2d))
                CheckSize(diags, s.Location, layer, "the parameter count", ParameterCount64(s));
            return diags.Count == before;
        }

        /// <summary>The layer's output shape, or null after reporting why it has none.</summary>
        public static Shape? OutputShape(LayerSpec s, string layer, Shape input, string source, List<DiagnosticInfo> diags)
        {
            switch (s.Kind)
            {
                case LayerKind.Conv2d:
                case LayerKind.MaxPool2d:
                case LayerKind.AvgPool2d:
                {
                    if (input.Flat)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.NeedsSpatialInput, s.Location, layer, input, source));
                        return null;
                    }
                    if (s.Kind == LayerKind.Conv2d && s.In != input.C)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.ChannelMismatch, s.Location, layer, s.In, input.C, source));
                        return null;
                    }
                    int dilH = s.Kind == LayerKind.AvgPool2d ? 1 : s.DilationH;
                    int dilW = s.Kind == LayerKind.AvgPool2d ? 1 : s.DilationW;
                    int oh = OutputSize(input.H, s.KernelH, s.StrideH, s.PadH, dilH);
                    int ow = OutputSize(input.W, s.KernelW, s.StrideW, s.PadW, dilW);
                    if (oh < 1 || ow < 1)
                    {
                        string what = s.Kind == LayerKind.Conv2d ? "kernel" : "window";
                        string desc = $"{s.KernelH}×{s.KernelW} {what} (stride {Pair(s.StrideH, s.StrideW)}, padding {Pair(s.PadH, s.PadW)}, dilation {Pair(dilH, dilW)})";
                        bool height = oh < 1;
                        diags.Add(DiagnosticInfo.Create(Diagnostics.OutputTooSmall, s.Location, layer, desc, input, source,
                            height ? "height" : "width", height ? oh : ow));
                        return null;
                    }
                    int channels = s.Kind == LayerKind.Conv2d ? s.Out : input.C;
                    var output = Shape.Spatial(channels, oh, ow);
                    if (!CheckSize(diags, s.Location, layer, "the size of its output " + output, (long)channels * oh * ow)) return null;
                    return output;
                }
                case LayerKind.Linear:
                    if (!input.Flat)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.NotFlattened, s.Location, layer, input, source, input.Size));
                        return null;
                    }
                    if (s.In != input.C)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.FeatureMismatch, s.Location, layer, s.In, input.C, source));
                        return null;
                    }
                    return Shape.Features(s.Out);
                case LayerKind.Flatten:
                    return Shape.Features(input.Size);
                case LayerKind.BatchNorm2d:
                    if (input.Flat)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.NeedsSpatialInput, s.Location, layer, input, source));
                        return null;
                    }
                    if (s.In != input.C)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.BatchNormFeatureMismatch, s.Location, layer, s.In, input.C, source));
                        return null;
                    }
                    return input;
                case LayerKind.AdaptiveAvgPool2d:
                case LayerKind.GlobalAvgPool2d:
                    if (input.Flat)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.NeedsSpatialInput, s.Location, layer, input, source));
                        return null;
                    }
                    return Shape.Spatial(input.C, 1, 1);
                case LayerKind.Softmax:
                case LayerKind.LogSoftmax:
                    if (!input.Flat)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.NeedsFlatInput, s.Location, layer, input, source));
                        return null;
                    }
                    return input;
                case LayerKind.Dropout2d:
                    if (input.Flat)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.NeedsSpatialInput, s.Location, layer, input, source));
                        return null;
                    }
                    return input;
                default:
                    return input; // element-wise layers
            }
        }

        private static string Pair(int h, int w) => h == w ? h.ToString(CultureInfo.InvariantCulture) : $"({h}, {w})";
    }
}

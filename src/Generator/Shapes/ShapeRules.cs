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

        /// <summary>
        /// The most taps (kernel height × width) a convolution kernel or pooling window may have: 4,096 (64×64). The
        /// emitters unroll a window's taps into code, so the generated code grows with them.
        /// </summary>
        public const int MaxTaps = 4096;

        /// <summary>
        /// The product of non-negative sizes without overflow: saturates at <see cref="long.MaxValue"/>, which every size
        /// check rejects (a plain 64-bit product of four int arguments can wrap around into a plausible size).
        /// </summary>
        public static long Mul(long a, long b)
        {
            if (a <= 0 || b <= 0) return a < 0 || b < 0 ? long.MaxValue : 0;
            return a > long.MaxValue / b ? long.MaxValue : a * b;
        }

        public static long Mul(long a, long b, long c) => Mul(Mul(a, b), c);

        public static long Mul(long a, long b, long c, long d) => Mul(Mul(a, b), Mul(c, d));

        /// <summary>The layer's parameter count, computed without overflow (saturating).</summary>
        public static long ParameterCount64(LayerSpec spec)
        {
            long bias = spec.Bias ? spec.Out : 0;
            switch (spec.Kind)
            {
                case LayerKind.Conv2d:
                    return Mul(spec.Out, spec.Groups > 0 ? spec.In / spec.Groups : 0, spec.KernelH, spec.KernelW) is var w && w == long.MaxValue ? w : w + bias;
                case LayerKind.Linear:
                    return Mul(spec.Out, spec.In) + bias;
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
            // The generated code computes in float: a double beyond float's range would be emitted as ±Infinity.
            void FiniteAsFloat(string what, double value)
            {
                if (double.IsNaN(value) || double.IsInfinity(value)) Bad(what, R(value), "a finite number");
                else if (!InFloatRange(value)) Bad(what, R(value), "within float's range (at most 3.4028235E+38 in magnitude)");
            }
            // Square and rectangular forms share a value unless both were given: name the one written.
            string Dim(string square, string rect) => s.NamedArguments.Contains(rect) ? rect : square;

            // A composite's Name (and the markers that carry it) is checked where blocks are expanded.
            if (!ShapeInference.IsStructural(s.Kind) && UserStrings.CheckKeyPath(s.Name, "Name", layer, s.Location) is { } badName)
                diags.Add(badName);
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
                    if (diags.Count == before && (long)s.KernelH * s.KernelW > MaxTaps)
                        Bad(conv ? "the kernel's tap count (height × width)" : "the window's tap count (height × width)",
                            $"{s.KernelH}×{s.KernelW} = {((long)s.KernelH * s.KernelW).ToString(CultureInfo.InvariantCulture)}", "at most " + MaxTaps.ToString(CultureInfo.InvariantCulture));
                    if (s.Kind == LayerKind.Conv2d)
                    {
                        AtLeast("Groups", s.Groups, 1);
                        if (s.Groups >= 1 && s.In >= 1 && s.Out >= 1 && (s.In % s.Groups != 0 || s.Out % s.Groups != 0))
                            diags.Add(DiagnosticInfo.Create(Diagnostics.GroupsDoNotDivide, s.Location, layer, s.Groups, s.In, s.Out));
                    }
                    else if (diags.Count == before)
                    {
                        if (2L * s.PadH > s.KernelH)
                            diags.Add(DiagnosticInfo.Create(Diagnostics.PoolPaddingTooLarge, s.Location, layer, s.PadH, s.KernelH));
                        else if (2L * s.PadW > s.KernelW)
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
                        Bad("the drop probability p", R(s.Value), "in [0, 1)");
                    else if ((float)s.Value >= 1f) // 0.9999999999 rounds to 1f: 1 / (1 − p) would be infinite
                        Bad("the drop probability p", R(s.Value), "below 1 as a float (at most 0.99999994)");
                    break;
                case LayerKind.LeakyReLU:
                    FiniteAsFloat("the negative slope", s.Value);
                    break;
                case LayerKind.ELU:
                    FiniteAsFloat("alpha", s.Value);
                    break;
                case LayerKind.GELU:
                    if (s.Approximate != "none" && s.Approximate != "tanh") Bad("Approximate", "\"" + s.Approximate + "\"", "\"none\" or \"tanh\"");
                    break;
                case LayerKind.BatchNorm2d:
                    AtLeast("num features", s.In, 1);
                    if (double.IsNaN(s.Value) || double.IsInfinity(s.Value) || s.Value <= 0)
                        Bad("Eps", R(s.Value), "a positive finite number");
                    else if (!InFloatRange(s.Value) || (float)s.Value <= 0f) // 1e308 is infinite, 1e-50 is 0 as a float
                        Bad("Eps", R(s.Value), "a positive number within float's range (1.4E-45 to 3.4028235E+38)");
                    if (double.IsNaN(s.Momentum) || s.Momentum < 0 || s.Momentum > 1)
                        Bad("Momentum", R(s.Momentum), "in [0, 1]");
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

        /// <summary>Finite as a float too: a double beyond float's range becomes ±Infinity in the generated float code.</summary>
        public static bool InFloatRange(double v) => !double.IsNaN(v) && !float.IsInfinity((float)v);

        private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

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
                    if (!CheckSize(diags, s.Location, layer, "the size of its output " + output, Mul(channels, oh, ow))) return null;
                    // The padded input must fit a float[] too (positions in it are ints, and the channels-last kernels copy it):
                    // with a large stride the output can be small while input + 2·padding is not.
                    long ph = input.H + 2L * s.PadH, pw = input.W + 2L * s.PadW;
                    if (!CheckSize(diags, s.Location, layer, $"the size of its padded input [{input.C}, {ph}, {pw}]", Mul(input.C, ph, pw))) return null;
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

using System;
using System.Globalization;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// Forward and backward code for every layer kind, side by side: this file dispatches, Kernels/&lt;Kind&gt;.cs hold each kind's code. Every size is a constant; kernel taps
    /// are unrolled; copy bounds at the padded borders are resolved here, at compile time.
    /// Uniform signatures (unused arguments are simply ignored):
    ///   Forward(x, y, p, col, idx, mask, n, training, ws)
    ///   Backward(x, y, dy, dx, p, g, col, idx, mask, n, needDx)
    /// x/y are the layer's input/output [n, ...], p/g the flat parameters/gradients, col im2col scratch,
    /// idx max-pool argmax, mask the dropout factors.
    /// </summary>
    internal static partial class LayerEmitter
    {
        private const string K = "global::CnnGen.Kernels.";
        private const string L = "global::CnnGen.Kernels.LayerOps.";
        private static string S(int v) => v.ToString(CultureInfo.InvariantCulture);
        private static string F(double v) => Text.Float(v);

        public static string MethodPrefix(ShapedLayer l) => l.TypeName + "_" + l.SummaryName.Substring(l.SummaryName.LastIndexOf('-') + 1);

        private const string Hot = "[MethodImpl(MethodImplOptions.AggressiveOptimization)]";

        public const string ForwardParams = "float* x, float* y, float* p, float* col, int* idx, float* mask, int n, bool training, global::CnnGen.TrainingWorkspace? ws";
        public const string BackwardParams = "float* x, float* y, float* dy, float* dx, float* p, float* g, float* col, int* idx, float* mask, int n, bool needDx";

        /// <summary>
        /// Emits layer <paramref name="l"/>'s channels-first methods that the plan calls (<paramref name="variants"/>: Forward,
        /// Backward, batch norm's Inference). <paramref name="fuseRelu"/>: a Conv2d that also applies the ReLU after it (see
        /// <see cref="MemoryPlan.FusesRelu"/>); <paramref name="reluFused"/>: that ReLU, which then has no code of its own.
        /// </summary>
        public static void Emit(CodeWriter w, ShapedLayer l, bool fuseRelu, bool reluFused, Variants variants)
        {
            string pre = MethodPrefix(l);
            if (reluFused)
            {
                w.Line($"// ---- {l.SummaryName}: {Describe(l)}: applied by the convolution before it (output and gradient) ----");
                w.Line();
                return;
            }
            w.Line($"// ---- {l.SummaryName}: {Describe(l)}{(fuseRelu ? "; then ReLU (the next layer's, fused)" : "")} ----");
            if (variants == Variants.None)
            {
                w.Line("// Runs channels-last only, in inference and in training: its methods are the channels-last ones below.");
                w.Line();
                return;
            }
            switch (l.Spec.Kind)
            {
                case LayerKind.Conv2d when IsDepthwise(l.Spec): DepthwiseConv(w, l, pre); break;
                case LayerKind.Conv2d: Conv(w, l, pre, fuseRelu, variants); break;
                case LayerKind.BatchNorm2d: BatchNorm(w, l, pre, variants); break;
                case LayerKind.AdaptiveAvgPool2d:
                case LayerKind.GlobalAvgPool2d: GlobalAvgPool(w, l, pre); break;
                case LayerKind.Identity: Identity(w, l, pre); break;
                case LayerKind.MaxPool2d: MaxPool(w, l, pre, variants); break;
                case LayerKind.AvgPool2d: AvgPool(w, l, pre); break;
                case LayerKind.Linear: Linear(w, l, pre); break;
                case LayerKind.Dropout:
                case LayerKind.Dropout2d: Dropout(w, l, pre); break;
                case LayerKind.Softmax:
                case LayerKind.LogSoftmax: SoftmaxLike(w, l, pre); break;
                default: Elementwise(w, l, pre); break;
            }
            w.Line();
        }

        public static string Describe(ShapedLayer l)
        {
            var s = l.Spec;
            string io = $"x [n, {Dims(l.In)}] -> y [n, {Dims(l.Out)}]";
            switch (s.Kind)
            {
                case LayerKind.Conv2d:
                    return $"{io}; kernel {s.KernelH}×{s.KernelW}, stride ({s.StrideH}, {s.StrideW}), padding ({s.PadH}, {s.PadW}), dilation ({s.DilationH}, {s.DilationW}), groups {s.Groups}; " +
                           $"weight [{string.Join(", ", l.WeightShape)}] at p[{l.ParamOffset}]" + (s.Bias ? $", bias [{s.Out}] at p[{l.ParamOffset + l.WeightCount}]" : ", no bias");
                case LayerKind.Linear:
                    return $"{io}; weight [{s.Out}, {s.In}] at p[{l.ParamOffset}]" + (s.Bias ? $", bias [{s.Out}] at p[{l.ParamOffset + l.WeightCount}]" : ", no bias");
                case LayerKind.BatchNorm2d:
                    return $"{io}; eps {Text.Number(s.Value)}, momentum {Text.Number(s.Momentum)}" +
                           (s.Bias ? $", weight (γ) [{s.Out}] at p[{l.ParamOffset}], bias (β) [{s.Out}] at p[{l.ParamOffset + l.WeightCount}]" : ", no affine parameters");
                case LayerKind.MaxPool2d:
                case LayerKind.AvgPool2d:
                    return $"{io}; window {s.KernelH}×{s.KernelW}, stride ({s.StrideH}, {s.StrideW}), padding ({s.PadH}, {s.PadW})" +
                           (s.Kind == LayerKind.MaxPool2d ? $", dilation ({s.DilationH}, {s.DilationW})" : ", padding counted in the divisor");
                default:
                    return io;
            }
        }

        private static string Dims(Shape s) => s.Flat ? S(s.C) : $"{s.C}, {s.H}, {s.W}";
    }
}

using System;
using System.Globalization;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>AvgPool2d and global average pooling (AdaptiveAvgPool2d(1) / GlobalAvgPool2d).</summary>
    internal static partial class LayerEmitter
    {
        private static void AvgPool(CodeWriter w, ShapedLayer l, string pre)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            string inv = F(1.0 / (s.KernelH * s.KernelW));
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Forward({ForwardParams})"))
            {
                w.Line($"// count_include_pad=True: every window divides by {s.KernelH}·{s.KernelW}.");
                AvgPoolWindows(w, l, "x", "y", "float sum = 0;", "sum += xc[rowStart + iw];", $"yc[oh * {OW} + ow] = sum * {inv};");
            }
            w.Line();
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Backward({BackwardParams})"))
            {
                w.Line("if (!needDx) return;");
                w.Line($"new global::System.Span<float>(dx, n * {C * H * W}).Clear();");
                AvgPoolWindows(w, l, "dx", "dy", $"float d = yc[oh * {OW} + ow] * {inv};", "xc[rowStart + iw] += d;", null);
            }
        }

        /// <summary>
        /// The loops over every window of an average pooling, shared by forward (gather: sum the taps) and
        /// backward (scatter: spread the gradient over the taps). xc/yc point at one channel of <paramref name="x"/>/<paramref name="y"/>.
        /// </summary>
        private static void AvgPoolWindows(CodeWriter w, ShapedLayer l, string x, string y, string before, string tap, string? after)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            using (w.Block($"for (int bc = 0; bc < n * {C}; bc++)"))
            {
                w.Line($"float* xc = {x} + bc * {H * W};");
                w.Line($"float* yc = {y} + bc * {OH * OW};");
                using (w.Block($"for (int oh = 0; oh < {OH}; oh++)"))
                using (w.Block($"for (int ow = 0; ow < {OW}; ow++)"))
                {
                    w.Line(before);
                    for (int i = 0; i < s.KernelH; i++)
                    {
                        using (w.Block($"if ((uint)(oh * {s.StrideH} + {i - s.PadH}) < {H}u)"))
                        {
                            w.Line($"int rowStart = (oh * {s.StrideH} + {i - s.PadH}) * {W};");
                            for (int j = 0; j < s.KernelW; j++)
                                w.Line($"{{ int iw = ow * {s.StrideW} + {j - s.PadW}; if ((uint)iw < {W}u) {tap} }}");
                        }
                    }
                    if (after != null) w.Line(after);
                }
            }
        }

        private static void GlobalAvgPool(CodeWriter w, ShapedLayer l, string pre)
        {
            int C = l.In.C, HW = l.In.H * l.In.W;
            w.Line($"// y[n, {C}, 1, 1] = the mean of each {l.In.H}×{l.In.W} plane");
            w.Line($"private static void {pre}_Forward({ForwardParams}) => {L}GlobalAvgPool(x, y, n * {C}, {HW});");
            w.Line();
            w.Line($"private static void {pre}_Backward({BackwardParams})");
            w.Line("{");
            w.Line($"    if (needDx) {L}GlobalAvgPoolBackward(dy, dx, n * {C}, {HW});");
            w.Line("}");
        }
    }
}

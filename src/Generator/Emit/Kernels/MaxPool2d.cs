using System;
using System.Globalization;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>MaxPool2d, channels-first: forward (AVX2 gathers, paired rows, a scalar fallback) keeping the argmax, backward scattering through it.</summary>
    internal static partial class LayerEmitter
    {
        private static void MaxPool(CodeWriter w, ShapedLayer l, string pre, Variants variants)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            const string V = "Vector256";
            bool forward = (variants & Variants.Forward) != 0, backward = (variants & Variants.Backward) != 0;
            if (forward)
            {
                w.Line("// One output, scalar (without AVX2). PyTorch semantics: padding is never selected, the first valid element starts the");
                w.Line("// window (so an all -inf window selects its first element), a later one wins if greater, NaN wins.");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
                using (w.Block($"private static float {pre}_One(float* xc, int oh, int ow, out int at)"))
                {
                    w.Line("float best = float.NegativeInfinity;");
                    w.Line("at = -1;");
                    for (int i = 0; i < s.KernelH; i++)
                    {
                        using (w.Block($"if ((uint)(oh * {s.StrideH} + {i * s.DilationH - s.PadH}) < {H}u)"))
                        {
                            w.Line($"int rowStart = (oh * {s.StrideH} + {i * s.DilationH - s.PadH}) * {W};");
                            for (int j = 0; j < s.KernelW; j++)
                            {
                                w.Line($"{{ int iw = ow * {s.StrideW} + {j * s.DilationW - s.PadW}; if ((uint)iw < {W}u) {{ float v = xc[rowStart + iw]; bool take = (v > best) | float.IsNaN(v) | (at < 0); best = take ? v : best; at = take ? rowStart + iw : at; }} }}");
                            }
                        }
                    }
                    w.Line("return best;");
                }
                w.Line();
                w.Line(Hot);
                using (w.Block($"private static void {pre}_Forward({ForwardParams})"))
                {
                    if (s.KernelH == s.KernelW && s.KernelH is 2 or 3 && s.StrideH == 2 && s.StrideW == 2 && s.DilationH == 1 && s.DilationW == 1 && s.PadH <= 1 && s.PadW <= 1)
                    {
                        w.Line($"// Inference (no argmax to keep): the window's {s.KernelH} rows max-ed element-wise, then {s.KernelH} neighbouring columns, 8 outputs at a time.");
                        w.Line($"if (!training) {{ {K}Ops.MaxPoolStride2(x, y, n * {C}, {H}, {W}, {OH}, {OW}, {s.KernelH}, {s.PadH}, {s.PadW}); return; }}");
                    }
                    w.Line("// With AVX2: 8 outputs of a row at a time; masked gathers read padding (and lanes past the row) as -inf,");
                    w.Line("// masked stores write only the row's own outputs. Otherwise one output at a time.");
                    using (w.Block($"for (int bc = 0; bc < n * {C}; bc++)"))
                    {
                        w.Line($"float* xc = x + bc * {H * W};");
                        w.Line($"float* yc = y + bc * {OH * OW};");
                        w.Line($"int* ic = training ? idx + bc * {OH * OW} : null;");
                        var (pairLo, pairHi) = PairInterior(l);
                        if (pairHi - pairLo >= 8)
                        {
                            PairedMaxPoolRows(w, l, pre, pairLo, pairHi);
                        }
                        else using (w.Block("if (Avx2.IsSupported)"))
                        {
                            w.Line($"var ninf = {V}.Create(float.NegativeInfinity);");
                            using (w.Block($"for (int oh = 0; oh < {OH}; oh++)"))
                            using (w.Block($"for (int ow = 0; ow < {OW}; ow += 8)"))
                            {
                                w.Line($"var lane = {V}.Create(ow) + {V}.Create(0, 1, 2, 3, 4, 5, 6, 7);");
                                w.Line($"var inRow = {V}.LessThan(lane, {V}.Create({OW}));");
                                w.Line($"var cols = lane * {s.StrideW};");
                                w.Line("var best = ninf;");
                                w.Line($"var at = {V}.Create(-1);");
                                for (int i = 0; i < s.KernelH; i++)
                                {
                                    using (w.Block($"if ((uint)(oh * {s.StrideH} + {i * s.DilationH - s.PadH}) < {H}u)"))
                                    {
                                        w.Line($"int rowStart = (oh * {s.StrideH} + {i * s.DilationH - s.PadH}) * {W};");
                                        for (int j = 0; j < s.KernelW; j++)
                                        {
                                            int off = j * s.DilationW - s.PadW;
                                            w.Line("{");
                                            w.Line($"    var iw = cols + {V}.Create({off});");
                                            w.Line($"    var ok = inRow & {V}.GreaterThanOrEqual(iw, {V}<int>.Zero) & {V}.LessThan(iw, {V}.Create({W}));");
                                            w.Line($"    var ix = iw + {V}.Create(rowStart);");
                                            w.Line($"    var v = Avx2.GatherMaskVector256(ninf, xc, ix, {V}.AsSingle(ok), 4);");
                                            w.Line($"    var take = ({V}.GreaterThan(v, best) | ~{V}.Equals(v, v) | {V}.AsSingle({V}.LessThan(at, {V}<int>.Zero))) & {V}.AsSingle(ok);");
                                            w.Line($"    best = {V}.ConditionalSelect(take, v, best);");
                                            w.Line($"    at = {V}.ConditionalSelect({V}.AsInt32(take), ix, at);");
                                            w.Line("}");
                                        }
                                    }
                                }
                                using (w.Block($"if (ow + 8 <= {OW})"))
                                {
                                    w.Line($"{V}.Store(best, yc + oh * {OW} + ow);");
                                    w.Line($"if (ic != null) {V}.Store(at, ic + oh * {OW} + ow);");
                                }
                                using (w.Block("else"))
                                {
                                    w.Line($"Avx.MaskStore(yc + oh * {OW} + ow, {V}.AsSingle(inRow), best);");
                                    w.Line($"if (ic != null) Avx2.MaskStore(ic + oh * {OW} + ow, inRow, at);");
                                }
                            }
                        }
                        using (w.Block("else"))
                        {
                            using (w.Block($"for (int oh = 0; oh < {OH}; oh++)"))
                            {
                                w.Line($"for (int ow = 0; ow < {OW}; ow++) {{ yc[oh * {OW} + ow] = {pre}_One(xc, oh, ow, out int a); if (ic != null) ic[oh * {OW} + ow] = a; }}");
                            }
                        }
                    }
                }
            }
            if (forward && backward) w.Line();
            if (backward)
            {
                w.Line(Hot);
                using (w.Block($"private static void {pre}_Backward({BackwardParams})"))
                {
                    w.Line("if (!needDx) return;");
                    w.Line($"new global::System.Span<float>(dx, n * {C * H * W}).Clear();");
                    using (w.Block($"for (int bc = 0; bc < n * {C}; bc++)"))
                    {
                        w.Line($"float* dxc = dx + bc * {H * W};");
                        w.Line($"float* dyc = dy + bc * {OH * OW};");
                        w.Line($"int* ic = idx + bc * {OH * OW};");
                        w.Line($"for (int o = 0; o < {OH * OW}; o++) dxc[ic[o]] += dyc[o];");
                    }
                }
            }
        }

        /// <summary>
        /// For a max pool whose windows are two adjacent columns two apart (kernel width 2, stride 2, no dilation): the
        /// outputs [lo, hi) of a row whose both columns are inside the input. Otherwise an empty range.
        /// </summary>
        private static (int Lo, int Hi) PairInterior(ShapedLayer l)
        {
            var s = l.Spec;
            if (s.KernelW != 2 || s.StrideW != 2 || s.DilationW != 1) return (0, 0);
            var (lo0, hi0) = Range(l.Out.W, l.In.W, 2, s.PadW, 1, 0);
            var (lo1, hi1) = Range(l.Out.W, l.In.W, 2, s.PadW, 1, 1);
            int lo = Math.Max(lo0, lo1), hi = Math.Min(hi0, hi1);
            return hi > lo ? (lo, hi) : (0, 0);
        }

        /// <summary>
        /// Max pooling over column pairs without gathers: 16 contiguous inputs of a window row give 8 outputs, split into
        /// their even and odd columns (shuffle + permute); a last, overlapping group of 8 covers the end of the range
        /// (recomputing outputs already written, with the same values); border outputs go one at a time.
        /// </summary>
        private static void PairedMaxPoolRows(CodeWriter w, ShapedLayer l, string pre, int lo, int hi)
        {
            var s = l.Spec;
            int H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            const string V = "Vector256";
            const string X86 = "";
            using (w.Block($"if ({X86}Avx2.IsSupported)"))
            {
                w.Line($"var lane2 = {V}.Create(0, 2, 4, 6, 8, 10, 12, 14);");
                using (w.Block($"for (int oh = 0; oh < {OH}; oh++)"))
                {
                    if (lo > 0 || hi < OW)
                    {
                        w.Line($"// outputs whose window reaches into the padding");
                        w.Line($"for (int ow = 0; ow < {lo}; ow++) {{ yc[oh * {OW} + ow] = {pre}_One(xc, oh, ow, out int a); if (ic != null) ic[oh * {OW} + ow] = a; }}");
                        w.Line($"for (int ow = {hi}; ow < {OW}; ow++) {{ yc[oh * {OW} + ow] = {pre}_One(xc, oh, ow, out int a); if (ic != null) ic[oh * {OW} + ow] = a; }}");
                    }
                    using (w.Block($"for (int ow = {lo}; ow < {hi}; ow += 8)"))
                    {
                        w.Line($"if (ow + 8 > {hi}) ow = {hi - 8};");
                        w.Line($"var best = {V}.Create(float.NegativeInfinity);");
                        w.Line($"var at = {V}.Create(-1);");
                        for (int i = 0; i < s.KernelH; i++)
                        {
                            using (w.Block($"if ((uint)(oh * {s.StrideH} + {i * s.DilationH - s.PadH}) < {H}u)"))
                            {
                                w.Line($"int start = (oh * {s.StrideH} + {i * s.DilationH - s.PadH}) * {W} + ow * 2 - {s.PadW};");
                                w.Line($"var v0 = {V}.Load(xc + start);");
                                w.Line($"var v1 = {V}.Load(xc + start + 8);");
                                w.Line($"var even = {V}.AsSingle({X86}Avx2.Permute4x64({V}.AsDouble({X86}Avx.Shuffle(v0, v1, 0x88)), 0xD8));");
                                w.Line($"var odd = {V}.AsSingle({X86}Avx2.Permute4x64({V}.AsDouble({X86}Avx.Shuffle(v0, v1, 0xDD)), 0xD8));");
                                w.Line($"var ix = lane2 + {V}.Create(start);");
                                foreach (var (v, off) in new[] { ("even", ""), ("odd", " + Vector256<int>.One") })
                                {
                                    w.Line($"{{ var take = {V}.GreaterThan({v}, best) | ~{V}.Equals({v}, {v}) | {V}.AsSingle({V}.LessThan(at, {V}<int>.Zero)); best = {V}.ConditionalSelect(take, {v}, best); at = {V}.ConditionalSelect({V}.AsInt32(take), ix{off.Replace("Vector256", V)}, at); }}");
                                }
                            }
                        }
                        w.Line($"{V}.Store(best, yc + oh * {OW} + ow);");
                        w.Line($"if (ic != null) {V}.Store(at, ic + oh * {OW} + ow);");
                    }
                }
            }
        }
    }
}

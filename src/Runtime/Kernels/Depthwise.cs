using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The depthwise convolution's forward pass (groups = channels, one KH×KW filter per channel), NCHW, streaming: per
    /// channel plane, the input is copied once into a zero-bordered scratch plane (split into <c>strideW</c> column phases,
    /// so that every tap of a strided convolution reads consecutive floats), then each run of 8 outputs (16 with Vector512) of
    /// four rows at a time is accumulated in registers over all taps, gets its bias and activation (the epilogue) and is
    /// stored once.
    /// <para>Taps accumulate in row-major order (i, j) with fused multiply-adds starting from 0, then the bias is added and
    /// the activation applied: the same operations, in the same order, as a tap-by-tap pass over the plane followed by a
    /// bias pass and an activation pass (a tap over the zero border adds w·0). SiLU is ActivationOps' own (x/(1 + e^(−x))
    /// with the kernels' exp), so the fused store and <see cref="ActivationOps.Silu(float*, float*, int)"/> agree bit for bit.
    /// Tests: tests/Runtime.Tests/Kernels/DepthwiseTests.cs (a float64 reference).</para>
    /// </summary>
    public static unsafe class Depthwise
    {
        /// <summary>Epilogues: nothing, max(·, 0), x·σ(x).</summary>
        public const int None = 0, Relu = 1, Silu = 2;

        private const int V = 8;

        [ThreadStatic] private static float[]? t_scratch;

        /// <summary>
        /// y[p] = act(conv(x[p], w[p mod channels]) + bias[p mod channels]) for <paramref name="planes"/> planes (samples ×
        /// channels) of [h, width] into [oh, ow]; <paramref name="bias"/> may be null; x and y must not overlap.
        /// </summary>
        public static void Forward(float* x, float* y, float* w, float* bias, int planes, int channels, int h, int width, int oh, int ow,
            int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int act)
        {
            // With Parallelism.IntraOpThreads = 2, a large call is split into two runs of whole planes (each with its own
            // scratch, each keeping its stores inside its own planes): the same outputs, bit for bit.
            if (planes >= 2 && Parallelism.IntraOpThreads > 1 && (long)planes * oh * ow * kh * kw >= ParallelThreshold)
            {
                var job = new Split
                {
                    X = x, Y = y, W = w, Bias = bias, Planes = planes, Channels = channels, H = h, Width = width, OH = oh, OW = ow,
                    KH = kh, KW = kw, SH = sh, SW = sw, PH = ph, PW = pw, DH = dh, DW = dw, Act = act, Wide = Gemm.UseVector512,
                };
                if (PairWorker.TryRun(&RunHalf, &job)) return;
            }
            Forward(x, y, w, bias, planes, channels, h, width, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, act, Gemm.UseVector512);
        }

        /// <summary>Multiply-adds below which a call stays on one thread (≈ 0.5 MFLOP, some 20 µs).</summary>
        internal const long ParallelThreshold = 1L << 18;

        private struct Split
        {
            public float* X, Y, W, Bias;
            public int Planes, Channels, H, Width, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, Act;
            public bool Wide;
        }

        private static void RunHalf(void* args, int half)
        {
            ref Split j = ref *(Split*)args;
            int first = half == 0 ? 0 : j.Planes / 2, count = half == 0 ? j.Planes / 2 : j.Planes - j.Planes / 2;
            Forward(j.X + (long)first * j.H * j.Width, j.Y + (long)first * j.OH * j.OW, j.W, j.Bias, count, j.Channels, j.H, j.Width, j.OH, j.OW,
                j.KH, j.KW, j.SH, j.SW, j.PH, j.PW, j.DH, j.DW, j.Act, j.Wide, first);
        }

        /// <summary>
        /// As above on one thread, Vector512 runs of 16 outputs when <paramref name="wide"/> (the same bits: lane-wise identical
        /// math); plane p of this call is plane <paramref name="firstPlane"/> + p of the whole (its channel).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static void Forward(float* x, float* y, float* w, float* bias, int planes, int channels, int h, int width, int oh, int ow,
            int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int act, bool wide, int firstPlane = 0)
        {
            if (wide && DepthwiseBlocked.Applies(oh, ow))
            {
                DepthwiseBlocked.Forward(x, y, w, bias, planes, channels, h, width, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, act, firstPlane);
                return;
            }
            int vw = wide ? 2 * V : V;
            int owv = (ow + vw - 1) / vw * vw;
            // Phase rows: column c of the bordered row (c = input column + pw) sits in phase c mod sw at index c / sw.
            int pl = Math.Max((width + 2 * pw + sw - 1) / sw, owv + (kw - 1) * dw / sw + 1);
            pl = (pl + vw - 1) / vw * vw;
            int rows = Math.Max(h + 2 * ph, (oh - 1) * sh + (kh - 1) * dh + 1);
            long need = (long)rows * sw * pl;
            float* s = AlignedMemory.Scratch(ref t_scratch, wide ? 2 * need : need); // the wide path keeps two planes
            int taps = kh * kw;
            int* tapAt = stackalloc int[taps];
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                {
                    int off = j * dw;
                    tapAt[i * kw + j] = (i * dh * sw + off % sw) * pl + off / sw;
                }
            Vector256<float>* wv = stackalloc Vector256<float>[wide ? 0 : taps]; // the taps' weights, broadcast at the width used
            long total = (long)planes * oh * ow;
            if (wide)
            {
                // Two planes at a time (each its own scratch plane): eight independent chains of fused multiply-adds.
                new Span<float>(s, checked((int)(2 * need))).Clear(); // the borders stay 0: each plane writes only the interior
                for (int p = 0; p < planes; p += 2)
                {
                    int p2 = Math.Min(p + 1, planes - 1); // an odd last plane runs as both (the same values stored twice)
                    int c = (firstPlane + p) % channels, c2 = (firstPlane + p2) % channels;
                    float* sb = p2 == p ? s : s + need;
                    Fill(x + (long)p * h * width, s, h, width, ph, pw, sw, pl);
                    if (p2 != p) Fill(x + (long)p2 * h * width, sb, h, width, ph, pw, sw, pl);
                    Pair512(s, sb, y + (long)p * oh * ow, y + (long)p2 * oh * ow, tapAt, w + (long)c * taps, w + (long)c2 * taps, taps, oh, ow, sh * sw * pl,
                        Vector512.Create(bias != null ? bias[c] : 0f), Vector512.Create(bias != null ? bias[c2] : 0f), act);
                }
                return;
            }
            new Span<float>(s, checked((int)need)).Clear(); // the border stays 0: each plane writes only the interior
            for (int p = 0; p < planes; p++)
            {
                int c = (firstPlane + p) % channels;
                float* xp = x + (long)p * h * width;
                float* yp = y + (long)p * oh * ow;
                float* wc = w + (long)c * taps;
                float bc = bias != null ? bias[c] : 0f;
                Fill(xp, s, h, width, ph, pw, sw, pl);
                for (int t = 0; t < taps; t++) wv[t] = Vector256.Create(wc[t]);
                Rows256(s, yp, y, total, tapAt, wv, taps, oh, ow, sh * sw * pl, Vector256.Create(bc), act);
            }
        }

        // The Vector256 row kernel computes four output rows at once (four independent accumulation chains: one row alone is
        // bound by the latency of its chain of fused multiply-adds; Pair512 runs eight), each output still summing its taps in
        // the same order, so the bits do not depend on the grouping. Columns go from the last run to the first: a full vector past a row's end
        // spills into the next row's first outputs, and those are stored later (the q = 0 run of the same four rows, or of
        // the next group), so every spill is overwritten with the right values. Past the call's last output, the tail is
        // stored element by element.

        /// <summary>One plane's output rows in runs of 8 (Vector256); <paramref name="rowStep"/> floats of scratch per output row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Rows256(float* s, float* yp, float* y, long total, int* tapAt, Vector256<float>* wv, int taps, int oh, int ow,
            int rowStep, Vector256<float> vb, int act)
        {
            int last = (ow - 1) / V * V;
            int o = 0;
            for (; o + 4 <= oh; o += 4)
            {
                float* r0 = s + (long)o * rowStep, r1 = r0 + rowStep, r2 = r1 + rowStep, r3 = r2 + rowStep;
                float* y0 = yp + o * ow;
                for (int q = last; q >= 0; q -= V)
                {
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int t = 0; t < taps; t++)
                    {
                        int at = q + tapAt[t];
                        var wt = wv[t];
                        a0 = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + at), wt, a0);
                        a1 = Vector256.FusedMultiplyAdd(Vector256.Load(r1 + at), wt, a1);
                        a2 = Vector256.FusedMultiplyAdd(Vector256.Load(r2 + at), wt, a2);
                        a3 = Vector256.FusedMultiplyAdd(Vector256.Load(r3 + at), wt, a3);
                    }
                    Store256(y0 + q, Epilogue(a0 + vb, act), y, total, ow - q);
                    Store256(y0 + ow + q, Epilogue(a1 + vb, act), y, total, ow - q);
                    Store256(y0 + 2 * ow + q, Epilogue(a2 + vb, act), y, total, ow - q);
                    Store256(y0 + 3 * ow + q, Epilogue(a3 + vb, act), y, total, ow - q);
                }
            }
            for (; o < oh; o++)
            {
                float* r0 = s + (long)o * rowStep;
                float* y0 = yp + o * ow;
                for (int q = last; q >= 0; q -= V)
                {
                    Vector256<float> a0 = default;
                    for (int t = 0; t < taps; t++) a0 = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + q + tapAt[t]), wv[t], a0);
                    Store256(y0 + q, Epilogue(a0 + vb, act), y, total, ow - q);
                }
            }
        }

        /// <summary>A run of outputs: the whole vector unless it would pass the call's last output, then the <paramref name="left"/> that are real.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store256(float* at, Vector256<float> v, float* y, long total, int left)
        {
            if ((at - y) + V <= total) v.Store(at);
            else for (int k = 0; k < left && k < V; k++) at[k] = v.GetElement(k);
        }

        /// <summary>
        /// Two planes' output rows in runs of 16 (Vector512): planes a and b (scratch <paramref name="sa"/>, <paramref name="sb"/>;
        /// output <paramref name="ya"/>, <paramref name="yb"/>; tap weights <paramref name="wa"/>, <paramref name="wb"/>), four rows of each at once,
        /// so eight independent accumulation chains (a plane of 7 × 7 or 14 × 14 alone would leave most of the FMA pipes idle).
        /// Rows past the last of a plane repeat its last row, the last group starts at oh − 4 (rows computed twice get the same
        /// values), and a run past a row's end is stored under a mask: nothing is written outside the two planes' outputs.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Pair512(float* sa, float* sb, float* ya, float* yb, int* tapAt, float* wa, float* wb, int taps, int oh, int ow,
            int rowStep, Vector512<float> ba, Vector512<float> bb, int act)
        {
            const int W = 2 * V;
            long db = sb - sa;
            for (int g = 0; g < oh; g += 4)
            {
                int o0 = Math.Min(g, Math.Max(0, oh - 4)), o1 = Math.Min(o0 + 1, oh - 1), o2 = Math.Min(o0 + 2, oh - 1), o3 = Math.Min(o0 + 3, oh - 1);
                float* r0 = sa + (long)o0 * rowStep, r1 = sa + (long)o1 * rowStep, r2 = sa + (long)o2 * rowStep, r3 = sa + (long)o3 * rowStep;
                for (int q = 0; q < ow; q += W)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
                    for (int t = 0; t < taps; t++)
                    {
                        long at = q + tapAt[t], bt = at + db;
                        Vector512<float> wt = Vector512.Create(wa[t]), ut = Vector512.Create(wb[t]); // broadcast loads: a float each
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + at), wt, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + at), wt, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + at), wt, a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + at), wt, a3);
                        b0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + bt), ut, b0);
                        b1 = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + bt), ut, b1);
                        b2 = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + bt), ut, b2);
                        b3 = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + bt), ut, b3);
                    }
                    int left = ow - q;
                    Put512(ya + o0 * ow + q, Epilogue(a0 + ba, act), left); Put512(ya + o1 * ow + q, Epilogue(a1 + ba, act), left);
                    Put512(ya + o2 * ow + q, Epilogue(a2 + ba, act), left); Put512(ya + o3 * ow + q, Epilogue(a3 + ba, act), left);
                    Put512(yb + o0 * ow + q, Epilogue(b0 + bb, act), left); Put512(yb + o1 * ow + q, Epilogue(b1 + bb, act), left);
                    Put512(yb + o2 * ow + q, Epilogue(b2 + bb, act), left); Put512(yb + o3 * ow + q, Epilogue(b3 + bb, act), left);
                }
            }
        }

        /// <summary>A run of 16 outputs, or its first <paramref name="left"/> under a mask when fewer are left in the row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put512(float* at, Vector512<float> v, int left)
        {
            if (left >= 2 * V) v.Store(at);
            else if (Avx512F.IsSupported) Avx512F.MaskStore(at, FirstLanes(left), v);
            else for (int k = 0; k < left; k++) at[k] = v.GetElement(k);
        }

        /// <summary>The epilogue's activation on Vector512 (also <see cref="DepthwiseBlocked"/>'s, <see cref="DirectConv"/>'s and the blocked GEMM's stores).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector512<float> Epilogue(Vector512<float> v, int act) => act switch
        {
            Relu => Vector512.Max(v, Vector512<float>.Zero),
            Silu => ActivationOps.SiluOp.F(v),
            _ => v,
        };

        /// <summary>The same on Vector256 (also <see cref="DirectConv"/>'s epilogue).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<float> Epilogue(Vector256<float> v, int act) => act switch
        {
            Relu => Vector256.Max(v, Vector256<float>.Zero),
            Silu => ActivationOps.SiluOp.F(v),
            _ => v,
        };

        /// <summary>A mask of the first <paramref name="n"/> of 16 lanes (for masked loads and stores of a partial vector).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector512<float> FirstLanes(int n) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();

        /// <summary>Copies plane xp [h, width] into the bordered, phase-split scratch s (row r + ph, column c + pw).</summary>
        private static void Fill(float* xp, float* s, int h, int width, int ph, int pw, int sw, int pl)
        {
            for (int r = 0; r < h; r++)
            {
                float* src = xp + (long)r * width;
                float* dst = s + (long)(r + ph) * sw * pl;
                if (sw == 1)
                {
                    Buffer.MemoryCopy(src, dst + pw, (long)width * 4, (long)width * 4);
                    continue;
                }
                if (sw == 2)
                {
                    // Even input columns c = 2k go to phase pw mod 2 at index k + ⌊pw/2⌋, odd ones to the other phase at k + ⌊(pw + 1)/2⌋.
                    float* even = dst + (pw & 1) * pl + (pw >> 1), odd = dst + ((pw + 1) & 1) * pl + ((pw + 1) >> 1);
                    int k = 0;
                    var split = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
                    for (; 2 * k + 2 * V <= width; k += V)
                    {
                        var a = Vector256.Shuffle(Vector256.Load(src + 2 * k), split);
                        var b = Vector256.Shuffle(Vector256.Load(src + 2 * k + V), split);
                        Vector256.Create(a.GetLower(), b.GetLower()).Store(even + k);
                        Vector256.Create(a.GetUpper(), b.GetUpper()).Store(odd + k);
                    }
                    for (; 2 * k < width; k++)
                    {
                        even[k] = src[2 * k];
                        if (2 * k + 1 < width) odd[k] = src[2 * k + 1];
                    }
                    continue;
                }
                for (int c = 0, phase = pw % sw, at = pw / sw; c < width; c++)
                {
                    dst[phase * pl + at] = src[c];
                    if (++phase == sw) { phase = 0; at++; }
                }
            }
        }
    }
}

using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
            int vw = wide ? 2 * V : V;
            int owv = (ow + vw - 1) / vw * vw;
            // Phase rows: column c of the bordered row (c = input column + pw) sits in phase c mod sw at index c / sw.
            int pl = Math.Max((width + 2 * pw + sw - 1) / sw, owv + (kw - 1) * dw / sw + 1);
            pl = (pl + vw - 1) / vw * vw;
            int rows = Math.Max(h + 2 * ph, (oh - 1) * sh + (kh - 1) * dh + 1);
            long need = (long)rows * sw * pl;
            float* s = AlignedMemory.Scratch(ref t_scratch, need);
            int taps = kh * kw;
            int* tapAt = stackalloc int[taps];
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                {
                    int off = j * dw;
                    tapAt[i * kw + j] = (i * dh * sw + off % sw) * pl + off / sw;
                }
            Vector256<float>* wv = stackalloc Vector256<float>[wide ? 0 : taps]; // the taps' weights, broadcast at the width used
            Vector512<float>* wv16 = stackalloc Vector512<float>[wide ? taps : 0];
            long total = (long)planes * oh * ow;
            new Span<float>(s, checked((int)need)).Clear(); // the border stays 0: each plane writes only the interior
            for (int p = 0; p < planes; p++)
            {
                int c = (firstPlane + p) % channels;
                float* xp = x + (long)p * h * width;
                float* yp = y + (long)p * oh * ow;
                float* wc = w + (long)c * taps;
                float bc = bias != null ? bias[c] : 0f;
                Fill(xp, s, h, width, ph, pw, sw, pl);
                if (wide)
                {
                    for (int t = 0; t < taps; t++) wv16[t] = Vector512.Create(wc[t]);
                    Rows512(s, yp, y, total, tapAt, wv16, taps, oh, ow, sh * sw * pl, Vector512.Create(bc), act);
                }
                else
                {
                    for (int t = 0; t < taps; t++) wv[t] = Vector256.Create(wc[t]);
                    Rows256(s, yp, y, total, tapAt, wv, taps, oh, ow, sh * sw * pl, Vector256.Create(bc), act);
                }
            }
        }

        // Both row kernels compute four output rows at once (four independent accumulation chains: one row alone is bound by
        // the latency of its chain of fused multiply-adds), each output still summing its taps in the same order, so the
        // bits do not depend on the grouping. Columns go from the last run to the first: a full vector past a row's end
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

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store512(float* at, Vector512<float> v, float* y, long total, int left)
        {
            if ((at - y) + 2 * V <= total) v.Store(at);
            else for (int k = 0; k < left && k < 2 * V; k++) at[k] = v.GetElement(k);
        }

        /// <summary>One plane's output rows in runs of 16 (Vector512); <paramref name="rowStep"/> floats of scratch per output row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Rows512(float* s, float* yp, float* y, long total, int* tapAt, Vector512<float>* wv, int taps, int oh, int ow,
            int rowStep, Vector512<float> vb, int act)
        {
            const int W = 2 * V;
            int last = (ow - 1) / W * W;
            int o = 0;
            for (; o + 4 <= oh; o += 4)
            {
                float* r0 = s + (long)o * rowStep, r1 = r0 + rowStep, r2 = r1 + rowStep, r3 = r2 + rowStep;
                float* y0 = yp + o * ow;
                for (int q = last; q >= 0; q -= W)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int t = 0; t < taps; t++)
                    {
                        int at = q + tapAt[t];
                        var wt = wv[t];
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + at), wt, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + at), wt, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + at), wt, a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + at), wt, a3);
                    }
                    Store512(y0 + q, Epilogue(a0 + vb, act), y, total, ow - q);
                    Store512(y0 + ow + q, Epilogue(a1 + vb, act), y, total, ow - q);
                    Store512(y0 + 2 * ow + q, Epilogue(a2 + vb, act), y, total, ow - q);
                    Store512(y0 + 3 * ow + q, Epilogue(a3 + vb, act), y, total, ow - q);
                }
            }
            for (; o < oh; o++)
            {
                float* r0 = s + (long)o * rowStep;
                float* y0 = yp + o * ow;
                for (int q = last; q >= 0; q -= W)
                {
                    Vector512<float> a0 = default;
                    for (int t = 0; t < taps; t++) a0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + q + tapAt[t]), wv[t], a0);
                    Store512(y0 + q, Epilogue(a0 + vb, act), y, total, ow - q);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Epilogue(Vector512<float> v, int act) => act switch
        {
            Relu => Vector512.Max(v, Vector512<float>.Zero),
            Silu => ActivationOps.SiluOp.F(v),
            _ => v,
        };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Epilogue(Vector256<float> v, int act) => act switch
        {
            Relu => Vector256.Max(v, Vector256<float>.Zero),
            Silu => ActivationOps.SiluOp.F(v),
            _ => v,
        };

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

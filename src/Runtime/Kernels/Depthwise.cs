using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The depthwise convolution's forward pass (groups = channels, one KH×KW filter per channel), NCHW, streaming: per
    /// channel plane, the input is copied once into a zero-bordered scratch plane (split into <c>strideW</c> column phases,
    /// so that every tap of a strided convolution reads consecutive floats), then each run of 8 outputs of a row is
    /// accumulated in a register over all taps, gets its bias and activation (the epilogue) and is stored once.
    /// <para>Taps accumulate in row-major order (i, j) with fused multiply-adds starting from 0, then the bias is added and
    /// the activation applied: the same operations, in the same order, as a tap-by-tap pass over the plane followed by a
    /// bias pass and an activation pass (a tap over the zero border adds w·0). SiLU is x/(1 + e^(−x)) with the kernels'
    /// exp, as <see cref="ActivationOps.Silu(float*, float*, int)"/>. Tests: tests/Runtime.Tests/Kernels/DepthwiseTests.cs
    /// (a float64 reference).</para>
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
            int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int act) =>
            Forward(x, y, w, bias, planes, channels, h, width, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, act, Gemm.UseVector512);

        /// <summary>As above, Vector512 runs of 16 outputs when <paramref name="wide"/> (the same bits: lane-wise identical math).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static void Forward(float* x, float* y, float* w, float* bias, int planes, int channels, int h, int width, int oh, int ow,
            int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int act, bool wide)
        {
            int vw = wide ? 2 * V : V;
            int owv = (ow + vw - 1) / vw * vw;
            // Phase rows: column c of the bordered row (c = input column + pw) sits in phase c mod sw at index c / sw.
            int pl = Math.Max((width + 2 * pw + sw - 1) / sw, owv + (kw - 1) * dw / sw + 1);
            pl = (pl + vw - 1) / vw * vw;
            int rows = Math.Max(h + 2 * ph, (oh - 1) * sh + (kh - 1) * dh + 1);
            long need = (long)rows * sw * pl;
            float[] buf = t_scratch is { } cached && cached.Length >= need + AlignedMemory.Slack ? cached : (t_scratch = AlignedMemory.Allocate(need));
            int taps = kh * kw;
            int* tapAt = stackalloc int[taps];
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                {
                    int off = j * dw;
                    tapAt[i * kw + j] = (i * dh * sw + off % sw) * pl + off / sw;
                }
            Vector256<float>* wv = stackalloc Vector256<float>[taps];
            Vector512<float>* wv16 = stackalloc Vector512<float>[wide ? taps : 0];
            long total = (long)planes * oh * ow;
            fixed (float* b0 = buf)
            {
                float* s = AlignedMemory.Align(b0);
                new Span<float>(s, checked((int)need)).Clear(); // the border stays 0: each plane writes only the interior
                for (int p = 0; p < planes; p++)
                {
                    int c = p % channels;
                    float* xp = x + (long)p * h * width;
                    float* yp = y + (long)p * oh * ow;
                    for (int t = 0; t < taps; t++) wv[t] = Vector256.Create(w[(long)c * taps + t]);
                    var vb = Vector256.Create(bias != null ? bias[c] : 0f);
                    Fill(xp, s, h, width, ph, pw, sw, pl);
                    if (wide)
                    {
                        for (int t = 0; t < taps; t++) wv16[t] = Vector512.Create(w[(long)c * taps + t]);
                        Rows512(s, yp, y, total, tapAt, wv16, taps, oh, ow, sh * sw * pl, Vector512.Create(bias != null ? bias[c] : 0f), act);
                        continue;
                    }
                    for (int o = 0; o < oh; o++)
                    {
                        float* rowBase = s + (long)o * sh * sw * pl;
                        float* yr = yp + o * ow;
                        for (int q = 0; q < ow; q += V)
                        {
                            float* at = rowBase + q;
                            Vector256<float> acc = Vector256<float>.Zero;
                            for (int t = 0; t < taps; t++) acc = Vector256.FusedMultiplyAdd(Vector256.Load(at + tapAt[t]), wv[t], acc);
                            acc = Epilogue(acc + vb, act);
                            // A full vector past the row's end writes the next row's (or plane's) first outputs, computed later.
                            if (q + V <= ow || (yr - y) + q + V <= total) acc.Store(yr + q);
                            else for (int k = 0; q + k < ow; k++) yr[q + k] = acc.GetElement(k);
                        }
                    }
                }
            }
        }

        /// <summary>One plane's output rows in runs of 16 (Vector512); <paramref name="rowStep"/> floats of scratch per output row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Rows512(float* s, float* yp, float* y, long total, int* tapAt, Vector512<float>* wv, int taps, int oh, int ow,
            int rowStep, Vector512<float> vb, int act)
        {
            const int W = 2 * V;
            for (int o = 0; o < oh; o++)
            {
                float* rowBase = s + (long)o * rowStep;
                float* yr = yp + o * ow;
                for (int q = 0; q < ow; q += W)
                {
                    float* at = rowBase + q;
                    Vector512<float> acc = Vector512<float>.Zero;
                    for (int t = 0; t < taps; t++) acc = Vector512.FusedMultiplyAdd(Vector512.Load(at + tapAt[t]), wv[t], acc);
                    acc += vb;
                    if (act == Relu) acc = Vector512.Max(acc, Vector512<float>.Zero);
                    else if (act == Silu) acc /= Vector512.Create(1f) + ActivationMath.Exp(-acc);
                    if (q + W <= ow || (yr - y) + q + W <= total) acc.Store(yr + q);
                    else for (int k = 0; q + k < ow; k++) yr[q + k] = acc.GetElement(k);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Epilogue(Vector256<float> v, int act) => act switch
        {
            Relu => Vector256.Max(v, Vector256<float>.Zero),
            Silu => v / (Vector256.Create(1f) + ActivationMath.Exp(-v)),
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

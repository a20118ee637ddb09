using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The depthwise forward pass for small planes (EfficientNet's 14 × 14 and 7 × 7 stages) on AVX-512, channel-blocked:
    /// a plane of 7 × 7 fills 7 of a vector's 16 lanes in <see cref="Depthwise"/>'s row kernel, so here 16 channels share a
    /// vector instead. Per block of up to 16 consecutive channels of a sample: the planes are transposed (16 × 16 blocks)
    /// into a zero-bordered scratch [rows][columns][16 channels]; each output pixel's vector sums its taps, 8 pixels of a row
    /// at a time (8 independent chains, every load aligned, every lane a real channel); bias and activation are applied;
    /// the [pixels][16] result is transposed back into the 16 output planes.
    /// <para>Each output is the same sum, in the same order (taps row-major from 0 with fused multiply-adds, then + bias,
    /// then the activation), as <see cref="Depthwise"/>'s other kernels: the same bits (tested).</para>
    /// </summary>
    internal static unsafe class DepthwiseBlocked
    {
        private const int L = 16; // channels per block (lanes)
        private const int G = 8;  // output pixels of a row per group (independent accumulators)

        [ThreadStatic] private static float[]? t_scratch;

        /// <summary>Whether this kernel runs a plane of [oh, ow] (measured: up to 28 columns it is the faster one).</summary>
        internal static bool Applies(int oh, int ow) => Avx512F.IsSupported && ow <= MaxWidth;

        /// <summary>Output widths up to this run channel-blocked (set by the bench to compare both kernels).</summary>
        internal static int MaxWidth = 28;

        /// <summary>The call of <see cref="Depthwise.Forward(float*, float*, float*, float*, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, bool, int)"/>, channel-blocked.</summary>
        internal static void Forward(float* x, float* y, float* w, float* bias, int planes, int channels, int h, int width, int oh, int ow,
            int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int act, int firstPlane)
        {
            int owg = (ow + G - 1) / G * G; // the last group of a row computes (and discards) up to G − 1 extra pixels
            int hp = Math.Max(h + 2 * ph, (oh - 1) * sh + (kh - 1) * dh + 1);
            int wp = Math.Max(width + 2 * pw, (owg - 1) * sw + (kw - 1) * dw + 1);
            int taps = kh * kw, hw = h * width, ohw = oh * ow;
            long inSize = (long)hp * wp * L, outSize = ((long)(ohw + L - 1) / L * L + G) * L, wSize = (long)taps * L + L;
            float* s = AlignedMemory.Scratch(ref t_scratch, inSize + outSize + wSize);
            float* o = s + inSize, wb = o + outSize, bb = wb + (long)taps * L;
            new Span<float>(s, checked((int)inSize)).Clear(); // borders stay 0: each block writes only the interior
            int* tapOff = stackalloc int[taps];
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++) tapOff[i * kw + j] = (i * dh * wp + j * dw) * L;
            for (int p = 0; p < planes;)
            {
                int c0 = (firstPlane + p) % channels;
                int nb = Math.Min(Math.Min(L, channels - c0), planes - p); // consecutive channels of one sample
                float* xb = x + (long)p * hw, yb = y + (long)p * ohw;

                // Weights [tap][16] and bias [16] of the block's channels (lanes past nb are 0).
                for (int t0 = 0; t0 < taps; t0 += L)
                {
                    var tile = new Gather(w + (long)c0 * taps + t0, taps, nb, Math.Min(L, taps - t0), wb + (long)t0 * L);
                    Transpose16(ref tile);
                }
                for (int l = 0; l < L; l++) bb[l] = l < nb && bias != null ? bias[c0 + l] : 0f;

                // In: each input row, 16 columns of the nb planes at a time, transposed into pixel vectors at their bordered place.
                for (int r = 0; r < h; r++)
                    for (int c = 0; c < width; c += L)
                    {
                        var tile = new Gather(xb + (long)r * width + c, hw, nb, Math.Min(L, width - c), s + ((long)(r + ph) * wp + c + pw) * L);
                        Transpose16(ref tile);
                    }

                if (sw == 1 && dw == 1) Slide(s, o, wb, bb, kh, kw, dh * wp * L, oh, ow, sh * wp * L, act);
                else if (sw == 1) Compute<Step1>(s, o, wb, bb, tapOff, taps, oh, ow, sh * wp * L, act);
                else if (sw == 2) Compute<Step2>(s, o, wb, bb, tapOff, taps, oh, ow, sh * wp * L, act);
                else Compute<StepAny>(s, o, wb, bb, tapOff, taps, oh, ow, sh * wp * L, act, sw * L);

                // Out: 16 output pixels at a time, transposed back into the nb planes.
                for (int q0 = 0; q0 < ohw; q0 += L)
                {
                    var tile = new Scatter(o + (long)q0 * L, yb + q0, ohw, nb, Math.Min(L, ohw - q0));
                    Transpose16(ref tile);
                }
                p += nb;
            }
        }

        private interface IStep { int Step { get; } }
        private struct Step1 : IStep { public int Step => L; }
        private struct Step2 : IStep { public int Step => 2 * L; }
        private struct StepAny : IStep { public int Step => 0; }

        /// <summary>
        /// Output rows of one block: groups of 8 pixels (8 accumulators), taps in row-major order; pixel k of a group reads
        /// its input at k·step floats from the group's (step = stride × 16: a constant for strides 1 and 2). The last group
        /// of a row spills into the next row's first pixels, which are computed (and stored) after it; past the last row,
        /// into the output scratch's slack.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Compute<TStep>(float* s, float* o, float* wb, float* bb, int* tapOff, int taps, int oh, int ow, int rowStep, int act,
            int anyStep = 0) where TStep : struct, IStep
        {
            nint st = default(TStep).Step != 0 ? default(TStep).Step : anyStep;
            Vector512<float> vb = Vector512.Load(bb);
            for (int oy = 0; oy < oh; oy++)
            {
                float* rb = s + (long)oy * rowStep;
                float* ob = o + (long)oy * ow * L;
                for (int ox = 0; ox < ow; ox += G)
                {
                    float* b = rb + ox * st;
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    for (int t = 0; t < taps; t++)
                    {
                        float* at = b + tapOff[t];
                        var wt = Vector512.Load(wb + t * L);
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(at), wt, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Load(at + st), wt, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Load(at + 2 * st), wt, a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Load(at + 3 * st), wt, a3);
                        a4 = Vector512.FusedMultiplyAdd(Vector512.Load(at + 4 * st), wt, a4);
                        a5 = Vector512.FusedMultiplyAdd(Vector512.Load(at + 5 * st), wt, a5);
                        a6 = Vector512.FusedMultiplyAdd(Vector512.Load(at + 6 * st), wt, a6);
                        a7 = Vector512.FusedMultiplyAdd(Vector512.Load(at + 7 * st), wt, a7);
                    }
                    Store8(ob + ox * L, a0, a1, a2, a3, a4, a5, a6, a7, vb, act);
                }
            }
        }

        /// <summary>
        /// <see cref="Compute{TStep}"/> for stride 1 along the row (and no column dilation): within a tap row, pixel k's
        /// input for tap j + 1 is pixel k + 1's for tap j, so the 8 inputs slide along one register each step and each tap
        /// loads one new vector (plus its weights) for 8 fused multiply-adds. The same sums in the same order.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Slide(float* s, float* o, float* wb, float* bb, int kh, int kw, int tapRow, int oh, int ow, int rowStep, int act)
        {
            Vector512<float> vb = Vector512.Load(bb);
            for (int oy = 0; oy < oh; oy++)
            {
                float* rb = s + (long)oy * rowStep;
                float* ob = o + (long)oy * ow * L;
                for (int ox = 0; ox < ow; ox += G)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    float* wt = wb;
                    for (int i = 0; i < kh; i++, wt += kw * L)
                    {
                        float* r = rb + (long)i * tapRow + ox * L;
                        Vector512<float> x0 = Vector512.Load(r), x1 = Vector512.Load(r + L), x2 = Vector512.Load(r + 2 * L), x3 = Vector512.Load(r + 3 * L);
                        Vector512<float> x4 = Vector512.Load(r + 4 * L), x5 = Vector512.Load(r + 5 * L), x6 = Vector512.Load(r + 6 * L), x7 = Vector512.Load(r + 7 * L);
                        var w0 = Vector512.Load(wt);
                        a0 = Vector512.FusedMultiplyAdd(x0, w0, a0); a1 = Vector512.FusedMultiplyAdd(x1, w0, a1);
                        a2 = Vector512.FusedMultiplyAdd(x2, w0, a2); a3 = Vector512.FusedMultiplyAdd(x3, w0, a3);
                        a4 = Vector512.FusedMultiplyAdd(x4, w0, a4); a5 = Vector512.FusedMultiplyAdd(x5, w0, a5);
                        a6 = Vector512.FusedMultiplyAdd(x6, w0, a6); a7 = Vector512.FusedMultiplyAdd(x7, w0, a7);
                        for (int j = 1; j < kw; j++)
                        {
                            x0 = x1; x1 = x2; x2 = x3; x3 = x4; x4 = x5; x5 = x6; x6 = x7;
                            x7 = Vector512.Load(r + (7 + j) * L);
                            var wj = Vector512.Load(wt + j * L);
                            a0 = Vector512.FusedMultiplyAdd(x0, wj, a0); a1 = Vector512.FusedMultiplyAdd(x1, wj, a1);
                            a2 = Vector512.FusedMultiplyAdd(x2, wj, a2); a3 = Vector512.FusedMultiplyAdd(x3, wj, a3);
                            a4 = Vector512.FusedMultiplyAdd(x4, wj, a4); a5 = Vector512.FusedMultiplyAdd(x5, wj, a5);
                            a6 = Vector512.FusedMultiplyAdd(x6, wj, a6); a7 = Vector512.FusedMultiplyAdd(x7, wj, a7);
                        }
                    }
                    Store8(ob + ox * L, a0, a1, a2, a3, a4, a5, a6, a7, vb, act);
                }
            }
        }

        /// <summary>A group's 8 pixel vectors + bias, through the activation, to d, d + 16, …, d + 112.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store8(float* d, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
            Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7, Vector512<float> vb, int act)
        {
            Depthwise.Epilogue(a0 + vb, act).Store(d); Depthwise.Epilogue(a1 + vb, act).Store(d + L);
            Depthwise.Epilogue(a2 + vb, act).Store(d + 2 * L); Depthwise.Epilogue(a3 + vb, act).Store(d + 3 * L);
            Depthwise.Epilogue(a4 + vb, act).Store(d + 4 * L); Depthwise.Epilogue(a5 + vb, act).Store(d + 5 * L);
            Depthwise.Epilogue(a6 + vb, act).Store(d + 6 * L); Depthwise.Epilogue(a7 + vb, act).Store(d + 7 * L);
        }

        /// <summary>Where a 16 × 16 transpose reads its rows and puts the rows of the result (a struct: inlined, in registers).</summary>
        private interface ITile
        {
            Vector512<float> Row(int i);
            void Put(int i, Vector512<float> v);
        }

        /// <summary>Rows i &lt; rows from src + i·stride, their first n floats (the rest 0); result rows m &lt; n to dst + 16·m.</summary>
        private readonly struct Gather : ITile
        {
            private readonly float* _src, _dst;
            private readonly long _stride;
            private readonly int _rows, _n;
            private readonly Vector512<float> _mask;
            public Gather(float* src, long stride, int rows, int n, float* dst)
            {
                _src = src; _stride = stride; _rows = rows; _n = n; _dst = dst;
                _mask = Depthwise.FirstLanes(n);
            }
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public Vector512<float> Row(int i) => i < _rows ? Avx512F.MaskLoad(_src + i * _stride, _mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Put(int i, Vector512<float> v) { if (i < _n) v.Store(_dst + i * L); }
        }

        /// <summary>Rows from src + 16·i (16 pixels' channel vectors); result rows l &lt; rows (channels) to dst + l·stride, their first n floats.</summary>
        private readonly struct Scatter : ITile
        {
            private readonly float* _src, _dst;
            private readonly long _stride;
            private readonly int _rows, _n;
            private readonly Vector512<float> _mask;
            public Scatter(float* src, float* dst, long stride, int rows, int n)
            {
                _src = src; _dst = dst; _stride = stride; _rows = rows; _n = n;
                _mask = Depthwise.FirstLanes(n);
            }
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public Vector512<float> Row(int i) => Vector512.Load(_src + i * L);
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Put(int i, Vector512<float> v)
            {
                if (i >= _rows) return;
                if (_n == L) v.Store(_dst + i * _stride);
                else Avx512F.MaskStore(_dst + i * _stride, _mask, v);
            }
        }

        /// <summary>
        /// A 16 × 16 transpose (row i of the result = column i of the input): 32-bit and 64-bit unpacks within 128-bit lanes,
        /// then two rounds of 128-bit lane shuffles, all in registers.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Transpose16<T>(ref T io) where T : struct, ITile
        {
            // 32-bit unpacks: pairs of rows interleaved within each 128-bit lane.
            Vector512<float> a0 = io.Row(0), a1 = io.Row(1), t0 = Avx512F.UnpackLow(a0, a1), t1 = Avx512F.UnpackHigh(a0, a1);
            Vector512<float> a2 = io.Row(2), a3 = io.Row(3), t2 = Avx512F.UnpackLow(a2, a3), t3 = Avx512F.UnpackHigh(a2, a3);
            Vector512<float> a4 = io.Row(4), a5 = io.Row(5), t4 = Avx512F.UnpackLow(a4, a5), t5 = Avx512F.UnpackHigh(a4, a5);
            Vector512<float> a6 = io.Row(6), a7 = io.Row(7), t6 = Avx512F.UnpackLow(a6, a7), t7 = Avx512F.UnpackHigh(a6, a7);
            Vector512<float> a8 = io.Row(8), a9 = io.Row(9), t8 = Avx512F.UnpackLow(a8, a9), t9 = Avx512F.UnpackHigh(a8, a9);
            Vector512<float> a10 = io.Row(10), a11 = io.Row(11), ta = Avx512F.UnpackLow(a10, a11), tb = Avx512F.UnpackHigh(a10, a11);
            Vector512<float> a12 = io.Row(12), a13 = io.Row(13), tc = Avx512F.UnpackLow(a12, a13), td = Avx512F.UnpackHigh(a12, a13);
            Vector512<float> a14 = io.Row(14), a15 = io.Row(15), te = Avx512F.UnpackLow(a14, a15), tf = Avx512F.UnpackHigh(a14, a15);
            // 64-bit unpacks: u(4q + c) holds, in 128-bit lane k, column 4k + c of rows 4q..4q+3.
            Vector512<float> u0 = Lo(t0, t2), u1 = Hi(t0, t2), u2 = Lo(t1, t3), u3 = Hi(t1, t3);
            Vector512<float> u4 = Lo(t4, t6), u5 = Hi(t4, t6), u6 = Lo(t5, t7), u7 = Hi(t5, t7);
            Vector512<float> u8 = Lo(t8, ta), u9 = Hi(t8, ta), ua = Lo(t9, tb), ub = Hi(t9, tb);
            Vector512<float> uc = Lo(tc, te), ud = Hi(tc, te), ue = Lo(td, tf), uf = Hi(td, tf);
            // 128-bit lanes: rows 0-7 (and 8-15) of columns c, c + 8 (0x88: lanes 0, 2; 0xDD: lanes 1, 3).
            Vector512<float> v0 = Avx512F.Shuffle4x128(u0, u4, 0x88), v4 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
            Vector512<float> v1 = Avx512F.Shuffle4x128(u1, u5, 0x88), v5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
            Vector512<float> v2 = Avx512F.Shuffle4x128(u2, u6, 0x88), v6 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
            Vector512<float> v3 = Avx512F.Shuffle4x128(u3, u7, 0x88), v7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
            Vector512<float> v8 = Avx512F.Shuffle4x128(u8, uc, 0x88), vc = Avx512F.Shuffle4x128(u8, uc, 0xDD);
            Vector512<float> v9 = Avx512F.Shuffle4x128(u9, ud, 0x88), vd = Avx512F.Shuffle4x128(u9, ud, 0xDD);
            Vector512<float> va = Avx512F.Shuffle4x128(ua, ue, 0x88), ve = Avx512F.Shuffle4x128(ua, ue, 0xDD);
            Vector512<float> vb = Avx512F.Shuffle4x128(ub, uf, 0x88), vf = Avx512F.Shuffle4x128(ub, uf, 0xDD);
            io.Put(0, Avx512F.Shuffle4x128(v0, v8, 0x88)); io.Put(8, Avx512F.Shuffle4x128(v0, v8, 0xDD));
            io.Put(1, Avx512F.Shuffle4x128(v1, v9, 0x88)); io.Put(9, Avx512F.Shuffle4x128(v1, v9, 0xDD));
            io.Put(2, Avx512F.Shuffle4x128(v2, va, 0x88)); io.Put(10, Avx512F.Shuffle4x128(v2, va, 0xDD));
            io.Put(3, Avx512F.Shuffle4x128(v3, vb, 0x88)); io.Put(11, Avx512F.Shuffle4x128(v3, vb, 0xDD));
            io.Put(4, Avx512F.Shuffle4x128(v4, vc, 0x88)); io.Put(12, Avx512F.Shuffle4x128(v4, vc, 0xDD));
            io.Put(5, Avx512F.Shuffle4x128(v5, vd, 0x88)); io.Put(13, Avx512F.Shuffle4x128(v5, vd, 0xDD));
            io.Put(6, Avx512F.Shuffle4x128(v6, ve, 0x88)); io.Put(14, Avx512F.Shuffle4x128(v6, ve, 0xDD));
            io.Put(7, Avx512F.Shuffle4x128(v7, vf, 0x88)); io.Put(15, Avx512F.Shuffle4x128(v7, vf, 0xDD));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Lo(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Hi(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
    }
}

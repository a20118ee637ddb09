using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Layout helpers of the channels-last (NHWC) inference path: transposes between channels-first and
    /// channels-last activations, zero padding, and the packing of convolution weights into [KH, KW, in, out].
    /// </summary>
    public static unsafe class ChannelsLast
    {
        /// <summary>Whether two spans hold the same bits (the packed-weight cache's "unchanged" test; NaN equals the same NaN).</summary>
        public static bool BitwiseEqual(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
            MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));

        /// <summary>
        /// Convolution weights [out, in, taps] (PyTorch's [out, in, KH, KW]) to [taps, in, out]:
        /// dst[(t·in + c)·out + o] = w[(o·in + c)·taps + t].
        /// </summary>
        public static void PackChannelsLast(float* w, float* dst, int outChannels, int inChannels, int taps)
        {
            // Written in order (reads stride through w, which stays in cache across the taps).
            long i = 0;
            for (int t = 0; t < taps; t++)
                for (int c = 0; c < inChannels; c++)
                {
                    float* src = w + (long)c * taps + t;
                    long step = (long)inChannels * taps;
                    for (int o = 0; o < outChannels; o++) dst[i++] = src[o * step];
                }
        }

        /// <summary>
        /// Convolution weights [out, in, KH, KW] flipped and transposed to [KH, KW, out, in] (the weights of the input
        /// gradient as a convolution): dst[((a·KW + b)·out + o)·in + c] = w[((o·in + c)·KH + KH − 1 − a)·KW + KW − 1 − b].
        /// </summary>
        public static void PackFlipped(float* w, float* dst, int outChannels, int inChannels, int KH, int KW)
        {
            // Written in order; each source row w[o, ·, ky, kx] is read with stride KH·KW.
            int taps = KH * KW;
            long i = 0;
            for (int a = 0; a < KH; a++)
                for (int b = 0; b < KW; b++)
                {
                    int t = (KH - 1 - a) * KW + (KW - 1 - b);
                    for (int o = 0; o < outChannels; o++)
                    {
                        float* src = w + (long)o * inChannels * taps + t;
                        for (int c = 0; c < inChannels; c++) dst[i++] = src[(long)c * taps];
                    }
                }
        }

        /// <summary>g[(o·in + c)·taps + t] += packed[(t·in + c)·out + o]: a weight gradient in packed order added into PyTorch's.</summary>
        public static void AddUnpacked(float* packed, float* g, int outChannels, int inChannels, int taps)
        {
            for (int o = 0; o < outChannels; o++)
                for (int c = 0; c < inChannels; c++)
                {
                    float* go = g + ((long)o * inChannels + c) * taps;
                    for (int t = 0; t < taps; t++) go[t] += packed[((long)t * inChannels + c) * outChannels + o];
                }
        }

        /// <summary>sums[c] += Σ over pixels of x[pixel·C + c] (a bias gradient from a channels-last output gradient).</summary>
        public static void AddChannelSums(float* x, float* sums, int pixels, int C)
        {
            int c = 0;
            for (; c + 8 <= C; c += 8)
            {
                Vector256<float> acc = Vector256<float>.Zero;
                float* xc = x + c;
                for (int i = 0; i < pixels; i++, xc += C) acc += Vector256.Load(xc);
                (Vector256.Load(sums + c) + acc).Store(sums + c);
            }
            for (; c < C; c++)
            {
                float acc = 0;
                for (int i = 0; i < pixels; i++) acc += x[(long)i * C + c];
                sums[c] += acc;
            }
        }

        /// <summary>One sample [H, W, C] into [H + 2·padH, W + 2·padW, C] with zero borders.</summary>
        public static void PadChannelsLast(float* x, float* dst, int H, int W, int C, int padH, int padW)
        {
            int wp = W + 2 * padW;
            long rowFloats = (long)wp * C;
            new Span<float>(dst, checked((int)(rowFloats * padH))).Clear();
            for (int h = 0; h < H; h++)
            {
                float* row = dst + (h + padH) * rowFloats;
                new Span<float>(row, padW * C).Clear();
                new ReadOnlySpan<float>(x + (long)h * W * C, W * C).CopyTo(new Span<float>(row + padW * C, W * C));
                new Span<float>(row + (long)(padW + W) * C, padW * C).Clear();
            }
            new Span<float>(dst + (H + padH) * rowFloats, checked((int)(rowFloats * padH))).Clear();
        }

        /// <summary>n samples [C, HW] to [HW, C] (channels-first to channels-last).</summary>
        public static void ToChannelsLast(float* x, float* y, int n, int C, int HW)
        {
            for (int b = 0; b < n; b++)
            {
                float* xb = x + (long)b * C * HW, yb = y + (long)b * C * HW;
                for (int c = 0; c < C; c++)
                {
                    float* xc = xb + (long)c * HW;
                    for (int i = 0; i < HW; i++) yb[(long)i * C + c] = xc[i];
                }
            }
        }

        /// <summary>
        /// n samples [HW, C] to [C, HW] (channels-last back to PyTorch's channels-first). With AVX and C a multiple of
        /// 8, in 8×8 blocks transposed in registers (the last block of pixels moves back to fit and rewrites its
        /// overlap with the same values).
        /// </summary>
        public static void ToChannelsFirst(float* x, float* y, int n, int C, int HW)
        {
            if (Avx.IsSupported && C % 8 == 0 && HW >= 8)
            {
                for (int b = 0; b < n; b++)
                {
                    float* xb = x + (long)b * C * HW, yb = y + (long)b * C * HW;
                    for (int i0 = 0; i0 < HW; i0 += 8)
                    {
                        int i = Math.Min(i0, HW - 8);
                        for (int c = 0; c < C; c += 8) Transpose8x8(xb + (long)i * C + c, C, yb + (long)c * HW + i, HW);
                    }
                }
                return;
            }
            for (int b = 0; b < n; b++)
            {
                float* xb = x + (long)b * C * HW, yb = y + (long)b * C * HW;
                for (int i = 0; i < HW; i++)
                {
                    float* xi = xb + (long)i * C;
                    for (int c = 0; c < C; c++) yb[(long)c * HW + i] = xi[c];
                }
            }
        }

        /// <summary>dst[r·dstStride + k] = src[k·srcStride + r] for an 8×8 block (rows of 8 floats, any alignment).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Transpose8x8(float* src, int srcStride, float* dst, int dstStride)
        {
            Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + srcStride);
            Vector256<float> r2 = Avx.LoadVector256(src + 2 * srcStride), r3 = Avx.LoadVector256(src + 3 * srcStride);
            Vector256<float> r4 = Avx.LoadVector256(src + 4 * srcStride), r5 = Avx.LoadVector256(src + 5 * srcStride);
            Vector256<float> r6 = Avx.LoadVector256(src + 6 * srcStride), r7 = Avx.LoadVector256(src + 7 * srcStride);
            // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
            Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
            Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
            Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
            Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
            Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
            Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
            Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
            Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
            Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
            Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
            Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
            Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
        }
    }
}

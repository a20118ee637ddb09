using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
            for (int o = 0; o < outChannels; o++)
            {
                for (int c = 0; c < inChannels; c++)
                {
                    float* src = w + ((long)o * inChannels + c) * taps;
                    for (int t = 0; t < taps; t++) dst[((long)t * inChannels + c) * outChannels + o] = src[t];
                }
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

        /// <summary>n samples [HW, C] to [C, HW] (channels-last back to PyTorch's channels-first).</summary>
        public static void ToChannelsFirst(float* x, float* y, int n, int C, int HW)
        {
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
    }
}

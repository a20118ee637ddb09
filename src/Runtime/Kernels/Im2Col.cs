using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// im2col and its adjoint for the generated convolutions (every layer calls these with its constants; one copy of the
    /// code instead of one unrolled copy per layer). Row (c·KH + i)·KW + j of the column matrix, rows <c>ld</c> apart, holds
    /// tap (i, j) of channel c for every output pixel oh·OW + ow: x[c, oh·sh − ph + i·dh, ow·sw − pw + j·dw], 0 in the
    /// padding. Per tap the output rows and columns that read the input are computed once (a closed form), so the copy
    /// is one contiguous run per output row (stride 1) or a strided gather, and the padding is cleared around it.
    /// </summary>
    public static unsafe class Im2Col
    {
        /// <summary>col[(c·KH + i)·KW + j, oh·OW + ow] = x[c, oh·sh − ph + i·dh, ow·sw − pw + j·dw] (0 in the padding).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Gather(float* x, float* col, int ld, int C, int H, int W, int OH, int OW, int KH, int KW,
            int sh, int sw, int ph, int pw, int dh, int dw)
        {
            for (int c = 0; c < C; c++)
            {
                float* xc = x + (long)c * H * W;
                for (int i = 0; i < KH; i++)
                {
                    var (ohLo, ohHi) = Range(OH, H, sh, ph, dh, i);
                    for (int j = 0; j < KW; j++)
                    {
                        float* r = col + ((long)(c * KH + i) * KW + j) * ld;
                        var (owLo, owHi) = Range(OW, W, sw, pw, dw, j);
                        if (ohHi <= ohLo || owHi <= owLo)
                        {
                            new Span<float>(r, OH * OW).Clear();
                            continue;
                        }
                        if (ohLo > 0) new Span<float>(r, ohLo * OW).Clear();
                        if (ohHi < OH) new Span<float>(r + ohHi * OW, (OH - ohHi) * OW).Clear();
                        int len = owHi - owLo, rowOffset = i * dh - ph, colOffset = owLo * sw + j * dw - pw;
                        for (int oh = ohLo; oh < ohHi; oh++)
                        {
                            float* src = xc + (long)(oh * sh + rowOffset) * W + colOffset;
                            float* dst = r + oh * OW;
                            for (int q = 0; q < owLo; q++) dst[q] = 0f;
                            for (int q = owHi; q < OW; q++) dst[q] = 0f;
                            dst += owLo;
                            if (sw == 1) Copy(src, dst, len);
                            else for (int q = 0; q < len; q++) dst[q] = src[(long)q * sw];
                        }
                    }
                }
            }
        }

        /// <summary>The adjoint of <see cref="Gather"/>: x[c, ih, iw] += col[...] for every tap that read it (x cleared by the caller).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Scatter(float* col, float* x, int ld, int C, int H, int W, int OH, int OW, int KH, int KW,
            int sh, int sw, int ph, int pw, int dh, int dw)
        {
            for (int c = 0; c < C; c++)
            {
                float* xc = x + (long)c * H * W;
                for (int i = 0; i < KH; i++)
                {
                    var (ohLo, ohHi) = Range(OH, H, sh, ph, dh, i);
                    for (int j = 0; j < KW; j++)
                    {
                        var (owLo, owHi) = Range(OW, W, sw, pw, dw, j);
                        if (ohHi <= ohLo || owHi <= owLo) continue;
                        float* r = col + ((long)(c * KH + i) * KW + j) * ld;
                        int len = owHi - owLo, rowOffset = i * dh - ph, colOffset = owLo * sw + j * dw - pw;
                        for (int oh = ohLo; oh < ohHi; oh++)
                        {
                            float* dst = xc + (long)(oh * sh + rowOffset) * W + colOffset;
                            float* src = r + oh * OW + owLo;
                            if (sw == 1) Ops.AddTo(dst, src, len);
                            else for (int q = 0; q < len; q++) dst[(long)q * sw] += src[q];
                        }
                    }
                }
            }
        }

        /// <summary>Output indices [lo, hi) along one axis whose input index o·stride − pad + t·dil lies in [0, inSize).</summary>
        internal static (int Lo, int Hi) Range(int outSize, int inSize, int stride, int pad, int dil, int t)
        {
            int offset = t * dil - pad; // input index = o·stride + offset
            int lo = Math.Max(0, CeilDiv(-offset, stride));
            int hi = Math.Min(outSize, FloorDiv(inSize - 1 - offset, stride) + 1);
            return (lo, Math.Max(lo, hi));
        }

        private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);
        private static int CeilDiv(int a, int b) => -FloorDiv(-a, b);

        /// <summary>dst[0..n) = src[0..n): whole vectors, the last one overlapping the one before it (no scalar tail from 4 floats on).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Copy(float* src, float* dst, int n)
        {
            if (n >= 16 && Vector512.IsHardwareAccelerated)
            {
                int q = 0;
                for (; q + 16 <= n; q += 16) Vector512.Load(src + q).Store(dst + q);
                if (q < n) Vector512.Load(src + n - 16).Store(dst + n - 16);
            }
            else if (n >= 8)
            {
                int q = 0;
                for (; q + 8 <= n; q += 8) Vector256.Load(src + q).Store(dst + q);
                if (q < n) Vector256.Load(src + n - 8).Store(dst + n - 8);
            }
            else if (n >= 4)
            {
                Vector128.Load(src).Store(dst);
                Vector128.Load(src + n - 4).Store(dst + n - 4);
            }
            else for (int q = 0; q < n; q++) dst[q] = src[q];
        }
    }
}

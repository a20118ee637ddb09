using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Dense convolutions (groups 1, dilation 1, any kernel, stride and padding: ResNet's 7×7 stem, its 3×3 and strided
    /// convolutions, in NCHW) without an im2col matrix. Each sample's input is copied once into zero-padded phase planes:
    /// for a stride (sh, sw), plane (c, py, px) holds the padded input's rows py, py + sh, … and columns px, px + sw, … (for
    /// stride 1, the padded input itself). In a plane's coordinates output pixel (oy, ox) is column j = oy·Wq + ox (Wq the
    /// planes' width) and kernel tap (c, ky, kx) reads plane (c, ky mod sh, kx mod sw) at (ky div sh)·Wq + (kx div sw) + j,
    /// so row k of the product's right-hand matrix is a contiguous run of one plane, starting at a fixed offset per k.
    /// The blocked GEMM (<see cref="GemmBlocked"/>) reads those rows in place through an offset table, computing Wq
    /// columns per output row (the Wq − OW past the edge are discarded), and the epilogue copies the real columns out with
    /// the bias and the activation. Against im2col + GEMM this writes and reads the C·KH·KW × OH·OW column matrix not at
    /// all (the planes are the size of the padded input), and the bias pass after the product is the copy-out itself.
    /// <para>Same products in the same order as <see cref="Gemm.MultiplyNN"/> on the im2col matrix with the blocked kernel
    /// (per K block of 128 rows, 8 × 48 tiles): the same bits. Needs <see cref="Vector512{T}"/>; elsewhere it runs im2col +
    /// <see cref="Gemm.MultiplyNN"/> + the epilogue.</para>
    /// </summary>
    public static unsafe class DirectConv
    {
        /// <summary>Activation applied in the epilogue (<see cref="Depthwise"/>'s codes and epilogue).</summary>
        public const int None = Depthwise.None, Relu = Depthwise.Relu, Silu = Depthwise.Silu;

        /// <summary>Whether the direct kernel runs here (it needs Vector512; otherwise im2col + GEMM).</summary>
        public static bool Supported => Gemm.UseVector512;

        [ThreadStatic] private static float[]? t_planes;
        [ThreadStatic] private static float[]? t_out;
        [ThreadStatic] private static float[]? t_col;
        [ThreadStatic] private static int[]? t_offsets;

        /// <summary>
        /// y[n, M, OH, OW] = act(conv(x[n, C, H, W], w[M, C, KH, KW], stride (sh, sw), padding (ph, pw)) + bias[M]), OH and
        /// OW as PyTorch computes them; bias may be null; act is <see cref="None"/>, <see cref="Relu"/> or <see cref="Silu"/>.
        /// With <see cref="Parallelism.IntraOpThreads"/> = 2 the output rows of a large sample are split between the caller
        /// and the helper thread (the same bits).
        /// </summary>
        public static void Forward(float* x, float* y, float* w, float* bias, int n, int C, int H, int W, int M,
            int KH, int KW, int sh, int sw, int ph, int pw, int act) =>
            Forward(x, y, w, bias, n, C, H, W, M, KH, KW, sh, sw, ph, pw, act, Supported);

        /// <summary>
        /// <see cref="Forward(float*, float*, float*, float*, int, int, int, int, int, int, int, int, int, int, int, int)"/> with
        /// a per-channel scale: y = act(conv(x, w)·scale[m] + shift[m]) (one fused multiply-add per output). A batch norm in
        /// inference, applied in the convolution's own store instead of folded into a copy of the weights; scale and shift
        /// must not be null.
        /// </summary>
        public static void Forward(float* x, float* y, float* w, float* scale, float* shift, int n, int C, int H, int W, int M,
            int KH, int KW, int sh, int sw, int ph, int pw, int act)
        {
            if (scale == null || shift == null) throw new ArgumentNullException(scale == null ? nameof(scale) : nameof(shift));
            Forward(x, y, w, shift, n, C, H, W, M, KH, KW, sh, sw, ph, pw, act, Supported, scale);
        }

        internal static void Forward(float* x, float* y, float* w, float* bias, int n, int C, int H, int W, int M,
            int KH, int KW, int sh, int sw, int ph, int pw, int act, bool direct, float* scale = null)
        {
            var g = new Job { C = C, H = H, Width = W, M = M, KH = KH, KW = KW, SH = sh, SW = sw, PH = ph, PW = pw, Act = act, W = w, Bias = bias, Scale = scale };
            if (n < 0 || C < 1 || H < 1 || W < 1 || M < 1 || KH < 1 || KW < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0 || act is < None or > Silu)
                throw new ArgumentOutOfRangeException(nameof(n), "invalid convolution shape or activation");
            g.OH = (H + 2 * ph - KH) / sh + 1;
            g.OW = (W + 2 * pw - KW) / sw + 1;
            if (H + 2 * ph < KH || W + 2 * pw < KW) throw new ArgumentOutOfRangeException(nameof(KH), "kernel larger than the padded input");
            if (!direct)
            {
                Fallback(x, y, ref g, n);
                return;
            }
            // Phases that some tap reads (all of them unless the kernel is smaller than the stride, e.g. a strided 1×1).
            g.PhH = Math.Min(sh, KH);
            g.PhW = Math.Min(sw, KW);
            g.Hq = (H + 2 * ph + sh - 1) / sh;
            g.Wq = RowStride(W, KW, sw, pw, g.OW);
            long planes = (long)C * g.PhH * g.PhW * g.Hq * g.Wq;
            // The last row's 16-column strips read up to 15 columns and (KW − 1) / sw taps past the last plane.
            g.Planes = AlignedMemory.Scratch(ref t_planes, planes + 32 + KW);
            g.Offsets = Offsets(ref g);
            long K = (long)C * KH * KW;
            bool split = Parallelism.IntraOpThreads > 1 && g.OH >= 2 && M * K * g.OH * g.OW >= GemmBlocked.ParallelThreshold;
            new Span<float>(g.Planes + planes, 32 + KW).Clear();
            for (int b = 0; b < n; b++)
            {
                g.X = x + (long)b * C * H * W;
                // The copy into the planes is split too when it is large (each half its channels), the product after it.
                if (!(split && C >= 2 && planes >= FillParallelThreshold && PairWorker.TryRun(&FillHalf, &g))) FillPlanes(ref g, 0, C);
                g.Y = y + (long)b * M * g.OH * g.OW;
                if (split && PairWorker.TryRun(&RunHalf, &g)) continue;
                Rows(ref g, 0, g.OH);
            }
        }

        /// <summary>
        /// Floats between the rows of a phase plane. A row holds its input columns and the zero padding left and right of
        /// them, but the right padding a tap reads past the row's end may be the next row's left padding instead: the reads
        /// that wrap land on columns below the first real one (zero) as long as the stride exceeds the largest column read
        /// minus the first real column. For stride 1 that is W + pw instead of W + 2·pw (ResNet's 3×3 at 28²: 29 computed
        /// columns per 28 real ones instead of 30, at 56²: 57 instead of 58). At least OW (each output row's columns) and
        /// every plane's real columns.
        /// </summary>
        private static int RowStride(int W, int KW, int sw, int pw, int OW)
        {
            int stride = OW;
            for (int px = 0; px < Math.Min(sw, KW); px++)
            {
                int lo = Math.Max(0, (pw - px + sw - 1) / sw);          // first plane column with a real input column
                int hi = W - 1 - px + pw < 0 ? 0 : (W - 1 - px + pw) / sw + 1; // one past the last
                int last = OW - 1 + (KW - 1 - px) / sw;                   // the largest column a tap of this phase reads
                stride = Math.Max(stride, Math.Max(hi, last - lo + 1));
            }
            return stride;
        }

        /// <summary>Floats of phase planes from which their filling is split over the two intra-op threads.</summary>
        private const long FillParallelThreshold = 1L << 16;

        private static void FillHalf(void* args, int half)
        {
            ref Job j = ref *(Job*)args;
            if (half == 0) FillPlanes(ref j, 0, j.C / 2);
            else FillPlanes(ref j, j.C / 2, j.C);
        }

        /// <summary>One call's geometry and buffers (also the two-thread job).</summary>
        private struct Job
        {
            public float* Planes, W, Bias, Scale, Y, X;
            public int* Offsets;
            public int C, H, Width, M, KH, KW, SH, SW, PH, PW, Act, OH, OW, PhH, PhW, Hq, Wq;
        }

        private static void RunHalf(void* args, int half)
        {
            ref Job j = ref *(Job*)args;
            int mid = j.OH / 2;
            if (half == 0) Rows(ref j, 0, mid);
            else Rows(ref j, mid, j.OH);
        }

        /// <summary>Output rows [y0, y1) of one sample: the product over their plane columns into this thread's scratch, then the epilogue.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Rows(ref Job j, int y0, int y1)
        {
            int Wq = j.Wq, M = j.M, K = j.C * j.KH * j.KW;
            // Bands of output rows whose product output (M × band columns) stays in L2 for the copy-out.
            int band = Math.Max(1, BandFloats / (M * Wq));
            float* c = AlignedMemory.Scratch(ref t_out, (long)M * (((long)Math.Min(band, y1 - y0) * Wq + 15) & ~15));
            for (int r0 = y0; r0 < y1; r0 += band)
            {
                int r1 = Math.Min(y1, r0 + band);
                int ld = ((r1 - r0) * Wq + 15) & ~15;
                float* b0 = j.Planes + (long)r0 * Wq;
                int col = 0;
                for (; col + 48 <= ld; col += 48)
                    GemmBlocked.Strip(48, M, K, j.W, K, 1, new GemmBlocked.OffsetRows(b0 + col, j.Offsets), c + col, ld, accumulate: false);
                for (; col < ld; col += 16)
                    GemmBlocked.Strip(16, M, K, j.W, K, 1, new GemmBlocked.OffsetRows(b0 + col, j.Offsets), c + col, ld, accumulate: false);
                for (int m = 0; m < M; m++)
                    Epilogue(c + (long)m * ld, Wq, j.Y + ((long)m * j.OH + r0) * j.OW, r1 - r0, j.OW, j.Bias == null ? 0f : j.Bias[m], j.Act, j.Scale == null ? 1f : j.Scale[m]);
            }
        }

        /// <summary>Floats of product output per band of rows (256 KB: a quarter of the L2 of this class of CPU).</summary>
        private const int BandFloats = 1 << 16;

        /// <summary>Row k = (c·KH + ky)·KW + kx of the product (the weights' order) starts in plane (c, ky mod sh, kx mod sw) at (ky div sh)·Wq + kx div sw.</summary>
        private static int* Offsets(ref Job j)
        {
            int K = j.C * j.KH * j.KW, plane = j.Hq * j.Wq;
            // K + 1 entries: the tiles read the offset one past a block's last row (GemmBlocked.OffsetRows.Next).
            if (t_offsets is null || t_offsets.Length < K + 1) t_offsets = GC.AllocateArray<int>(K + 1, pinned: true);
            int* o = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_offsets));
            for (int ch = 0, k = 0; ch < j.C; ch++)
                for (int ky = 0; ky < j.KH; ky++)
                    for (int kx = 0; kx < j.KW; kx++)
                        o[k++] = ((ch * j.PhH + ky % j.SH) * j.PhW + kx % j.SW) * plane + ky / j.SH * j.Wq + kx / j.SW;
            o[K] = o[K - 1];
            return o;
        }

        /// <summary>
        /// Channels [c0, c1) of the sample j.X [C, H, W] into the phase planes [C, PhH, PhW, Hq, Wq]: plane (c, py, px) row i,
        /// column q = x[c, i·sh + py − ph, q·sw + px − pw], 0 outside.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void FillPlanes(ref Job j, int c0, int c1)
        {
            int H = j.H, W = j.Width, Wq = j.Wq, sh = j.SH, sw = j.SW;
            float* x = j.X, dst = j.Planes + (long)c0 * j.PhH * j.PhW * j.Hq * Wq;
            for (int ch = c0; ch < c1; ch++)
                for (int py = 0; py < j.PhH; py++)
                    for (int px = 0; px < j.PhW; px++)
                    {
                        var (lo, hi) = Inside(Wq, W, sw, px - j.PW);
                        for (int i = 0; i < j.Hq; i++, dst += Wq)
                        {
                            int iy = i * sh + py - j.PH;
                            if (iy < 0 || iy >= H) new Span<float>(dst, Wq).Clear();
                            else GatherRow(dst, Wq, x + ((long)ch * H + iy) * W, sw, px - j.PW, lo, hi);
                        }
                    }
        }

        /// <summary>The columns q in [0, count) whose input column q·stride + offset lies in [0, width): [lo, hi), empty as lo = hi.</summary>
        private static (int Lo, int Hi) Inside(int count, int width, int stride, int offset)
        {
            int lo = Math.Min(count, Math.Max(0, (stride - 1 - offset) / stride)), last = width - 1 - offset;
            int hi = last < 0 ? 0 : Math.Min(count, last / stride + 1);
            return (lo, Math.Max(lo, hi));
        }

        /// <summary>dst[q] = src[q·stride + offset] for q in [lo, hi) (from <see cref="Inside"/>), 0 for the rest of [0, count): one row of the planes or of im2col.</summary>
        private static void GatherRow(float* dst, int count, float* src, int stride, int offset, int lo, int hi)
        {
            for (int q = 0; q < lo; q++) dst[q] = 0f;
            float* s0 = src + (long)lo * stride + offset;
            if (stride == 1) Unsafe.CopyBlockUnaligned(dst + lo, s0, (uint)(hi - lo) * sizeof(float));
            else if (stride == 2 && Avx512F.IsSupported) GatherEven(dst + lo, s0, hi - lo);
            else for (int q = lo; q < hi; q++, s0 += stride) dst[q] = *s0;
            for (int q = hi; q < count; q++) dst[q] = 0f;
        }

        /// <summary>
        /// dst[q] = src[2q] for q in [0, n): a stride-2 row's columns of one phase, 16 at a time (two loads, one two-source
        /// permute) instead of one scalar copy each. Reads src[0 .. 2n − 2] only: the last chunk's loads and store are masked.
        /// </summary>
        private static void GatherEven(float* dst, float* src, int n)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            int q = 0;
            for (; q + 16 < n; q += 16) // src[2q + 31] is still inside the row when q + 16 < n
                Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * q), even, Vector512.Load(src + 2 * q + 16)).Store(dst + q);
            if (q == n) return;
            int left = 2 * (n - q) - 1; // floats still read: 1 .. 31
            var lo = Avx512F.MaskLoad(src + 2 * q, Depthwise.FirstLanes(left), Vector512<float>.Zero);
            var hi = left > 16 ? Avx512F.MaskLoad(src + 2 * q + 16, Depthwise.FirstLanes(left - 16), Vector512<float>.Zero) : Vector512<float>.Zero;
            Avx512F.MaskStore(dst + q, Depthwise.FirstLanes(n - q), Avx512F.PermuteVar16x32x2(lo, even, hi));
        }

        /// <summary>dst[r, 0..W) = act(src[r·srcLd + 0..W) + bias) for <paramref name="rows"/> rows, dst rows W apart; src may be dst.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static void Epilogue(float* src, int srcLd, float* dst, int rows, int W, float bias, int act, float scale = 1f)
        {
            var b16 = Vector512.Create(bias);
            var b8 = Vector256.Create(bias);
            bool wide = Vector512.IsHardwareAccelerated;
            if (scale != 1f)
            {
                // A batch norm's scale: fma(v, scale, shift), one rounding. (Scale 1 takes the plain sum below, which
                // fma(v, 1, b) would equal bit for bit anyway.)
                var s16 = Vector512.Create(scale);
                var s8 = Vector256.Create(scale);
                for (int r = 0; r < rows; r++, src += srcLd, dst += W)
                {
                    int i = 0;
                    if (wide) for (; i + 16 <= W; i += 16) Depthwise.Epilogue(Vector512.FusedMultiplyAdd(Vector512.Load(src + i), s16, b16), act).Store(dst + i);
                    for (; i + 8 <= W; i += 8) Depthwise.Epilogue(Vector256.FusedMultiplyAdd(Vector256.Load(src + i), s8, b8), act).Store(dst + i);
                    for (; i < W; i++) dst[i] = Depthwise.Epilogue(Vector256.CreateScalar(MathF.FusedMultiplyAdd(src[i], scale, bias)), act).ToScalar();
                }
                return;
            }
            for (int r = 0; r < rows; r++, src += srcLd, dst += W)
            {
                int i = 0;
                if (wide) for (; i + 16 <= W; i += 16) Depthwise.Epilogue(Vector512.Load(src + i) + b16, act).Store(dst + i);
                for (; i + 8 <= W; i += 8) Depthwise.Epilogue(Vector256.Load(src + i) + b8, act).Store(dst + i);
                for (; i < W; i++) dst[i] = Depthwise.Epilogue(Vector256.CreateScalar(src[i]) + b8, act).ToScalar();
            }
        }

        /// <summary>im2col + <see cref="Gemm.MultiplyNN"/>, then the epilogue in place: where Vector512 is missing, and the tests' reference.</summary>
        private static void Fallback(float* x, float* y, ref Job j, int n)
        {
            int C = j.C, H = j.H, W = j.Width, OH = j.OH, OW = j.OW, HW = H * W, N = OH * OW, K = C * j.KH * j.KW;
            float* col = AlignedMemory.Scratch(ref t_col, (long)K * N);
            for (int b = 0; b < n; b++)
            {
                float* xb = x + (long)b * C * HW, yb = y + (long)b * j.M * N;
                for (int k = 0; k < K; k++)
                {
                    int kx = k % j.KW, ky = k / j.KW % j.KH;
                    float* src = xb + (long)(k / (j.KW * j.KH)) * HW, row = col + (long)k * N;
                    var (lo, hi) = Inside(OW, W, j.SW, kx - j.PW);
                    for (int oy = 0; oy < OH; oy++)
                    {
                        int iy = oy * j.SH + ky - j.PH;
                        if (iy < 0 || iy >= H) new Span<float>(row + (long)oy * OW, OW).Clear();
                        else GatherRow(row + (long)oy * OW, OW, src + (long)iy * W, j.SW, kx - j.PW, lo, hi);
                    }
                }
                Gemm.MultiplyNN(j.M, N, K, j.W, K, 1, col, N, yb, N, false);
                for (int m = 0; m < j.M; m++)
                    Epilogue(yb + (long)m * N, N, yb + (long)m * N, 1, N, j.Bias == null ? 0f : j.Bias[m], j.Act, j.Scale == null ? 1f : j.Scale[m]);
            }
        }
    }
}

using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The cache-blocked form of <see cref="Gemm.MultiplyNN"/> for large products (ResNet-class convolutions: M = output
    /// channels, N = output pixels, K = input channels × taps), on <see cref="Vector512{T}"/>.
    /// <para>Loop order: for each strip of 48 columns of B and C, for each block of <see cref="KBlock"/> rows of B, for every
    /// 8 rows of A: an 8 × 48 register tile (24 accumulators; per k 3 loads of B, 8 broadcasts of A, 24 FMAs). The strip's
    /// block of B (KBlock × 48 floats = 24 KB) is read from memory once and then served from L1 to all M rows, where the
    /// plain kernel streams all of B once per 4 rows of A. C's tile is re-read once per K block (K / 128 times).</para>
    /// <para>Columns that do not fill a 48-strip run as 16-wide strips; the last &lt; 16 columns are copied into a zero-padded
    /// 16-wide panel (thread-static scratch, grown once), computed as a strip, and only the real columns are stored. When
    /// only 1 to <see cref="DotTailMax"/> columns are left after the 48-strips (N = 49, 196), they are dot products taken
    /// in the last strip's pass instead; with at most <see cref="TogetherMax"/> strips that pass serves all strips from each
    /// 8-row tile of A (the weights, read once), in K blocks of ~640 KB of B.</para>
    /// <para>B's rows are addressed through <see cref="IRows{TSelf}"/> (a matrix, or <see cref="DirectConv"/>'s runs of
    /// the padded input); an <see cref="Epilogue"/> (bias + activation) is applied by the last K block's stores.</para>
    /// </summary>
    internal static unsafe class GemmBlocked
    {
        /// <summary>Where row k of B's current strip starts; <see cref="From"/>: the same rows from row k0 on (the next K block).</summary>
        internal interface IRows<TSelf> where TSelf : struct
        {
            float* Row(int k);
            /// <summary>Row k + 1, given row k (<paramref name="row"/>): the tiles step through B with it.</summary>
            float* Next(float* row, int k);
            TSelf From(int k0);
        }

        /// <summary>B a matrix: row k at b + k·ld.</summary>
        internal readonly struct StridedRows : IRows<StridedRows>
        {
            private readonly float* _b;
            private readonly nint _ld;
            public StridedRows(float* b, int ld) { _b = b; _ld = ld; }
            [MethodImpl(MethodImplOptions.AggressiveInlining)] public float* Row(int k) => _b + k * _ld;
            [MethodImpl(MethodImplOptions.AggressiveInlining)] public float* Next(float* row, int k) => row + _ld;
            [MethodImpl(MethodImplOptions.AggressiveInlining)] public StridedRows From(int k0) => new(_b + k0 * _ld, (int)_ld);
        }

        /// <summary>
        /// What the last K block's stores apply to C after the sum: + bias[row] (when Bias is not null), then the activation
        /// (<see cref="DirectConv.None"/>, <see cref="DirectConv.Relu"/>, <see cref="DirectConv.Silu"/>): a convolution's
        /// bias and activation in the product's own store, instead of a pass over the output after it. The same float
        /// operations in the same order as that pass, so the same bits.
        /// </summary>
        internal readonly struct Epilogue
        {
            public readonly float* Bias;
            /// <summary>Per row: C = act(sum·Scale[row] + Bias[row]) (a batch norm's scale and shift; Bias then not null), or null.</summary>
            public readonly float* Scale;
            public readonly int Act;
            public Epilogue(float* bias, int act, float* scale = null) { Bias = bias; Act = act; Scale = scale; }
            public bool Any => Bias != null || Act != 0;
            /// <summary>The same epilogue for the rows from <paramref name="m"/> on.</summary>
            public Epilogue From(int m) => new(Bias == null ? null : Bias + m, Act, Scale == null ? null : Scale + m);
            /// <summary>Applies it to columns [n0, n0 + w) of C's M rows (the paths whose stores do not).</summary>
            public void Apply(float* c, int ldc, int M, int n0, int w)
            {
                if (!Any || w <= 0) return;
                for (int m = 0; m < M; m++)
                    DirectConv.Epilogue(c + (long)m * ldc + n0, 0, c + (long)m * ldc + n0, 1, w, Bias == null ? 0f : Bias[m], Act, Scale == null ? 1f : Scale[m]);
            }
        }

        /// <summary>B's rows anywhere: row k at b + offsets[k] (each an input channel and kernel tap of a direct convolution).</summary>
        internal readonly struct OffsetRows : IRows<OffsetRows>
        {
            private readonly float* _b;
            private readonly int* _offsets;
            public OffsetRows(float* b, int* offsets) { _b = b; _offsets = offsets; }
            [MethodImpl(MethodImplOptions.AggressiveInlining)] public float* Row(int k) => _b + _offsets[k];
            /// <summary>Reads offsets[k + 1]: the table holds one entry past the last row.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)] public float* Next(float* row, int k) => _b + _offsets[k + 1];
            [MethodImpl(MethodImplOptions.AggressiveInlining)] public OffsetRows From(int k0) => new(_b, _offsets + k0);
        }

        /// <summary>Rows of B per block: 128 × 48 floats = 24 KB, inside a 32 KB L1 with room for A's 8 rows and C's tile.</summary>
        internal const int KBlock = 128;

        [ThreadStatic] private static float[]? t_panel;

        /// <summary>Whether the blocked kernel is used for this shape (it needs 8 rows and 16 columns to pay off).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static bool Applies(int M, int N, int K) =>
            Gemm.UseVector512 && M >= 8 && N >= 16 && K >= 16 && (long)M * N * K >= 1 << 18;

        /// <summary>Multiply-adds below which a product stays on one thread (≈ 8 MFLOP, some 50 µs: the hand-off costs a few µs).</summary>
        internal const long ParallelThreshold = 1L << 22;

        internal static void Multiply(int M, int N, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, bool accumulate,
            Epilogue epi = default)
        {
            if (Parallelism.IntraOpThreads > 1 && (long)M * N * K >= ParallelThreshold)
            {
                // Two halves: split the columns (at a 48-strip boundary) when B is the larger operand, so each core reads half
                // of it; else the rows (a multiple of 8), so each reads half of the weights.
                int n1 = N / 48 / 2 * 48, m1 = M / 16 * 8;
                var job = new Halves { M = M, N = N, K = K, A = a, ARow = aRow, ACol = aCol, B = b, Ldb = ldb, C = c, Ldc = ldc, Accumulate = accumulate, Epi = epi };
                if (N >= M && n1 >= 48) job.N1 = n1;
                else if (m1 >= 8) job.M1 = m1;
                if ((job.N1 > 0 || job.M1 > 0) && PairWorker.TryRun(&RunHalf, &job)) return;
            }
            MultiplySerial(M, N, K, a, aRow, aCol, b, ldb, c, ldc, accumulate, epi);
        }

        /// <summary>A product split in two: the first N1 columns (or M1 rows) and the rest.</summary>
        private struct Halves
        {
            public int M, N, K, ARow, ACol, Ldb, Ldc, N1, M1;
            public float* A, B, C;
            public bool Accumulate;
            public Epilogue Epi;
        }

        private static void RunHalf(void* args, int half)
        {
            ref Halves j = ref *(Halves*)args;
            if (j.N1 > 0)
            {
                int n0 = half == 0 ? 0 : j.N1, n = half == 0 ? j.N1 : j.N - j.N1;
                MultiplySerial(j.M, n, j.K, j.A, j.ARow, j.ACol, j.B + n0, j.Ldb, j.C + n0, j.Ldc, j.Accumulate, j.Epi);
            }
            else
            {
                int m0 = half == 0 ? 0 : j.M1, m = half == 0 ? j.M1 : j.M - j.M1;
                MultiplySerial(m, j.N, j.K, j.A + (long)m0 * j.ARow, j.ARow, j.ACol, j.B, j.Ldb, j.C + (long)m0 * j.Ldc, j.Ldc, j.Accumulate, j.Epi.From(m0));
            }
        }

        [ThreadStatic] private static float[]? t_transposed;

        /// <summary>C[M, N] (+)= A[M, K] · Bᵀ with B [N, K] (row stride ldb): B transposed into thread-static scratch [K, N], then <see cref="Multiply"/>.</summary>
        internal static void MultiplyTransposingB(int M, int N, int K, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        {
            float* bt = AlignedMemory.Scratch(ref t_transposed, (long)N * K);
            // 8×8 blocks: each reads 8 rows of B along k and writes 8 rows of Bᵀ along n, both a cache line at a time.
            for (int n0 = 0; n0 < N; n0 += 8)
            {
                int nn = Math.Min(8, N - n0);
                for (int k0 = 0; k0 < K; k0 += 8)
                {
                    int kk = Math.Min(8, K - k0);
                    for (int i = 0; i < nn; i++)
                    {
                        float* src = b + (long)(n0 + i) * ldb + k0;
                        float* dst = bt + (long)k0 * N + n0 + i;
                        for (int k = 0; k < kk; k++) dst[(long)k * N] = src[k];
                    }
                }
            }
            Multiply(M, N, K, a, lda, 1, bt, N, c, ldc, accumulate);
        }

        /// <summary>
        /// Up to this many columns past the last 48-strip are dot products inside that strip's pass (see
        /// <see cref="Strip48Dots"/>) instead of a zero-padded 16-wide panel, which would spend 16 lanes on each.
        /// </summary>
        internal const int DotTailMax = 4;

        /// <summary>With a dot-product tail and at most this many 48-strips (N ≤ 244: ResNet's 14×14 and 7×7 outputs), all strips run in one pass over A.</summary>
        private const int TogetherMax = 4;

        [ThreadStatic] private static float[]? t_dots;

        /// <summary>Floats of B per K block in <see cref="Strip48Dots"/> (640 KB).</summary>
        private const int DotsBlockFloats = 160 * 1024;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static void MultiplySerial(int M, int N, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, bool accumulate,
            Epilogue epi = default)
        {
            int w = N % 48;
            if (aCol == 1 && w >= 1 && w <= DotTailMax && N >= 48)
            {
                // N = 48·s + w with a few w (ResNet-18's 7×7 = 49, 14×14 = 196 output pixels): the w columns of B are packed
                // transposed, [w][K], and each of the last strip's 8-row tiles also takes their dot products along k while its
                // A rows are in L1, so A is read once, not once more for a panel of 16 lanes of which w are real.
                float* bt = AlignedMemory.Scratch(ref t_dots, (long)w * K);
                int n0 = N - w;
                for (int k = 0; k < K; k++)
                {
                    float* src = b + (long)k * ldb + n0;
                    for (int j = 0; j < w; j++) bt[(long)j * K + k] = src[j];
                }
                // Up to TogetherMax strips: each 8-row tile of A (one K block) serves all of them, so A, the larger
                // operand here (the weights, from memory at batch 1), is read once, in long runs per row (few C reloads, A
                // streamed row by row). More strips: strip by strip, the dots in the last one's pass.
                int strips = n0 / 48;
                int first = strips <= TogetherMax ? 0 : n0 - 48;
                for (int n1 = 0; n1 < first; n1 += 48) Strip48(M, K, a, aRow, aCol, b + n1, ldb, c + n1, ldc, accumulate);
                Strip48Dots(M, K, a, aRow, b + first, ldb, c + first, ldc, accumulate, bt, w, (n0 - first) / 48);
                epi.Apply(c, ldc, M, 0, N); // the dot-product path stores without it
                return;
            }
            int n = 0;
            for (; n + 48 <= N; n += 48) Strip(48, M, K, a, aRow, aCol, new StridedRows(b + n, ldb), c + n, ldc, accumulate, epi);
            for (; n + 16 <= N; n += 16) Strip(16, M, K, a, aRow, aCol, new StridedRows(b + n, ldb), c + n, ldc, accumulate, epi);
            if (n < N)
            {
                Tail(M, N - n, K, a, aRow, aCol, b + n, ldb, c + n, ldc, accumulate);
                epi.Apply(c, ldc, M, n, N - n);
            }
        }

        /// <summary>The last w &lt; 16 columns: B's columns copied into a zero-padded [K, 16] panel, C computed into [M, 16].</summary>
        private static void Tail(int M, int w, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, bool accumulate)
        {
            float* pb = AlignedMemory.Scratch(ref t_panel, (long)K * 16 + (long)M * 16), pc = pb + (long)K * 16;
            for (int k = 0; k < K; k++)
            {
                float* src = b + (long)k * ldb, dst = pb + (long)k * 16;
                int j = 0;
                for (; j < w; j++) dst[j] = src[j];
                for (; j < 16; j++) dst[j] = 0f;
            }
            Strip16(M, K, a, aRow, aCol, pb, 16, pc, 16, accumulate: false);
            for (int m = 0; m < M; m++)
            {
                float* src = pc + (long)m * 16, dst = c + (long)m * ldc;
                if (accumulate) for (int j = 0; j < w; j++) dst[j] += src[j];
                else for (int j = 0; j < w; j++) dst[j] = src[j];
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Fmadd(Vector512<float> x, Vector512<float> y, Vector512<float> s) =>
            Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(x, y, s) : Vector512.Add(Vector512.Multiply(x, y), s);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(float* p, Vector512<float> v, bool add)
        {
            if (add) v = Vector512.Add(v, Vector512.Load(p));
            v.Store(p);
        }

        /// <summary><see cref="Put"/>, then row r's bias and the activation (the last K block of a product with an <see cref="Epilogue"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void PutE(float* p, Vector512<float> v, bool add, Epilogue e, int r)
        {
            if (add) v = Vector512.Add(v, Vector512.Load(p));
            if (e.Scale != null) v = Vector512.FusedMultiplyAdd(v, Vector512.Create(e.Scale[r]), Vector512.Create(e.Bias[r]));
            else if (e.Bias != null) v += Vector512.Create(e.Bias[r]);
            Depthwise.Epilogue(v, e.Act).Store(p);
        }

        private static void PutRow(float* p, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, bool add, Epilogue e, int r)
        {
            PutE(p, v0, add, e, r); PutE(p + 16, v1, add, e, r); PutE(p + 32, v2, add, e, r);
        }

        private static void Strip48(int M, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, bool accumulate) =>
            Strip(48, M, K, a, aRow, aCol, new StridedRows(b, ldb), c, ldc, accumulate);

        private static void Strip16(int M, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, bool accumulate) =>
            Strip(16, M, K, a, aRow, aCol, new StridedRows(b, ldb), c, ldc, accumulate);

        /// <summary>
        /// One strip of <paramref name="width"/> (48 or 16) columns: K blocks outside, 8-row tiles (then single rows) inside.
        /// <paramref name="rows"/> says where each row k of B's strip starts (a struct, so each addressing is its own
        /// compiled copy with the lookup inlined): <see cref="StridedRows"/> for a matrix, <see cref="OffsetRows"/> for
        /// <see cref="DirectConv"/>'s rows read straight from the padded input.
        /// </summary>
        internal static void Strip<TRows>(int width, int M, int K, float* a, int aRow, int aCol, TRows rows, float* c, int ldc, bool accumulate,
            Epilogue epi = default) where TRows : struct, IRows<TRows>
        {
            for (int k0 = 0; k0 < K; k0 += KBlock)
            {
                int kc = Math.Min(KBlock, K - k0);
                bool add = accumulate || k0 > 0;
                Epilogue e = k0 + KBlock >= K ? epi : default; // the last K block's stores finish C
                TRows bk = rows.From(k0);
                float* ak = a + (long)k0 * aCol;
                int m = 0;
                if (width == 48)
                {
                    for (; m + 8 <= M; m += 8) Tile8x48(kc, ak + (long)m * aRow, aRow, aCol, bk, c + (long)m * ldc, ldc, add, e.From(m));
                    for (; m < M; m++) Tile1x48(kc, ak + (long)m * aRow, aCol, bk, c + (long)m * ldc, add, e.From(m));
                }
                else
                {
                    for (; m + 8 <= M; m += 8) Tile8x16(kc, ak + (long)m * aRow, aRow, aCol, bk, c + (long)m * ldc, ldc, add, e.From(m));
                    for (; m < M; m++) Tile1x16(kc, ak + (long)m * aRow, aCol, bk, c + (long)m * ldc, add, e.From(m));
                }
            }
        }

        /// <summary>
        /// <see cref="Strip48"/> (A with unit column stride) whose tiles also compute C's <paramref name="w"/> columns right of
        /// the strip: C[m, 48 + j] = Σ_k A[m, k] · bt[j, k], bt being those columns of B transposed ([w][K]).
        /// </summary>
        private static void Strip48Dots(int M, int K, float* a, int aRow, float* b, int ldb, float* c, int ldc, bool accumulate, float* bt, int w, int strips)
        {
            // K blocks of B's ~640 KB (L2-sized; at least KBlock rows): each 8-row tile then reads its A rows in long runs
            // (at batch 1 the weights come from memory, and long runs are what the prefetchers stream well) and C is
            // reloaded K / kBlock times. Measured (--gemm ... --cold): 512x49x4608 195 -> 215 GFLOP/s against K whole,
            // 256x196x2304 201 -> 219 against 128-row blocks.
            int right = 48 * strips, kBlock = Math.Max(KBlock, Math.Min(K, DotsBlockFloats / (right + w) / KBlock * KBlock));
            for (int k0 = 0; k0 < K; k0 += kBlock)
            {
                int kc = Math.Min(kBlock, K - k0);
                bool add = accumulate || k0 > 0;
                float* bk = b + (long)k0 * ldb, ak = a + k0, btk = bt + k0;
                int m = 0;
                for (; m + 8 <= M; m += 8)
                {
                    for (int j = 0; j < right; j += 48)
                        Tile8x48(kc, ak + (long)m * aRow, aRow, 1, new StridedRows(bk + j, ldb), c + (long)m * ldc + j, ldc, add);
                    Dots8(kc, ak + (long)m * aRow, aRow, btk, K, w, c + (long)m * ldc + right, ldc, add);
                }
                for (; m < M; m++)
                {
                    for (int j = 0; j < right; j += 48)
                        Tile1x48(kc, ak + (long)m * aRow, 1, new StridedRows(bk + j, ldb), c + (long)m * ldc + j, add);
                    Dots1(kc, ak + (long)m * aRow, btk, K, w, c + (long)m * ldc + right, add);
                }
            }
        }

        /// <summary>8 rows of A (contiguous along k) times w packed columns, over kc values of k: into (or onto) C.</summary>
        internal static void Dots8(int kc, float* a, int aRow, float* bt, int ldbt, int w, float* c, int ldc, bool add)
        {
            float* a0 = a, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow, a4 = a3 + aRow, a5 = a4 + aRow, a6 = a5 + aRow, a7 = a6 + aRow;
            for (int j = 0; j < w; j++)
            {
                float* bj = bt + (long)j * ldbt;
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                int k = 0;
                for (; k + 16 <= kc; k += 16)
                {
                    var y = Vector512.Load(bj + k);
                    s0 = Fmadd(Vector512.Load(a0 + k), y, s0); s1 = Fmadd(Vector512.Load(a1 + k), y, s1);
                    s2 = Fmadd(Vector512.Load(a2 + k), y, s2); s3 = Fmadd(Vector512.Load(a3 + k), y, s3);
                    s4 = Fmadd(Vector512.Load(a4 + k), y, s4); s5 = Fmadd(Vector512.Load(a5 + k), y, s5);
                    s6 = Fmadd(Vector512.Load(a6 + k), y, s6); s7 = Fmadd(Vector512.Load(a7 + k), y, s7);
                }
                float r0 = Vector512.Sum(s0), r1 = Vector512.Sum(s1), r2 = Vector512.Sum(s2), r3 = Vector512.Sum(s3);
                float r4 = Vector512.Sum(s4), r5 = Vector512.Sum(s5), r6 = Vector512.Sum(s6), r7 = Vector512.Sum(s7);
                for (; k < kc; k++)
                {
                    float y = bj[k];
                    r0 += a0[k] * y; r1 += a1[k] * y; r2 += a2[k] * y; r3 += a3[k] * y;
                    r4 += a4[k] * y; r5 += a5[k] * y; r6 += a6[k] * y; r7 += a7[k] * y;
                }
                float* cj = c + j;
                if (add)
                {
                    cj[0] += r0; cj[ldc] += r1; cj[2 * ldc] += r2; cj[3 * ldc] += r3;
                    cj[4 * ldc] += r4; cj[5 * ldc] += r5; cj[6 * ldc] += r6; cj[7 * ldc] += r7;
                }
                else
                {
                    cj[0] = r0; cj[ldc] = r1; cj[2 * ldc] = r2; cj[3 * ldc] = r3;
                    cj[4 * ldc] = r4; cj[5 * ldc] = r5; cj[6 * ldc] = r6; cj[7 * ldc] = r7;
                }
            }
        }

        internal static void Dots1(int kc, float* a, float* bt, int ldbt, int w, float* c, bool add)
        {
            for (int j = 0; j < w; j++)
            {
                float* bj = bt + (long)j * ldbt;
                Vector512<float> s0 = default;
                int k = 0;
                for (; k + 16 <= kc; k += 16) s0 = Fmadd(Vector512.Load(a + k), Vector512.Load(bj + k), s0);
                float r = Vector512.Sum(s0);
                for (; k < kc; k++) r += a[k] * bj[k];
                c[j] = add ? c[j] + r : r;
            }
        }


        private static void Tile8x48<TRows>(int kc, float* a, int aRow, int aCol, TRows b, float* c, int ldc, bool add, Epilogue e = default) where TRows : struct, IRows<TRows>
        {
            float* a0 = a, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow, a4 = a3 + aRow, a5 = a4 + aRow, a6 = a5 + aRow, a7 = a6 + aRow;
            Vector512<float> s00 = default, s01 = default, s02 = default, s10 = default, s11 = default, s12 = default;
            Vector512<float> s20 = default, s21 = default, s22 = default, s30 = default, s31 = default, s32 = default;
            Vector512<float> s40 = default, s41 = default, s42 = default, s50 = default, s51 = default, s52 = default;
            Vector512<float> s60 = default, s61 = default, s62 = default, s70 = default, s71 = default, s72 = default;
            long ak = 0, ac = aCol;
            float* bp = b.Row(0);
            for (int k = 0; k < kc; k++, ak += ac, bp = b.Next(bp, k - 1))
            {
                var b0 = Vector512.Load(bp);
                var b1 = Vector512.Load(bp + 16);
                var b2 = Vector512.Load(bp + 32);
                var x = Vector512.Create(a0[ak]);
                s00 = Fmadd(x, b0, s00); s01 = Fmadd(x, b1, s01); s02 = Fmadd(x, b2, s02);
                x = Vector512.Create(a1[ak]);
                s10 = Fmadd(x, b0, s10); s11 = Fmadd(x, b1, s11); s12 = Fmadd(x, b2, s12);
                x = Vector512.Create(a2[ak]);
                s20 = Fmadd(x, b0, s20); s21 = Fmadd(x, b1, s21); s22 = Fmadd(x, b2, s22);
                x = Vector512.Create(a3[ak]);
                s30 = Fmadd(x, b0, s30); s31 = Fmadd(x, b1, s31); s32 = Fmadd(x, b2, s32);
                x = Vector512.Create(a4[ak]);
                s40 = Fmadd(x, b0, s40); s41 = Fmadd(x, b1, s41); s42 = Fmadd(x, b2, s42);
                x = Vector512.Create(a5[ak]);
                s50 = Fmadd(x, b0, s50); s51 = Fmadd(x, b1, s51); s52 = Fmadd(x, b2, s52);
                x = Vector512.Create(a6[ak]);
                s60 = Fmadd(x, b0, s60); s61 = Fmadd(x, b1, s61); s62 = Fmadd(x, b2, s62);
                x = Vector512.Create(a7[ak]);
                s70 = Fmadd(x, b0, s70); s71 = Fmadd(x, b1, s71); s72 = Fmadd(x, b2, s72);
            }
            if (e.Any)
            {
                PutRow(c, s00, s01, s02, add, e, 0); PutRow(c + ldc, s10, s11, s12, add, e, 1);
                PutRow(c + 2 * ldc, s20, s21, s22, add, e, 2); PutRow(c + 3 * ldc, s30, s31, s32, add, e, 3);
                PutRow(c + 4 * ldc, s40, s41, s42, add, e, 4); PutRow(c + 5 * ldc, s50, s51, s52, add, e, 5);
                PutRow(c + 6 * ldc, s60, s61, s62, add, e, 6); PutRow(c + 7 * ldc, s70, s71, s72, add, e, 7);
                return;
            }
            float* c0 = c;
            Put(c0, s00, add); Put(c0 + 16, s01, add); Put(c0 + 32, s02, add); c0 += ldc;
            Put(c0, s10, add); Put(c0 + 16, s11, add); Put(c0 + 32, s12, add); c0 += ldc;
            Put(c0, s20, add); Put(c0 + 16, s21, add); Put(c0 + 32, s22, add); c0 += ldc;
            Put(c0, s30, add); Put(c0 + 16, s31, add); Put(c0 + 32, s32, add); c0 += ldc;
            Put(c0, s40, add); Put(c0 + 16, s41, add); Put(c0 + 32, s42, add); c0 += ldc;
            Put(c0, s50, add); Put(c0 + 16, s51, add); Put(c0 + 32, s52, add); c0 += ldc;
            Put(c0, s60, add); Put(c0 + 16, s61, add); Put(c0 + 32, s62, add); c0 += ldc;
            Put(c0, s70, add); Put(c0 + 16, s71, add); Put(c0 + 32, s72, add);
        }

        private static void Tile1x48<TRows>(int kc, float* a, int aCol, TRows b, float* c, bool add, Epilogue e = default) where TRows : struct, IRows<TRows>
        {
            Vector512<float> s0 = default, s1 = default, s2 = default;
            long ak = 0, ac = aCol;
            float* bp = b.Row(0);
            for (int k = 0; k < kc; k++, ak += ac, bp = b.Next(bp, k - 1))
            {
                var x = Vector512.Create(a[ak]);
                s0 = Fmadd(x, Vector512.Load(bp), s0); s1 = Fmadd(x, Vector512.Load(bp + 16), s1); s2 = Fmadd(x, Vector512.Load(bp + 32), s2);
            }
            if (e.Any) { PutRow(c, s0, s1, s2, add, e, 0); return; }
            Put(c, s0, add); Put(c + 16, s1, add); Put(c + 32, s2, add);
        }

        private static void Tile8x16<TRows>(int kc, float* a, int aRow, int aCol, TRows b, float* c, int ldc, bool add, Epilogue e = default) where TRows : struct, IRows<TRows>
        {
            float* a0 = a, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow, a4 = a3 + aRow, a5 = a4 + aRow, a6 = a5 + aRow, a7 = a6 + aRow;
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            long ak = 0, ac = aCol;
            float* bp = b.Row(0);
            for (int k = 0; k < kc; k++, ak += ac, bp = b.Next(bp, k - 1))
            {
                var b0 = Vector512.Load(bp);
                s0 = Fmadd(Vector512.Create(a0[ak]), b0, s0); s1 = Fmadd(Vector512.Create(a1[ak]), b0, s1);
                s2 = Fmadd(Vector512.Create(a2[ak]), b0, s2); s3 = Fmadd(Vector512.Create(a3[ak]), b0, s3);
                s4 = Fmadd(Vector512.Create(a4[ak]), b0, s4); s5 = Fmadd(Vector512.Create(a5[ak]), b0, s5);
                s6 = Fmadd(Vector512.Create(a6[ak]), b0, s6); s7 = Fmadd(Vector512.Create(a7[ak]), b0, s7);
            }
            if (e.Any)
            {
                PutE(c, s0, add, e, 0); PutE(c + ldc, s1, add, e, 1); PutE(c + 2 * ldc, s2, add, e, 2); PutE(c + 3 * ldc, s3, add, e, 3);
                PutE(c + 4 * ldc, s4, add, e, 4); PutE(c + 5 * ldc, s5, add, e, 5); PutE(c + 6 * ldc, s6, add, e, 6); PutE(c + 7 * ldc, s7, add, e, 7);
                return;
            }
            float* c0 = c;
            Put(c0, s0, add); c0 += ldc; Put(c0, s1, add); c0 += ldc; Put(c0, s2, add); c0 += ldc; Put(c0, s3, add); c0 += ldc;
            Put(c0, s4, add); c0 += ldc; Put(c0, s5, add); c0 += ldc; Put(c0, s6, add); c0 += ldc; Put(c0, s7, add);
        }

        private static void Tile1x16<TRows>(int kc, float* a, int aCol, TRows b, float* c, bool add, Epilogue e = default) where TRows : struct, IRows<TRows>
        {
            Vector512<float> s0 = default;
            long ak = 0, ac = aCol;
            float* bp = b.Row(0);
            for (int k = 0; k < kc; k++, ak += ac, bp = b.Next(bp, k - 1)) s0 = Fmadd(Vector512.Create(a[ak]), Vector512.Load(bp), s0);
            if (e.Any) { PutE(c, s0, add, e, 0); return; }
            Put(c, s0, add);
        }
    }
}

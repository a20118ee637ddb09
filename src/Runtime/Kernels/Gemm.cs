using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Single-precision matrix-multiply micro-kernels on <see cref="Vector256{T}"/> with FMA.
    /// Generated code calls them with constant sizes; with <see cref="MethodImplOptions.AggressiveInlining"/>
    /// the JIT folds the tail branches away for shapes that don't need them.
    /// Every kernel has a scalar reference in the tests.
    /// </summary>
    public static unsafe class Gemm
    {
        private const int V = 8; // floats in a Vector256

        /// <summary>
        /// Whether the kernels use their <see cref="Vector512{T}"/> tiles: true where the hardware accelerates them, unless the
        /// AppContext switch <c>CnnGen.DisableVector512</c> (or the environment variable <c>CNNGEN_DISABLE_VECTOR512=1</c>)
        /// forces the Vector256 baseline (tests run both). A static readonly bool, so the JIT folds the branch away.
        /// </summary>
        public static readonly bool UseVector512 = Vector512.IsHardwareAccelerated
            && !(AppContext.TryGetSwitch("CnnGen.DisableVector512", out bool off) && off)
            && Environment.GetEnvironmentVariable("CNNGEN_DISABLE_VECTOR512") != "1";

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Fmadd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
            Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : Vector512.Add(Vector512.Multiply(a, b), c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* p, Vector512<float> v, bool accumulate)
        {
            if (accumulate) v = Vector512.Add(v, Vector512.Load(p));
            v.Store(p);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Fmadd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
            Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : Vector256.Add(Vector256.Multiply(a, b), c);

        /// <summary>
        /// C[m, n] (+)= Σ_k A(m, k) · B[k, n], where A(m, k) = a[m·aRow + k·aCol]. With aRow = K, aCol = 1 this is
        /// C = A·B; with aRow = 1, aCol = M it is C = Aᵀ·B for A stored [K, M]. B is [K, N] with row stride ldb;
        /// C is [M, N] with row stride ldc. When <paramref name="accumulate"/> is false C is overwritten.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void MultiplyNN(int M, int N, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, bool accumulate)
        {
            // Large products (ResNet-class convolutions) run cache-blocked; the sizes are constants at generated call sites, so
            // the JIT keeps one of the two paths.
            if (GemmBlocked.Applies(M, N, K)) GemmBlocked.Multiply(M, N, K, a, aRow, aCol, b, ldb, c, ldc, accumulate);
            else MultiplyNNPlain(M, N, K, a, aRow, aCol, b, ldb, c, ldc, accumulate);
        }

        /// <summary>
        /// C = act(A·B + bias[row]) (C overwritten; <paramref name="bias"/> may be null; <paramref name="act"/> 0 none, 1 ReLU,
        /// 2 SiLU): a 1×1 convolution with its (folded) bias and activation. On the blocked kernel they are applied in the
        /// product's last stores, so the output is written once instead of written, read and written again by a bias pass;
        /// elsewhere the pass runs after the product. The same bits either way.
        /// </summary>
        public static void MultiplyNNBiasAct(int M, int N, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, float* bias, int act) =>
            MultiplyNNScaleAct(M, N, K, a, aRow, aCol, b, ldb, c, ldc, null, bias, act);

        /// <summary>
        /// C = act(A·B·scale[row] + shift[row]) (one fused multiply-add per element; <paramref name="scale"/> null: the
        /// shift is a plain bias, as <see cref="MultiplyNNBiasAct"/>): a 1×1 convolution with the batch norm after it applied
        /// in the product's stores. With a scale the shift must not be null.
        /// </summary>
        public static void MultiplyNNScaleAct(int M, int N, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, float* scale, float* shift, int act)
        {
            if (act is < DirectConv.None or > DirectConv.Silu) throw new ArgumentOutOfRangeException(nameof(act), act, "0 none, 1 ReLU, 2 SiLU");
            if (scale != null && shift == null) throw new ArgumentNullException(nameof(shift), "a scale needs a shift");
            var epi = new GemmBlocked.Epilogue(shift, act, scale);
            if (GemmBlocked.Applies(M, N, K)) GemmBlocked.Multiply(M, N, K, a, aRow, aCol, b, ldb, c, ldc, false, epi);
            else
            {
                MultiplyNNPlain(M, N, K, a, aRow, aCol, b, ldb, c, ldc, false);
                epi.Apply(c, ldc, M, 0, N);
            }
        }

        /// <summary>
        /// A 1×1 convolution (stride 1, no padding) of <paramref name="n"/> samples: y[s] = act(w[M, K] · x[s][K, N] + bias)
        /// per sample s, through <see cref="MultiplyNNBiasAct"/> (bias and activation in the product's last stores).
        /// </summary>
        public static void Conv1x1(int n, int M, int N, int K, float* w, float* x, float* y, float* bias, int act) =>
            Conv1x1(n, M, N, K, w, x, y, null, bias, act);

        /// <summary><see cref="Conv1x1(int, int, int, int, float*, float*, float*, float*, int)"/> with a per-channel scale (<see cref="MultiplyNNScaleAct"/>).</summary>
        public static void Conv1x1(int n, int M, int N, int K, float* w, float* x, float* y, float* scale, float* shift, int act)
        {
            for (int s = 0; s < n; s++) MultiplyNNScaleAct(M, N, K, w, K, 1, x + (long)s * K * N, N, y + (long)s * M * N, N, scale, shift, act);
        }

        /// <summary>MultiplyNN without cache blocking: 4-row tiles over the whole K (small products; the blocked kernel's reference in the bench).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void MultiplyNNPlain(int M, int N, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, bool accumulate)
        {
            if (N == 1 && aCol == 1 && ldb == 1 && K >= 32 && UseVector512)
            {
                MatVec(M, K, a, aRow, b, c, ldc, accumulate);
                return;
            }
            int m = 0;
            for (; m + 4 <= M; m += 4)
            {
                Rows4(m, N, K, a, aRow, aCol, b, ldb, c, ldc, accumulate);
            }
            for (; m < M; m++)
            {
                Rows1(m, N, K, a, aRow, aCol, b, ldb, c, ldc, accumulate);
            }
        }

        /// <summary>
        /// C[m, 0] (+)= A[m, :] · b for one column (a squeeze-and-excitation gate's 1 × 1 convolutions at batch 1): each row a
        /// dot product along K, 8 rows at a time, on the blocked kernel's dot-product tiles (<see cref="GemmBlocked.Dots8"/>,
        /// with b as its one packed column). The column loop of <see cref="Rows4"/> would take these one scalar multiply-add at a time.
        /// </summary>
        private static void MatVec(int M, int K, float* a, int aRow, float* b, float* c, int ldc, bool accumulate)
        {
            int m = 0;
            for (; m + 8 <= M; m += 8) GemmBlocked.Dots8(K, a + (long)m * aRow, aRow, b, K, 1, c + (long)m * ldc, ldc, accumulate);
            for (; m < M; m++) GemmBlocked.Dots1(K, a + (long)m * aRow, b, K, 1, c + (long)m * ldc, accumulate);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Rows4(int m, int N, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, bool accumulate)
        {
            float* a0 = a + (long)m * aRow, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow;
            float* c0 = c + (long)m * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
            int n = 0;
            if (UseVector512)
            {
                // 4 rows × 48 columns on Vector512: 12 accumulators, twice the work per instruction.
                for (; n + 48 <= N; n += 48)
                {
                    Vector512<float> s00 = default, s01 = default, s02 = default, s10 = default, s11 = default, s12 = default;
                    Vector512<float> s20 = default, s21 = default, s22 = default, s30 = default, s31 = default, s32 = default;
                    float* bp = b + n;
                    for (int k = 0; k < K; k++, bp += ldb)
                    {
                        var b0 = Vector512.Load(bp);
                        var b1 = Vector512.Load(bp + 16);
                        var b2 = Vector512.Load(bp + 32);
                        long ak = (long)k * aCol;
                        var x = Vector512.Create(a0[ak]);
                        s00 = Fmadd(x, b0, s00); s01 = Fmadd(x, b1, s01); s02 = Fmadd(x, b2, s02);
                        x = Vector512.Create(a1[ak]);
                        s10 = Fmadd(x, b0, s10); s11 = Fmadd(x, b1, s11); s12 = Fmadd(x, b2, s12);
                        x = Vector512.Create(a2[ak]);
                        s20 = Fmadd(x, b0, s20); s21 = Fmadd(x, b1, s21); s22 = Fmadd(x, b2, s22);
                        x = Vector512.Create(a3[ak]);
                        s30 = Fmadd(x, b0, s30); s31 = Fmadd(x, b1, s31); s32 = Fmadd(x, b2, s32);
                    }
                    Store(c0 + n, s00, accumulate); Store(c0 + n + 16, s01, accumulate); Store(c0 + n + 32, s02, accumulate);
                    Store(c1 + n, s10, accumulate); Store(c1 + n + 16, s11, accumulate); Store(c1 + n + 32, s12, accumulate);
                    Store(c2 + n, s20, accumulate); Store(c2 + n + 16, s21, accumulate); Store(c2 + n + 32, s22, accumulate);
                    Store(c3 + n, s30, accumulate); Store(c3 + n + 16, s31, accumulate); Store(c3 + n + 32, s32, accumulate);
                }
                // 4 rows × 32 and 4 rows × 16 for what is left of the row (padded batched convolutions end here).
                for (; n + 32 <= N; n += 32)
                {
                    Vector512<float> s00 = default, s01 = default, s10 = default, s11 = default;
                    Vector512<float> s20 = default, s21 = default, s30 = default, s31 = default;
                    float* bp = b + n;
                    for (int k = 0; k < K; k++, bp += ldb)
                    {
                        var b0 = Vector512.Load(bp);
                        var b1 = Vector512.Load(bp + 16);
                        long ak = (long)k * aCol;
                        var x = Vector512.Create(a0[ak]);
                        s00 = Fmadd(x, b0, s00); s01 = Fmadd(x, b1, s01);
                        x = Vector512.Create(a1[ak]);
                        s10 = Fmadd(x, b0, s10); s11 = Fmadd(x, b1, s11);
                        x = Vector512.Create(a2[ak]);
                        s20 = Fmadd(x, b0, s20); s21 = Fmadd(x, b1, s21);
                        x = Vector512.Create(a3[ak]);
                        s30 = Fmadd(x, b0, s30); s31 = Fmadd(x, b1, s31);
                    }
                    Store(c0 + n, s00, accumulate); Store(c0 + n + 16, s01, accumulate);
                    Store(c1 + n, s10, accumulate); Store(c1 + n + 16, s11, accumulate);
                    Store(c2 + n, s20, accumulate); Store(c2 + n + 16, s21, accumulate);
                    Store(c3 + n, s30, accumulate); Store(c3 + n + 16, s31, accumulate);
                }
                for (; n + 16 <= N; n += 16)
                {
                    Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                    float* bp = b + n;
                    for (int k = 0; k < K; k++, bp += ldb)
                    {
                        var b0 = Vector512.Load(bp);
                        long ak = (long)k * aCol;
                        s0 = Fmadd(Vector512.Create(a0[ak]), b0, s0);
                        s1 = Fmadd(Vector512.Create(a1[ak]), b0, s1);
                        s2 = Fmadd(Vector512.Create(a2[ak]), b0, s2);
                        s3 = Fmadd(Vector512.Create(a3[ak]), b0, s3);
                    }
                    Store(c0 + n, s0, accumulate); Store(c1 + n, s1, accumulate); Store(c2 + n, s2, accumulate); Store(c3 + n, s3, accumulate);
                }
            }
            // 4 rows × 24 columns: 12 accumulators, 3 loads + 4 broadcasts per 12 FMAs.
            for (; n + 3 * V <= N; n += 3 * V)
            {
                Vector256<float> s00 = default, s01 = default, s02 = default, s10 = default, s11 = default, s12 = default;
                Vector256<float> s20 = default, s21 = default, s22 = default, s30 = default, s31 = default, s32 = default;
                float* bp = b + n;
                for (int k = 0; k < K; k++, bp += ldb)
                {
                    var b0 = Vector256.Load(bp);
                    var b1 = Vector256.Load(bp + V);
                    var b2 = Vector256.Load(bp + 2 * V);
                    long ak = (long)k * aCol;
                    var x = Vector256.Create(a0[ak]);
                    s00 = Fmadd(x, b0, s00); s01 = Fmadd(x, b1, s01); s02 = Fmadd(x, b2, s02);
                    x = Vector256.Create(a1[ak]);
                    s10 = Fmadd(x, b0, s10); s11 = Fmadd(x, b1, s11); s12 = Fmadd(x, b2, s12);
                    x = Vector256.Create(a2[ak]);
                    s20 = Fmadd(x, b0, s20); s21 = Fmadd(x, b1, s21); s22 = Fmadd(x, b2, s22);
                    x = Vector256.Create(a3[ak]);
                    s30 = Fmadd(x, b0, s30); s31 = Fmadd(x, b1, s31); s32 = Fmadd(x, b2, s32);
                }
                Store(c0 + n, s00, accumulate); Store(c0 + n + V, s01, accumulate); Store(c0 + n + 2 * V, s02, accumulate);
                Store(c1 + n, s10, accumulate); Store(c1 + n + V, s11, accumulate); Store(c1 + n + 2 * V, s12, accumulate);
                Store(c2 + n, s20, accumulate); Store(c2 + n + V, s21, accumulate); Store(c2 + n + 2 * V, s22, accumulate);
                Store(c3 + n, s30, accumulate); Store(c3 + n + V, s31, accumulate); Store(c3 + n + 2 * V, s32, accumulate);
            }
            for (; n + V <= N; n += V)
            {
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                float* bp = b + n;
                for (int k = 0; k < K; k++, bp += ldb)
                {
                    var b0 = Vector256.Load(bp);
                    long ak = (long)k * aCol;
                    s0 = Fmadd(Vector256.Create(a0[ak]), b0, s0);
                    s1 = Fmadd(Vector256.Create(a1[ak]), b0, s1);
                    s2 = Fmadd(Vector256.Create(a2[ak]), b0, s2);
                    s3 = Fmadd(Vector256.Create(a3[ak]), b0, s3);
                }
                Store(c0 + n, s0, accumulate); Store(c1 + n, s1, accumulate); Store(c2 + n, s2, accumulate); Store(c3 + n, s3, accumulate);
            }
            for (; n < N; n++)
            {
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                float* bp = b + n;
                for (int k = 0; k < K; k++, bp += ldb)
                {
                    long ak = (long)k * aCol;
                    float bv = *bp;
                    s0 += a0[ak] * bv; s1 += a1[ak] * bv; s2 += a2[ak] * bv; s3 += a3[ak] * bv;
                }
                if (accumulate) { c0[n] += s0; c1[n] += s1; c2[n] += s2; c3[n] += s3; }
                else { c0[n] = s0; c1[n] = s1; c2[n] = s2; c3[n] = s3; }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Rows1(int m, int N, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, bool accumulate)
        {
            float* a0 = a + (long)m * aRow;
            float* c0 = c + (long)m * ldc;
            int n = 0;
            for (; n + 4 * V <= N; n += 4 * V)
            {
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                float* bp = b + n;
                for (int k = 0; k < K; k++, bp += ldb)
                {
                    var x = Vector256.Create(a0[(long)k * aCol]);
                    s0 = Fmadd(x, Vector256.Load(bp), s0);
                    s1 = Fmadd(x, Vector256.Load(bp + V), s1);
                    s2 = Fmadd(x, Vector256.Load(bp + 2 * V), s2);
                    s3 = Fmadd(x, Vector256.Load(bp + 3 * V), s3);
                }
                Store(c0 + n, s0, accumulate); Store(c0 + n + V, s1, accumulate); Store(c0 + n + 2 * V, s2, accumulate); Store(c0 + n + 3 * V, s3, accumulate);
            }
            for (; n + V <= N; n += V)
            {
                Vector256<float> s0 = default;
                float* bp = b + n;
                for (int k = 0; k < K; k++, bp += ldb) s0 = Fmadd(Vector256.Create(a0[(long)k * aCol]), Vector256.Load(bp), s0);
                Store(c0 + n, s0, accumulate);
            }
            for (; n < N; n++)
            {
                float s0 = 0;
                float* bp = b + n;
                for (int k = 0; k < K; k++, bp += ldb) s0 += a0[(long)k * aCol] * *bp;
                if (accumulate) c0[n] += s0; else c0[n] = s0;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* p, Vector256<float> v, bool accumulate)
        {
            if (accumulate) v = Vector256.Add(v, Vector256.Load(p));
            v.Store(p);
        }

        /// <summary>
        /// C[m, n] (+)= Σ_k A[m, k] · B[n, k] (C = A·Bᵀ): dot products along contiguous rows of A [M, K] (row
        /// stride lda) and B [N, K] (row stride ldb). C is [M, N] with row stride ldc.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void MultiplyNT(int M, int N, int K, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        {
            if (M >= 32 && K < 256 && GemmBlocked.Applies(M, N, K)) // Applies: Vector512 only
            {
                // A large weight gradient over few pixels (dW[M, N] += dy[M, K] · colᵀ, N = in channels × taps, K = pixels < 256,
                // ResNet's 14×14 and 7×7 layers, where the dot products below are short): B is transposed once
                // into scratch, [K, N] (N·K floats against M·N·K multiply-adds), and the product runs on the cache-blocked
                // A·B kernel, which keeps its speed when K is small. For many pixels the transpose costs more than it saves.
                GemmBlocked.MultiplyTransposingB(M, N, K, a, lda, b, ldb, c, ldc, accumulate);
                return;
            }
            if (UseVector512 && K >= 64)
            {
                MultiplyNT512(M, N, K, a, lda, b, ldb, c, ldc, accumulate);
                return;
            }
            int m = 0;
            for (; m + 2 <= M; m += 2)
            {
                float* a0 = a + (long)m * lda, a1 = a0 + lda;
                int n = 0;
                for (; n + 4 <= N; n += 4)
                {
                    float* b0 = b + (long)n * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                    Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default;
                    Vector256<float> s10 = default, s11 = default, s12 = default, s13 = default;
                    int k = 0;
                    for (; k + V <= K; k += V)
                    {
                        var x0 = Vector256.Load(a0 + k);
                        var x1 = Vector256.Load(a1 + k);
                        var y = Vector256.Load(b0 + k);
                        s00 = Fmadd(x0, y, s00); s10 = Fmadd(x1, y, s10);
                        y = Vector256.Load(b1 + k);
                        s01 = Fmadd(x0, y, s01); s11 = Fmadd(x1, y, s11);
                        y = Vector256.Load(b2 + k);
                        s02 = Fmadd(x0, y, s02); s12 = Fmadd(x1, y, s12);
                        y = Vector256.Load(b3 + k);
                        s03 = Fmadd(x0, y, s03); s13 = Fmadd(x1, y, s13);
                    }
                    float r00 = Vector256.Sum(s00), r01 = Vector256.Sum(s01), r02 = Vector256.Sum(s02), r03 = Vector256.Sum(s03);
                    float r10 = Vector256.Sum(s10), r11 = Vector256.Sum(s11), r12 = Vector256.Sum(s12), r13 = Vector256.Sum(s13);
                    for (; k < K; k++)
                    {
                        float x0 = a0[k], x1 = a1[k];
                        r00 += x0 * b0[k]; r01 += x0 * b1[k]; r02 += x0 * b2[k]; r03 += x0 * b3[k];
                        r10 += x1 * b0[k]; r11 += x1 * b1[k]; r12 += x1 * b2[k]; r13 += x1 * b3[k];
                    }
                    float* c0 = c + (long)m * ldc + n, c1 = c0 + ldc;
                    if (accumulate)
                    {
                        c0[0] += r00; c0[1] += r01; c0[2] += r02; c0[3] += r03;
                        c1[0] += r10; c1[1] += r11; c1[2] += r12; c1[3] += r13;
                    }
                    else
                    {
                        c0[0] = r00; c0[1] = r01; c0[2] = r02; c0[3] = r03;
                        c1[0] = r10; c1[1] = r11; c1[2] = r12; c1[3] = r13;
                    }
                }
                for (; n < N; n++)
                {
                    float* b0 = b + (long)n * ldb;
                    float r0 = Dot(a0, b0, K), r1 = Dot(a1, b0, K);
                    float* c0 = c + (long)m * ldc + n;
                    if (accumulate) { c0[0] += r0; c0[ldc] += r1; } else { c0[0] = r0; c0[ldc] = r1; }
                }
            }
            for (; m < M; m++)
            {
                float* a0 = a + (long)m * lda;
                int n = 0;
                for (; n + 4 <= N; n += 4)
                {
                    float* b0 = b + (long)n * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                    Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                    int k = 0;
                    for (; k + V <= K; k += V)
                    {
                        var x = Vector256.Load(a0 + k);
                        s0 = Fmadd(x, Vector256.Load(b0 + k), s0);
                        s1 = Fmadd(x, Vector256.Load(b1 + k), s1);
                        s2 = Fmadd(x, Vector256.Load(b2 + k), s2);
                        s3 = Fmadd(x, Vector256.Load(b3 + k), s3);
                    }
                    float r0 = Vector256.Sum(s0), r1 = Vector256.Sum(s1), r2 = Vector256.Sum(s2), r3 = Vector256.Sum(s3);
                    for (; k < K; k++)
                    {
                        float x = a0[k];
                        r0 += x * b0[k]; r1 += x * b1[k]; r2 += x * b2[k]; r3 += x * b3[k];
                    }
                    float* c0 = c + (long)m * ldc + n;
                    if (accumulate) { c0[0] += r0; c0[1] += r1; c0[2] += r2; c0[3] += r3; }
                    else { c0[0] = r0; c0[1] = r1; c0[2] = r2; c0[3] = r3; }
                }
                for (; n < N; n++)
                {
                    float r = Dot(a0, b + (long)n * ldb, K);
                    float* c0 = c + (long)m * ldc + n;
                    if (accumulate) *c0 += r; else *c0 = r;
                }
            }
        }

        /// <summary>
        /// <see cref="MultiplyNT"/> on Vector512 for long rows (the weight gradient of a batched convolution, whose rows are
        /// padded to a multiple of 16): blocks of 4×4 dot products, 16 accumulators, 8 loads per 16 FMAs.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void MultiplyNT512(int M, int N, int K, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        {
            int m = 0;
            for (; m + 4 <= M; m += 4)
            {
                float* a0 = a + (long)m * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
                float* c0 = c + (long)m * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
                int n = 0;
                for (; n + 4 <= N; n += 4)
                {
                    float* b0 = b + (long)n * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                    Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
                    Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
                    Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default;
                    Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default;
                    int k = 0;
                    for (; k + 16 <= K; k += 16)
                    {
                        var y0 = Vector512.Load(b0 + k);
                        var y1 = Vector512.Load(b1 + k);
                        var y2 = Vector512.Load(b2 + k);
                        var y3 = Vector512.Load(b3 + k);
                        var x = Vector512.Load(a0 + k);
                        s00 = Fmadd(x, y0, s00); s01 = Fmadd(x, y1, s01); s02 = Fmadd(x, y2, s02); s03 = Fmadd(x, y3, s03);
                        x = Vector512.Load(a1 + k);
                        s10 = Fmadd(x, y0, s10); s11 = Fmadd(x, y1, s11); s12 = Fmadd(x, y2, s12); s13 = Fmadd(x, y3, s13);
                        x = Vector512.Load(a2 + k);
                        s20 = Fmadd(x, y0, s20); s21 = Fmadd(x, y1, s21); s22 = Fmadd(x, y2, s22); s23 = Fmadd(x, y3, s23);
                        x = Vector512.Load(a3 + k);
                        s30 = Fmadd(x, y0, s30); s31 = Fmadd(x, y1, s31); s32 = Fmadd(x, y2, s32); s33 = Fmadd(x, y3, s33);
                    }
                    Finish4(c0 + n, s00, s01, s02, s03, a0, b0, b1, b2, b3, k, K, accumulate);
                    Finish4(c1 + n, s10, s11, s12, s13, a1, b0, b1, b2, b3, k, K, accumulate);
                    Finish4(c2 + n, s20, s21, s22, s23, a2, b0, b1, b2, b3, k, K, accumulate);
                    Finish4(c3 + n, s30, s31, s32, s33, a3, b0, b1, b2, b3, k, K, accumulate);
                }
                for (; n < N; n++)
                {
                    float* b0 = b + (long)n * ldb;
                    float r0 = Dot512(a0, b0, K), r1 = Dot512(a1, b0, K), r2 = Dot512(a2, b0, K), r3 = Dot512(a3, b0, K);
                    if (accumulate) { c0[n] += r0; c1[n] += r1; c2[n] += r2; c3[n] += r3; }
                    else { c0[n] = r0; c1[n] = r1; c2[n] = r2; c3[n] = r3; }
                }
            }
            for (; m < M; m++)
            {
                // A single row (batch-1 inference of a Linear layer): eight dot products at a time, so eight
                // independent FMA chains hide the FMA latency (one chain per dot product would wait on it).
                float* a0 = a + (long)m * lda;
                float* c0 = c + (long)m * ldc;
                int n = 0;
                for (; n + 8 <= N; n += 8)
                {
                    float* b0 = b + (long)n * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                    float* b4 = b3 + ldb, b5 = b4 + ldb, b6 = b5 + ldb, b7 = b6 + ldb;
                    Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                    Vector512<float> s4 = default, s5 = default, s6 = default, s7 = default;
                    int k = 0;
                    for (; k + 16 <= K; k += 16)
                    {
                        var x = Vector512.Load(a0 + k);
                        s0 = Fmadd(x, Vector512.Load(b0 + k), s0); s1 = Fmadd(x, Vector512.Load(b1 + k), s1);
                        s2 = Fmadd(x, Vector512.Load(b2 + k), s2); s3 = Fmadd(x, Vector512.Load(b3 + k), s3);
                        s4 = Fmadd(x, Vector512.Load(b4 + k), s4); s5 = Fmadd(x, Vector512.Load(b5 + k), s5);
                        s6 = Fmadd(x, Vector512.Load(b6 + k), s6); s7 = Fmadd(x, Vector512.Load(b7 + k), s7);
                    }
                    Finish4(c0 + n, s0, s1, s2, s3, a0, b0, b1, b2, b3, k, K, accumulate);
                    Finish4(c0 + n + 4, s4, s5, s6, s7, a0, b4, b5, b6, b7, k, K, accumulate);
                }
                for (; n < N; n++)
                {
                    float r = Dot512(a0, b + (long)n * ldb, K);
                    if (accumulate) c0[n] += r; else c0[n] = r;
                }
            }
        }

        /// <summary>Sums four accumulators of one row of a 4×4 block, adds the scalar tail k..K, stores 4 results.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Finish4(float* c, Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3,
            float* a, float* b0, float* b1, float* b2, float* b3, int k, int K, bool accumulate)
        {
            float r0 = Vector512.Sum(s0), r1 = Vector512.Sum(s1), r2 = Vector512.Sum(s2), r3 = Vector512.Sum(s3);
            for (; k < K; k++)
            {
                float x = a[k];
                r0 += x * b0[k]; r1 += x * b1[k]; r2 += x * b2[k]; r3 += x * b3[k];
            }
            if (accumulate) { c[0] += r0; c[1] += r1; c[2] += r2; c[3] += r3; }
            else { c[0] = r0; c[1] = r1; c[2] = r2; c[3] = r3; }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Dot512(float* x, float* y, int k)
        {
            Vector512<float> s = default;
            int i = 0;
            for (; i + 16 <= k; i += 16) s = Fmadd(Vector512.Load(x + i), Vector512.Load(y + i), s);
            float r = Vector512.Sum(s);
            for (; i < k; i++) r += x[i] * y[i];
            return r;
        }

        /// <summary>Dot product of two contiguous vectors of length <paramref name="k"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Dot(float* x, float* y, int k)
        {
            Vector256<float> s = default;
            int i = 0;
            for (; i + V <= k; i += V) s = Fmadd(Vector256.Load(x + i), Vector256.Load(y + i), s);
            float r = Vector256.Sum(s);
            for (; i < k; i++) r += x[i] * y[i];
            return r;
        }
    }
}

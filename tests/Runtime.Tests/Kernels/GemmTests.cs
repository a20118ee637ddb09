using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Runtime.Tests.Kernels;

/// <summary>
/// <see cref="Gemm"/> against naive double loops over every register-tile tail (M 1..9, N 1..50, K 1..20) and a few
/// large shapes, both A layouts, accumulate on/off, padded leading dimensions. Inputs live in guarded buffers whose
/// unused parts are NaN (an over-read poisons the result) and whose guards are checked for stray writes.
/// </summary>
public unsafe class GemmTests
{
    private const float CSentinel = 7777f; // in C's padding columns: must survive

    /// <summary>|actual − expected| ≤ tol · (Σ|a·b| + |c₀|) + 1e-30 per element.</summary>
    private static void CheckC(string what, GuardedBuffer c, int M, int N, int ldc, double[] expected, double[] magnitude)
    {
        Assert.True(c.GuardsIntact(), $"{what}: wrote outside C");
        for (int m = 0; m < M; m++)
        {
            for (int n = 0; n < ldc; n++)
            {
                float got = c[m * ldc + n];
                if (n >= N)
                {
                    Assert.True(got == CSentinel, $"{what}: C padding [{m}, {n}] changed to {got}");
                    continue;
                }
                double e = expected[m * N + n];
                double tol = 1e-6 * (magnitude[m * N + n] + 1) * 4;
                if (!(Math.Abs(got - e) <= tol))
                    Assert.Fail($"{what}: C[{m}, {n}] = {got:R}, expected {e:R} (|diff| {Math.Abs(got - e):E2} > {tol:E2})");
            }
        }
    }

    /// <summary>
    /// Runs MultiplyNN for one shape. layoutT: A stored [K, M] (aRow = 1, aCol = lda with lda ≥ M); else A stored
    /// [M, K] (aRow = lda ≥ K, aCol = 1).
    /// </summary>
    private static void RunNN(int M, int N, int K, bool layoutT, bool accumulate, int padA, int padB, int padC, Rng rng, bool blocked = false)
    {
        int lda = (layoutT ? M : K) + padA;
        int ldb = N + padB, ldc = N + padC;
        int aLen = layoutT ? K * lda : M * lda;
        using var a = new GuardedBuffer(Math.Max(aLen, 1));
        using var b = new GuardedBuffer(Math.Max(K * ldb, 1));
        using var c = new GuardedBuffer(M * ldc, CSentinel);
        int aRow = layoutT ? 1 : lda, aCol = layoutT ? lda : 1;
        double A(int m, int k) => a[m * aRow + k * aCol];
        for (int m = 0; m < M; m++)
            for (int k = 0; k < K; k++) a[m * aRow + k * aCol] = rng.Uniform(-1f, 1f);
        for (int k = 0; k < K; k++)
            for (int n = 0; n < N; n++) b[k * ldb + n] = rng.Uniform(-1f, 1f);
        var c0 = new double[M * N];
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++)
            {
                // Overwrite mode must not read C: give it NaN there, so a read shows up in the result.
                float v = rng.Uniform(-2f, 2f);
                c[m * ldc + n] = accumulate ? v : float.NaN;
                c0[m * N + n] = v;
            }

        var expected = new double[M * N];
        var magnitude = new double[M * N];
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++)
            {
                double s = accumulate ? c0[m * N + n] : 0, mag = accumulate ? Math.Abs(c0[m * N + n]) : 0;
                for (int k = 0; k < K; k++) { double t = A(m, k) * b[k * ldb + n]; s += t; mag += Math.Abs(t); }
                expected[m * N + n] = s;
                magnitude[m * N + n] = mag;
            }

        if (blocked) GemmBlocked.Multiply(M, N, K, a.Ptr, aRow, aCol, b.Ptr, ldb, c.Ptr, ldc, accumulate);
        else Gemm.MultiplyNN(M, N, K, a.Ptr, aRow, aCol, b.Ptr, ldb, c.Ptr, ldc, accumulate);
        Assert.True(a.GuardsIntact() && b.GuardsIntact(), "MultiplyNN wrote into A or B's guards");
        CheckC($"{(blocked ? "GemmBlocked.Multiply" : "MultiplyNN")}(M={M}, N={N}, K={K}, {(layoutT ? "Aᵀ" : "A")}, lda={lda}, ldb={ldb}, ldc={ldc}, accumulate={accumulate})",
            c, M, N, ldc, expected, magnitude);
    }

    private static void RunNT(int M, int N, int K, bool accumulate, int padA, int padB, int padC, Rng rng)
    {
        int lda = K + padA, ldb = K + padB, ldc = N + padC;
        using var a = new GuardedBuffer(Math.Max(M * lda, 1));
        using var b = new GuardedBuffer(Math.Max(N * ldb, 1));
        using var c = new GuardedBuffer(M * ldc, CSentinel);
        for (int m = 0; m < M; m++)
            for (int k = 0; k < K; k++) a[m * lda + k] = rng.Uniform(-1f, 1f);
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++) b[n * ldb + k] = rng.Uniform(-1f, 1f);
        var c0 = new double[M * N];
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++)
            {
                // Overwrite mode must not read C: give it NaN there, so a read shows up in the result.
                float v = rng.Uniform(-2f, 2f);
                c[m * ldc + n] = accumulate ? v : float.NaN;
                c0[m * N + n] = v;
            }

        var expected = new double[M * N];
        var magnitude = new double[M * N];
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++)
            {
                double s = accumulate ? c0[m * N + n] : 0, mag = accumulate ? Math.Abs(c0[m * N + n]) : 0;
                for (int k = 0; k < K; k++) { double t = (double)a[m * lda + k] * b[n * ldb + k]; s += t; mag += Math.Abs(t); }
                expected[m * N + n] = s;
                magnitude[m * N + n] = mag;
            }

        Gemm.MultiplyNT(M, N, K, a.Ptr, lda, b.Ptr, ldb, c.Ptr, ldc, accumulate);
        Assert.True(a.GuardsIntact() && b.GuardsIntact(), "MultiplyNT wrote into A or B's guards");
        CheckC($"MultiplyNT(M={M}, N={N}, K={K}, lda={lda}, ldb={ldb}, ldc={ldc}, accumulate={accumulate})", c, M, N, ldc, expected, magnitude);
    }

    public static TheoryData<bool, bool> Layouts => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void MultiplyNN_EveryTailCase(bool layoutT, bool accumulate)
    {
        var rng = new Rng(1000 + (layoutT ? 2 : 0) + (accumulate ? 1 : 0));
        for (int M = 1; M <= 9; M++)
            for (int N = 1; N <= 50; N++)
                for (int K = 1; K <= 20; K++)
                    RunNN(M, N, K, layoutT, accumulate, padA: 0, padB: 0, padC: 0, rng);
    }

    /// <summary>
    /// One column (N = 1: squeeze-and-excitation gates and classifiers at batch 1), K from 32 on (row-wise dot products on
    /// Vector512 where accelerated: 4-row groups and single rows, K below, at and past the 32-float step), both A layouts.
    /// </summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public void MultiplyNN_OneColumn(bool layoutT, bool accumulate)
    {
        var rng = new Rng(3000 + (layoutT ? 2 : 0) + (accumulate ? 1 : 0));
        foreach (int K in new[] { 32, 33, 47, 64, 100, 1152 })
            foreach (int M in new[] { 1, 3, 4, 5, 8, 9, 48 })
                RunNN(M, 1, K, layoutT, accumulate, padA: 0, padB: 0, padC: 0, rng);
    }

    /// <summary>
    /// The cache-blocked kernel directly, whatever its size threshold: every row tail of its 8-row tiles, its 48- and 16-wide
    /// strips and the zero-padded tail panel (N mod 16) or the dot-product tail (N mod 48 in 1..4), K below, at and across its 128-row blocks, padded leading dimensions.
    /// </summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public void MultiplyNN_Blocked_EveryTileStripAndKBlock(bool layoutT, bool accumulate)
    {
        var rng = new Rng(5000 + (layoutT ? 2 : 0) + (accumulate ? 1 : 0));
        foreach (int M in new[] { 1, 7, 8, 9, 16, 17 })
            foreach (int N in new[] { 1, 15, 16, 17, 47, 48, 49, 50, 52, 53, 63, 64, 65, 97, 100 })
                foreach (int K in new[] { 1, 16, 127, 128, 129, 257 })
                    RunNN(M, N, K, layoutT, accumulate, padA: N % 3, padB: M % 2 * 5, padC: K % 2 * 3, rng, blocked: true);
    }

    /// <summary>Shapes large enough that MultiplyNN itself dispatches to the blocked kernel (ResNet-class convolutions; dot tails after 4, 5 and 6 strips).</summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public void MultiplyNN_LargeShapesThroughTheDispatch(bool layoutT, bool accumulate)
    {
        var rng = new Rng(6000 + (layoutT ? 2 : 0) + (accumulate ? 1 : 0));
        foreach (var (M, N, K) in new[] { (64, 196, 300), (33, 49, 1153), (128, 100, 64), (24, 241, 200), (16, 290, 130) })
        {
            Assert.True(!Gemm.UseVector512 || GemmBlocked.Applies(M, N, K));
            RunNN(M, N, K, layoutT, accumulate, padA: 0, padB: 3, padC: 0, rng);
        }
    }

    /// <summary>
    /// <see cref="Gemm.MultiplyNNBiasAct"/> (bias and ReLU / SiLU in the product's last stores) gives the same bits as the
    /// product followed by the bias + activation pass, on every path: 48- and 16-column strips, the zero-padded tail,
    /// the dot-product tail, K across blocks, rows left after the 8-row tiles, a product too small for the blocked kernel,
    /// and the two-thread column and row splits; with and without a bias.
    /// </summary>
    [Fact]
    public void MultiplyNNBiasAct_MatchesProductThenPass()
    {
        var rng = new Rng(8100);
        var shapes = new[] { (16, 3136, 16), (96, 784, 24), (13, 100, 300), (40, 49, 200), (24, 1030, 8), (4, 20, 3), (8, 65, 129), (520, 300, 64), (64, 2000, 100) };
        int before = Parallelism.IntraOpThreads;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            foreach (var (M, N, K) in shapes)
            foreach (int act in new[] { DirectConv.None, DirectConv.Relu, DirectConv.Silu })
            foreach (bool withBias in new[] { false, true })
            {
                Parallelism.IntraOpThreads = threads;
                var a = new float[M * K];
                var b = new float[K * N];
                var bias = new float[M];
                for (int i = 0; i < a.Length; i++) a[i] = rng.NextFloat() * 2 - 1;
                for (int i = 0; i < b.Length; i++) b[i] = rng.NextFloat() * 2 - 1;
                for (int i = 0; i < M; i++) bias[i] = rng.NextFloat() - 0.5f;
                var want = new float[M * N];
                using var got = new GuardedBuffer(M * N);
                fixed (float* pa = a, pb = b, pbias = bias, pw = want)
                {
                    Gemm.MultiplyNN(M, N, K, pa, K, 1, pb, N, pw, N, false);
                    for (int m = 0; m < M; m++)
                    {
                        float* row = pw + m * N;
                        float add = withBias ? bias[m] : 0f;
                        if (act == DirectConv.Silu && withBias) ActivationOps.AddBiasSilu(row, add, N);
                        else if (act == DirectConv.Silu) LayerOps.Silu(row, row, N);
                        else if (withBias || act == DirectConv.Relu) Ops.CopyRowsBiasRelu(row, N, row, N, 1, N, withBias ? pbias + m : null, relu: act == DirectConv.Relu);
                    }
                    Gemm.MultiplyNNBiasAct(M, N, K, pa, K, 1, pb, N, got.Ptr, N, withBias ? pbias : null, act);
                }
                Assert.True(got.GuardsIntact(), $"({M}, {N}, {K}) wrote outside C");
                for (int i = 0; i < want.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(want[i]) == BitConverter.SingleToInt32Bits(got[i]),
                        $"({M}, {N}, {K}) threads={threads} act={act} bias={withBias}: C[{i / N}, {i % N}] = {got[i]:R}, product then pass {want[i]:R}");
            }
        }
        finally { Parallelism.IntraOpThreads = before; }
    }

    /// <summary>
    /// Intra-op parallelism: with 2 threads a large product is split by columns (B larger) or rows (A larger) between the
    /// caller and the helper thread; four threads multiplying at once (the helper taken by one, the others alone) all agree
    /// with the reference.
    /// </summary>
    [Fact]
    public void MultiplyNN_TwoIntraOpThreads_SplitsAndConcurrentCallersAreCorrect()
    {
        int before = Parallelism.IntraOpThreads;
        Parallelism.IntraOpThreads = 2;
        try
        {
            // column split (N ≥ M), row split (M > N), odd sizes on both
            var shapes = new[] { (40, 1000, 150, false), (520, 49, 300, true), (17, 197, 1300, false), (64, 96, 700, true) };
            foreach (var (M, N, K, t) in shapes)
            {
                Assert.True(!Gemm.UseVector512 || (long)M * N * K >= GemmBlocked.ParallelThreshold);
                RunNN(M, N, K, t, accumulate: M % 2 == 0, padA: 1, padB: 2, padC: 3, new Rng(M + N + K));
            }
            var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
            var threads = new System.Threading.Thread[4];
            for (int i = 0; i < threads.Length; i++)
            {
                int seed = i;
                threads[i] = new System.Threading.Thread(() =>
                {
                    try { for (int r = 0; r < 3; r++) RunNN(48 + 8 * seed, 500 + seed, 200, seed % 2 == 1, r % 2 == 0, 0, 0, 0, new Rng(100 * seed + r)); }
                    catch (Exception e) { errors.Add(e); }
                });
                threads[i].Start();
            }
            foreach (var th in threads) th.Join();
            Assert.Empty(errors);
        }
        finally { Parallelism.IntraOpThreads = before; }
    }

    [Fact]
    public void IntraOpThreads_OutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.IntraOpThreads = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.IntraOpThreads = 3);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void MultiplyNN_PaddedLeadingDimensions(bool layoutT, bool accumulate)
    {
        var rng = new Rng(2000 + (layoutT ? 2 : 0) + (accumulate ? 1 : 0));
        int[] ns = { 1, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 47, 48, 49, 50 };
        for (int M = 1; M <= 9; M++)
            foreach (int N in ns)
                foreach (int K in new[] { 1, 2, 5, 8, 13, 20 })
                    RunNN(M, N, K, layoutT, accumulate, padA: 1 + (M + K) % 5, padB: 1 + N % 7, padC: 1 + (N + M) % 9, rng);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void MultiplyNN_LargeShapes(bool layoutT, bool accumulate)
    {
        var rng = new Rng(3000 + (layoutT ? 2 : 0) + (accumulate ? 1 : 0));
        // Shapes the generated conv/linear layers use, plus odd ones.
        var shapes = new (int M, int N, int K)[]
        {
            (16, 676, 9), (32, 144, 144), (144, 144, 32), (9, 676, 16), (32, 1568, 8), (10, 32, 64), (64, 100, 300),
            (33, 97, 129), (13, 257, 65), (4, 24, 1000), (1, 1, 2000), (5, 31, 777),
        };
        foreach (var (M, N, K) in shapes)
        {
            RunNN(M, N, K, layoutT, accumulate, 0, 0, 0, rng);
            RunNN(M, N, K, layoutT, accumulate, 3, 5, 11, rng);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MultiplyNT_EveryTailCase(bool accumulate)
    {
        var rng = new Rng(4000 + (accumulate ? 1 : 0));
        for (int M = 1; M <= 9; M++)
            for (int N = 1; N <= 50; N++)
                foreach (int K in new[] { 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 20, 23, 24, 25, 31, 33 })
                    RunNT(M, N, K, accumulate, 0, 0, 0, rng);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MultiplyNT_AllSmallK_PaddedLeadingDimensions(bool accumulate)
    {
        var rng = new Rng(5000 + (accumulate ? 1 : 0));
        for (int M = 1; M <= 9; M++)
            foreach (int N in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 23, 24, 25, 31, 33 })
                for (int K = 1; K <= 20; K++)
                    RunNT(M, N, K, accumulate, padA: 1 + K % 3, padB: 2 + M % 4, padC: 1 + N % 5, rng);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MultiplyNT_LargeShapes(bool accumulate)
    {
        var rng = new Rng(6000 + (accumulate ? 1 : 0));
        var shapes = new (int M, int N, int K)[]
        {
            (16, 9, 676), (32, 144, 144), (3, 32, 1568), (8, 10, 32), (1, 50, 320), (7, 13, 1001), (64, 64, 64), (9, 4, 2047),
        };
        foreach (var (M, N, K) in shapes)
        {
            RunNT(M, N, K, accumulate, 0, 0, 0, rng);
            RunNT(M, N, K, accumulate, 5, 3, 7, rng);
        }
    }

    /// <summary>
    /// Weight gradients over few pixels (M ≥ 32, K &lt; 256, large enough for the blocked kernel) transpose B and run the
    /// blocked A·B kernel: odd N and K (the transpose's 8×8 block tails, the strips' tails), padded leading dimensions.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MultiplyNT_TransposedThroughTheBlockedKernel(bool accumulate)
    {
        var rng = new Rng(6100 + (accumulate ? 1 : 0));
        foreach (var (M, N, K) in new[] { (512, 460, 49), (64, 577, 196), (33, 1001, 23), (40, 145, 255), (96, 49, 64) })
        {
            Assert.True(!Gemm.UseVector512 || GemmBlocked.Applies(M, N, K), $"({M}, {N}, {K}) must take the transposing path");
            RunNT(M, N, K, accumulate, 0, 0, 0, rng);
            RunNT(M, N, K, accumulate, 5, 3, 7, rng);
        }
    }

    /// <summary>Long rows (K ≥ 64) take the Vector512 4×4 dot-product blocks where AVX-512 is on: every M/N block tail, K tails 0..15.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MultiplyNT_LongRows_EveryBlockTail(bool accumulate)
    {
        var rng = new Rng(6500 + (accumulate ? 1 : 0));
        for (int M = 1; M <= 9; M++)
            for (int N = 1; N <= 9; N++)
                foreach (int K in new[] { 64, 65, 71, 79, 80, 95, 127, 128, 608 })
                    RunNT(M, N, K, accumulate, padA: K % 3, padB: (M + N) % 4, padC: N % 5, rng);
    }

    /// <summary>The batched convolutions' shapes: N padded to a multiple of 16, so rows end in the 32- and 16-wide tiles.</summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public void MultiplyNN_PaddedBatchShapes(bool layoutT, bool accumulate)
    {
        var rng = new Rng(3500 + (layoutT ? 2 : 0) + (accumulate ? 1 : 0));
        foreach (int N in new[] { 64, 80, 96, 112, 128, 144, 608 })
            foreach (var (M, K) in new[] { (64, 288), (288, 64), (5, 9), (32, 144), (7, 33) })
                RunNN(M, N, K, layoutT, accumulate, 0, 0, 0, rng);
    }

    [Fact]
    public void Dot_EveryLength()
    {
        var rng = new Rng(7);
        var lengths = new List<int>();
        for (int k = 0; k <= 70; k++) lengths.Add(k);
        lengths.AddRange(new[] { 127, 128, 129, 1000, 1568, 4099 });
        foreach (int k in lengths)
        {
            using var x = new GuardedBuffer(k);
            using var y = new GuardedBuffer(k);
            KernelRandom.Fill(x.Span, rng);
            KernelRandom.Fill(y.Span, rng);
            double e = 0, mag = 0;
            for (int i = 0; i < k; i++) { double t = (double)x[i] * y[i]; e += t; mag += Math.Abs(t); }
            float got = Gemm.Dot(x.Ptr, y.Ptr, k);
            Assert.True(Math.Abs(got - e) <= 4e-6 * (mag + 1), $"Dot(k={k}) = {got:R}, expected {e:R}");
        }
    }

    [Fact]
    public void MultiplyNN_ZeroK_OverwritesOrKeeps()
    {
        // K = 0: an empty sum; overwrite mode writes zeros, accumulate mode leaves C as it was.
        using var c = new GuardedBuffer(3 * 10, CSentinel);
        for (int i = 0; i < 30; i++) c[i] = i + 1;
        float dummy = 0;
        Gemm.MultiplyNN(3, 10, 0, &dummy, 0, 1, &dummy, 10, c.Ptr, 10, true);
        for (int i = 0; i < 30; i++) Assert.Equal(i + 1, c[i]);
        Gemm.MultiplyNN(3, 10, 0, &dummy, 0, 1, &dummy, 10, c.Ptr, 10, false);
        for (int i = 0; i < 30; i++) Assert.Equal(0f, c[i]);
        Assert.True(c.GuardsIntact());
    }
}

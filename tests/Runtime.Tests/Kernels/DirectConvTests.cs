using System;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Runtime.Tests.Kernels;

/// <summary>
/// <see cref="DirectConv.Forward"/> against a naive float64 convolution with bias, then ReLU / SiLU in float64: 3×3 with
/// stride 1 and padding 1, ResNet's 7×7 stem (stride 2, padding 3), strided 3×3 and 1×1, 5×5, rectangular kernels and
/// strides, padding 0 and wider than the kernel's half; output widths below, at and past the vector width and strip
/// widths, rows and channels that leave partial 8-row tiles and K blocks (K from 3 to 1152), 1 and 2 samples, writes
/// only inside y. The
/// direct kernel and the im2col + GEMM form it falls back to are both checked, against the reference and against each
/// other bit for bit where the blocked GEMM runs both (same tiles, same order of the sums).
/// </summary>
public unsafe class DirectConvTests
{
    public static TheoryData<int[]> Cases() => new()
    {
        // C, H, W, M, kh, kw, sh, sw, ph, pw
        new[] { 3, 5, 5, 8, 3, 3, 1, 1, 1, 1 },
        new[] { 3, 32, 32, 16, 3, 3, 1, 1, 1, 1 },
        new[] { 16, 16, 16, 16, 3, 3, 1, 1, 1, 1 },
        new[] { 5, 17, 19, 9, 3, 3, 1, 1, 1, 1 },
        new[] { 32, 20, 20, 16, 3, 3, 1, 1, 1, 1 },
        new[] { 8, 9, 61, 24, 3, 3, 1, 1, 1, 1 },
        new[] { 7, 23, 14, 13, 3, 3, 1, 1, 1, 1 },
        new[] { 128, 12, 12, 16, 3, 3, 1, 1, 1, 1 },
        new[] { 3, 38, 38, 16, 7, 7, 2, 2, 3, 3 },
        new[] { 3, 37, 41, 8, 7, 7, 2, 2, 3, 3 },
        new[] { 16, 24, 24, 24, 3, 3, 2, 2, 1, 1 },
        new[] { 9, 25, 23, 8, 3, 3, 2, 2, 1, 1 },
        new[] { 16, 28, 28, 16, 1, 1, 2, 2, 0, 0 },
        new[] { 4, 20, 20, 8, 5, 5, 1, 1, 2, 2 },
        new[] { 5, 21, 30, 8, 3, 5, 1, 2, 1, 2 },
        new[] { 3, 19, 17, 8, 3, 3, 3, 1, 0, 2 },
        new[] { 6, 14, 14, 8, 2, 2, 2, 2, 0, 0 },
        new[] { 2, 9, 9, 8, 3, 3, 1, 1, 3, 3 },
        new[] { 1, 1, 1, 8, 3, 3, 2, 2, 1, 1 },
        new[] { 2, 2, 6, 8, 2, 2, 2, 2, 0, 0 },
        // Stride-2 rows whose phase columns are gathered 16 at a time: exactly 16 and 17 columns, two chunks and a tail.
        new[] { 5, 7, 32, 8, 3, 3, 2, 2, 1, 1 },
        new[] { 5, 7, 34, 8, 3, 3, 2, 2, 1, 1 },
        new[] { 3, 6, 70, 8, 3, 3, 2, 2, 1, 1 },
    };

    private static int Out(int size, int k, int s, int pad) => (size + 2 * pad - k) / s + 1;

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesFloat64Reference(int[] g)
    {
        int C = g[0], H = g[1], W = g[2], M = g[3], kh = g[4], kw = g[5], sh = g[6], sw = g[7], ph = g[8], pw = g[9];
        int OH = Out(H, kh, sh, ph), OW = Out(W, kw, sw, pw), N = OH * OW, K = C * kh * kw;
        var rng = new Rng(C * 1000 + H * 31 + W * 7 + M + kh * 5 + sh);
        int HW = H * W;
        foreach (int n in new[] { 1, 2 })
        {
            var x = new float[n * C * HW];
            var wt = new float[M * K];
            var b = new float[M];
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * 4 - 2;
            for (int i = 0; i < wt.Length; i++) wt[i] = rng.NextFloat() * 2 - 1;
            for (int i = 0; i < b.Length; i++) b[i] = rng.NextFloat() - 0.5f;
            foreach (int act in new[] { DirectConv.None, DirectConv.Relu, DirectConv.Silu })
            foreach (bool withBias in new[] { false, true })
            {
                float[]? fallback = null;
                foreach (bool direct in DirectConv.Supported ? new[] { false, true } : new[] { false })
                {
                    using var yb = new GuardedBuffer(n * M * N);
                    fixed (float* px = x, pwt = wt, pb = b)
                        DirectConv.Forward(px, yb.Ptr, pwt, withBias ? pb : null, n, C, H, W, M, kh, kw, sh, sw, ph, pw, act, direct);
                    Assert.True(yb.GuardsIntact(), $"wrote outside y (direct={direct})");
                    for (int s = 0; s < n; s++)
                        for (int m = 0; m < M; m++)
                            for (int oy = 0; oy < OH; oy++)
                                for (int ox = 0; ox < OW; ox++)
                                {
                                    double sum = withBias ? b[m] : 0, mag = Math.Abs(sum);
                                    for (int c = 0; c < C; c++)
                                        for (int ky = 0; ky < kh; ky++)
                                            for (int kx = 0; kx < kw; kx++)
                                            {
                                                int iy = oy * sh + ky - ph, ix = ox * sw + kx - pw;
                                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                                double term = (double)x[((s * C + c) * H + iy) * W + ix] * wt[((m * C + c) * kh + ky) * kw + kx];
                                                sum += term;
                                                mag += Math.Abs(term);
                                            }
                                    double want = act == DirectConv.Relu ? Math.Max(sum, 0) : act == DirectConv.Silu ? sum / (1 + Math.Exp(-sum)) : sum;
                                    float got = yb[((s * M + m) * OH + oy) * OW + ox];
                                    Assert.True(Math.Abs(got - want) <= 1e-5 * mag + 1e-6,
                                        $"direct={direct} n={n} act={act} bias={withBias}: y[{s},{m},{oy},{ox}] = {got:R}, reference {want:R}");
                                }
                    if (fallback is null) fallback = yb.Span.ToArray();
                    else if (N % 48 is 0 or > GemmBlocked.DotTailMax && GemmBlocked.Applies(M, N, K))
                        for (int i = 0; i < fallback.Length; i++)
                            Assert.True(BitConverter.SingleToInt32Bits(fallback[i]) == BitConverter.SingleToInt32Bits(yb[i]),
                                $"direct and im2col + GEMM differ at {i}: {yb[i]:R} vs {fallback[i]:R} (act={act}, bias={withBias})");
                }
            }
        }
    }

    /// <summary>With two intra-op threads each half of the channels is copied into the planes, then each half of the output rows computed, on its own thread: the same bits as one thread.</summary>
    [Fact]
    public void TwoIntraOpThreadsGiveTheSameBits()
    {
        const int C = 48, H = 33, W = 40, M = 24, n = 2; // 48 × 35 × 42 floats of planes: their filling is split too
        var rng = new Rng(7);
        var x = new float[n * C * H * W];
        var wt = new float[M * C * 9];
        var b = new float[M];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * 2 - 1;
        for (int i = 0; i < wt.Length; i++) wt[i] = rng.NextFloat() * 2 - 1;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextFloat() - 0.5f;
        var serial = new float[n * M * H * W];
        var split = new float[serial.Length];
        int before = Parallelism.IntraOpThreads;
        fixed (float* px = x, pw = wt, pb = b, ps = serial, pt = split)
        {
            try
            {
                Parallelism.IntraOpThreads = 1;
                DirectConv.Forward(px, ps, pw, pb, n, C, H, W, M, 3, 3, 1, 1, 1, 1, DirectConv.Silu);
                Parallelism.IntraOpThreads = 2;
                DirectConv.Forward(px, pt, pw, pb, n, C, H, W, M, 3, 3, 1, 1, 1, 1, DirectConv.Silu);
            }
            finally { Parallelism.IntraOpThreads = before; }
        }
        for (int i = 0; i < serial.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(serial[i]) == BitConverter.SingleToInt32Bits(split[i]), $"output {i}: {split[i]:R} vs {serial[i]:R}");
    }

    [Fact]
    public void RejectsBadShapes()
    {
        var buf = new float[64];
        fixed (float* p = buf)
        {
            float* q = p;
            Assert.Throws<ArgumentOutOfRangeException>(() => DirectConv.Forward(q, q, q, null, 1, 0, 2, 2, 1, 3, 3, 1, 1, 1, 1, DirectConv.None));
            Assert.Throws<ArgumentOutOfRangeException>(() => DirectConv.Forward(q, q, q, null, 1, 1, 2, 2, 1, 3, 3, 1, 1, 1, 1, 3));
            Assert.Throws<ArgumentOutOfRangeException>(() => DirectConv.Forward(q, q, q, null, 1, 1, 2, 2, 1, 5, 5, 1, 1, 1, 1, DirectConv.None));
        }
    }
}

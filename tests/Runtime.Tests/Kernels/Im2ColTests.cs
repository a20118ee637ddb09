using System;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Runtime.Tests.Kernels;

/// <summary>
/// <see cref="Im2Col.Gather"/> against a naive per-element im2col (every row and column, padding zero, only inside
/// each row's OH·OW entries of its ld, nothing past them), and <see cref="Im2Col.Scatter"/> as its adjoint: Σ col·Gather(x)
/// = Σ Scatter(col)·x for random x and col, in float64. Kernels 1×1 to 7×7, strides 1 to 3 (different per axis),
/// padding 0 to 3, dilation 1 and 2, taps that only read padding, output rows shorter and longer than the vector widths.
/// </summary>
public unsafe class Im2ColTests
{
    public static TheoryData<int[]> Cases() => new()
    {
        // C, H, W, kh, kw, sh, sw, ph, pw, dh, dw
        new[] { 2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1 },
        new[] { 3, 16, 16, 7, 7, 2, 2, 3, 3, 1, 1 },
        new[] { 2, 9, 13, 3, 5, 2, 1, 1, 2, 1, 1 },
        new[] { 1, 7, 7, 3, 3, 1, 1, 3, 3, 1, 1 },
        new[] { 2, 11, 12, 3, 3, 1, 1, 2, 2, 2, 2 },
        new[] { 2, 14, 14, 1, 1, 2, 2, 0, 0, 1, 1 },
        new[] { 1, 40, 37, 3, 3, 3, 1, 0, 1, 1, 2 },
        new[] { 2, 3, 50, 2, 4, 1, 3, 0, 1, 1, 1 },
        new[] { 1, 2, 2, 5, 5, 1, 1, 2, 2, 1, 1 },
    };

    private static int Out(int size, int k, int s, int pad, int dil) => (size + 2 * pad - dil * (k - 1) - 1) / s + 1;

    [Theory]
    [MemberData(nameof(Cases))]
    public void GatherMatchesNaiveAndScatterIsItsAdjoint(int[] g)
    {
        int C = g[0], H = g[1], W = g[2], kh = g[3], kw = g[4], sh = g[5], sw = g[6], ph = g[7], pw = g[8], dh = g[9], dw = g[10];
        int OH = Out(H, kh, sh, ph, dh), OW = Out(W, kw, sw, pw, dw), N = OH * OW, K = C * kh * kw, ld = N + 5;
        var rng = new Rng(C * 100 + H * 7 + W + kh * 3 + sw);
        var x = new float[C * H * W];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * 2 - 1;
        using var col = new GuardedBuffer(K * ld);
        for (int i = 0; i < K * ld; i++) col[i] = 7f; // entries past each row's N must stay untouched
        fixed (float* px = x) Im2Col.Gather(px, col.Ptr, ld, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw);
        Assert.True(col.GuardsIntact(), "Gather wrote outside col");
        for (int c = 0; c < C; c++)
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                {
                    int row = (c * kh + i) * kw + j;
                    for (int oh = 0; oh < OH; oh++)
                        for (int ow = 0; ow < OW; ow++)
                        {
                            int ih = oh * sh - ph + i * dh, iw = ow * sw - pw + j * dw;
                            float want = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[(c * H + ih) * W + iw] : 0f;
                            Assert.True(want.Equals(col[row * ld + oh * OW + ow]), $"col[{row}, {oh * OW + ow}] = {col[row * ld + oh * OW + ow]}, want {want}");
                        }
                    for (int q = N; q < ld; q++) Assert.Equal(7f, col[row * ld + q]);
                }

        // Adjoint: <c, Gather(x)> = <Scatter(c), x>.
        var c2 = new float[K * ld];
        for (int i = 0; i < c2.Length; i++) c2[i] = rng.NextFloat() * 2 - 1;
        using var back = new GuardedBuffer(C * H * W);
        back.Span.Clear();
        fixed (float* pc = c2) Im2Col.Scatter(pc, back.Ptr, ld, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw);
        Assert.True(back.GuardsIntact(), "Scatter wrote outside x");
        double left = 0, right = 0;
        for (int r = 0; r < K; r++)
            for (int q = 0; q < N; q++) left += (double)c2[r * ld + q] * col[r * ld + q];
        for (int i = 0; i < x.Length; i++) right += (double)back[i] * x[i];
        Assert.True(Math.Abs(left - right) <= 1e-4 * (1 + Math.Abs(left)), $"<c, im2col(x)> = {left}, <col2im(c), x> = {right}");
    }
}

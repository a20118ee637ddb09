using System;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Runtime.Tests.Kernels;

/// <summary>
/// <see cref="Depthwise.Forward"/> against a naive float64 depthwise convolution (bias, then ReLU / SiLU in float64):
/// 3×3, 5×5 and rectangular kernels, strides 1, 2 and 3 (also different per axis), padding 0 to 2, dilation 2, odd plane
/// sizes (output widths below, at and above the vector width), several samples × channels, writes only inside y (guards).
/// Both widths (Vector256, and Vector512 where accelerated; CNNGEN_DISABLE_VECTOR512 picks the former in production) are
/// checked against the reference and against each other, bit for bit.
/// </summary>
public unsafe class DepthwiseTests
{
    public static TheoryData<int[]> Cases() => new()
    {
        // channels, h, w, kh, kw, sh, sw, ph, pw, dh, dw
        new[] { 3, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1 },
        new[] { 2, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1 },
        new[] { 2, 17, 13, 3, 3, 2, 2, 1, 1, 1, 1 },
        new[] { 2, 28, 28, 5, 5, 1, 1, 2, 2, 1, 1 },
        new[] { 2, 29, 31, 5, 5, 2, 2, 2, 2, 1, 1 },
        new[] { 1, 9, 23, 3, 5, 1, 2, 1, 2, 1, 1 },
        new[] { 2, 11, 11, 3, 3, 1, 1, 2, 2, 2, 2 },
        new[] { 1, 10, 19, 3, 3, 2, 1, 0, 0, 1, 1 },
        new[] { 3, 5, 5, 5, 5, 1, 1, 2, 2, 1, 1 },
        new[] { 1, 40, 37, 3, 3, 2, 2, 1, 1, 2, 1 },
        new[] { 2, 6, 6, 1, 1, 1, 1, 0, 0, 1, 1 },
        new[] { 2, 33, 35, 3, 3, 2, 2, 0, 0, 1, 1 },
        new[] { 1, 12, 26, 3, 3, 3, 3, 1, 1, 1, 1 },
        new[] { 1, 56, 56, 5, 5, 2, 2, 2, 2, 1, 1 },
        // more than one block of 16 channels (channel-blocked for outputs up to 28 wide), the last one partial
        new[] { 20, 7, 7, 5, 5, 1, 1, 2, 2, 1, 1 },
        new[] { 35, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1 },
        new[] { 17, 9, 11, 3, 5, 1, 1, 1, 2, 2, 1 },
        new[] { 16, 30, 28, 3, 3, 1, 1, 1, 1, 1, 1 },
        new[] { 18, 14, 14, 7, 7, 1, 1, 3, 3, 1, 1 }, // 49 taps: the weights' transpose in 4 chunks of 16
    };

    private static int Out(int size, int k, int s, int pad, int dil) => (size + 2 * pad - dil * (k - 1) - 1) / s + 1;

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesFloat64Reference(int[] g)
    {
        int channels = g[0], h = g[1], w = g[2], kh = g[3], kw = g[4], sh = g[5], sw = g[6], ph = g[7], pw = g[8], dh = g[9], dw = g[10];
        int oh = Out(h, kh, sh, ph, dh), ow = Out(w, kw, sw, pw, dw);
        var rng = new Rng(channels * 1000 + h * 31 + w * 7 + kh + sw);
        bool[] widths = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? new[] { false, true } : new[] { false };
        foreach (int n in new[] { 1, 2 })
        foreach (int act in new[] { Depthwise.None, Depthwise.Relu, Depthwise.Silu })
        foreach (bool withBias in new[] { false, true })
        {
            int planes = n * channels;
            var x = new float[planes * h * w];
            var wt = new float[channels * kh * kw];
            var b = new float[channels];
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * 4 - 2;
            for (int i = 0; i < wt.Length; i++) wt[i] = rng.NextFloat() * 2 - 1;
            for (int i = 0; i < b.Length; i++) b[i] = rng.NextFloat() - 0.5f;
            using var yb = new GuardedBuffer(planes * oh * ow);
            float[]? narrow = null;
            foreach (bool wide in widths)
            {
                fixed (float* px = x, pw0 = wt, pb = b)
                    Depthwise.Forward(px, yb.Ptr, pw0, withBias ? pb : null, planes, channels, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, act, wide);
                Assert.True(yb.GuardsIntact(), $"wrote outside y (wide={wide})");
                if (narrow is null) narrow = yb.Span.ToArray();
                else for (int i = 0; i < narrow.Length; i++) Assert.True(BitConverter.SingleToInt32Bits(narrow[i]) == BitConverter.SingleToInt32Bits(yb[i]), $"Vector512 differs at {i}");
            }
            for (int p = 0; p < planes; p++)
            {
                int c = p % channels;
                for (int r = 0; r < oh; r++)
                    for (int q = 0; q < ow; q++)
                    {
                        double sum = withBias ? b[c] : 0, mag = Math.Abs(sum);
                        for (int i = 0; i < kh; i++)
                            for (int j = 0; j < kw; j++)
                            {
                                int ih = r * sh - ph + i * dh, iw = q * sw - pw + j * dw;
                                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                double term = (double)x[(p * h + ih) * w + iw] * wt[(c * kh + i) * kw + j];
                                sum += term;
                                mag += Math.Abs(term);
                            }
                        double want = act == Depthwise.Relu ? Math.Max(sum, 0) : act == Depthwise.Silu ? sum / (1 + Math.Exp(-sum)) : sum;
                        float got = yb[(p * oh + r) * ow + q];
                        double tol = 1e-6 * mag + 1e-6 * Math.Abs(want) + 1e-7;
                        Assert.True(Math.Abs(got - want) <= tol,
                            $"n={n} act={act} bias={withBias} plane {p} ({r}, {q}): {got:R}, expected {want:R} (|diff| {Math.Abs(got - want):E2} > {tol:E2})");
                    }
            }
        }
    }

    /// <summary>Channel c uses filter c and bias c for every sample: planes past the first sample restart at channel 0.</summary>
    [Fact]
    public void SamplesReuseTheChannelFilters()
    {
        const int channels = 3, h = 8, w = 9;
        var x = new float[2 * channels * h * w];
        for (int i = 0; i < channels * h * w; i++) x[i] = x[i + channels * h * w] = MathF.Sin(i);
        var wt = new float[channels * 9];
        for (int i = 0; i < wt.Length; i++) wt[i] = MathF.Cos(i);
        var b = new float[] { 0.5f, -1f, 2f };
        var y = new float[2 * channels * h * w];
        fixed (float* px = x, py = y, pwt = wt, pb = b)
            Depthwise.Forward(px, py, pwt, pb, 2 * channels, channels, h, w, h, w, 3, 3, 1, 1, 1, 1, 1, 1, Depthwise.Silu);
        for (int i = 0; i < channels * h * w; i++) Assert.Equal(y[i], y[i + channels * h * w]);
    }

    /// <summary>
    /// With two intra-op threads a large call runs as two halves of whole planes (an odd count of planes, channels not
    /// dividing the split point, rows that spill past a plane's end): the same bits as one thread, nothing written
    /// outside y, and two callers at once (one of them then runs serially) both right.
    /// </summary>
    [Theory]
    [InlineData(7, 76, 75, 2)]  // 38 x 38 outputs: the row kernel
    [InlineData(21, 28, 28, 1)] // 28 x 28: channel-blocked (AVX-512), blocks of 16 + 5 channels cut by the split
    public void TwoIntraOpThreads_GiveTheSameBits(int channels, int h, int w, int stride)
    {
        const int n = 3; // 3x3, padding 1
        int oh = (h + 2 - 3) / stride + 1, ow = (w + 2 - 3) / stride + 1;
        int planes = n * channels;
        var rng = new Rng(77);
        var x = new float[planes * h * w];
        var wt = new float[channels * 9];
        var b = new float[channels];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * 4 - 2;
        for (int i = 0; i < wt.Length; i++) wt[i] = rng.NextFloat() * 2 - 1;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextFloat() - 0.5f;
        Assert.True((long)planes * oh * ow * 9 >= Depthwise.ParallelThreshold, "the case must be large enough to split");
        using var serial = new GuardedBuffer(planes * oh * ow);
        fixed (float* px = x, pw0 = wt, pb = b)
            Depthwise.Forward(px, serial.Ptr, pw0, pb, planes, channels, h, w, oh, ow, 3, 3, stride, stride, 1, 1, 1, 1, Depthwise.Silu);
        int before = Parallelism.IntraOpThreads;
        try
        {
            Parallelism.IntraOpThreads = 2;
            var results = new float[2][];
            System.Threading.Tasks.Parallel.For(0, 2, k =>
            {
                for (int rep = 0; rep < 20; rep++)
                {
                    using var y = new GuardedBuffer(planes * oh * ow);
                    fixed (float* px = x, pw0 = wt, pb = b)
                        Depthwise.Forward(px, y.Ptr, pw0, pb, planes, channels, h, w, oh, ow, 3, 3, stride, stride, 1, 1, 1, 1, Depthwise.Silu);
                    Assert.True(y.GuardsIntact(), "wrote outside y");
                    results[k] = y.Span.ToArray();
                    for (int i = 0; i < results[k].Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(results[k][i]) == BitConverter.SingleToInt32Bits(serial[i]), $"caller {k} rep {rep}: output {i} differs");
                }
            });
        }
        finally { Parallelism.IntraOpThreads = before; }
    }
}

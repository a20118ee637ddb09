using System;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Runtime.Tests.Kernels;

/// <summary>The channels-last layout helpers against index-by-index definitions.</summary>
public unsafe class ChannelsLastOpsTests
{
    private static float[] Sequence(int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = i * 0.5f - 7f;
        return a;
    }

    [Theory]
    [InlineData(2, 32, 49)]   // 8×8 blocks, a last pixel block that moves back
    [InlineData(1, 16, 8)]    // exactly one block of pixels
    [InlineData(3, 8, 9)]
    [InlineData(2, 12, 10)]   // C not a multiple of 8: the scalar loop
    [InlineData(2, 16, 4)]    // fewer than 8 pixels: the scalar loop
    public void TransposesBothWays(int n, int C, int HW)
    {
        var chw = Sequence(n * C * HW);
        var hwc = new float[chw.Length];
        var back = new float[chw.Length];
        fixed (float* a = chw, b = hwc, c = back)
        {
            ChannelsLast.ToChannelsLast(a, b, n, C, HW);
            ChannelsLast.ToChannelsFirst(b, c, n, C, HW);
        }
        for (int s = 0; s < n; s++)
            for (int ch = 0; ch < C; ch++)
                for (int i = 0; i < HW; i++)
                    Assert.Equal(chw[(s * C + ch) * HW + i], hwc[(s * HW + i) * C + ch]);
        Assert.Equal(chw, back);
    }

    [Fact]
    public void PacksWeightsAsKernelRowColumnInOut()
    {
        const int O = 5, I = 3, KH = 2, KW = 3;
        var w = Sequence(O * I * KH * KW);
        var packed = new float[w.Length];
        fixed (float* a = w, b = packed) ChannelsLast.PackChannelsLast(a, b, O, I, KH * KW);
        for (int o = 0; o < O; o++)
            for (int i = 0; i < I; i++)
                for (int ky = 0; ky < KH; ky++)
                    for (int kx = 0; kx < KW; kx++)
                        Assert.Equal(w[((o * I + i) * KH + ky) * KW + kx], packed[((ky * KW + kx) * I + i) * O + o]);
    }

    [Fact]
    public void PadsWithZeroBorders()
    {
        const int H = 3, W = 4, C = 2, PH = 1, PW = 2;
        var x = Sequence(H * W * C);
        var dst = new float[(H + 2 * PH) * (W + 2 * PW) * C];
        Array.Fill(dst, float.NaN); // every element must be written
        fixed (float* a = x, b = dst) ChannelsLast.PadChannelsLast(a, b, H, W, C, PH, PW);
        for (int h = 0; h < H + 2 * PH; h++)
            for (int w = 0; w < W + 2 * PW; w++)
                for (int c = 0; c < C; c++)
                {
                    bool inside = h >= PH && h < H + PH && w >= PW && w < W + PW;
                    float expected = inside ? x[((h - PH) * W + (w - PW)) * C + c] : 0f;
                    Assert.Equal(expected, dst[(h * (W + 2 * PW) + w) * C + c]);
                }
    }

    [Fact]
    public void BitwiseEqualComparesBitsNotValues()
    {
        Assert.True(ChannelsLast.BitwiseEqual(new[] { 1f, float.NaN }, new[] { 1f, float.NaN }));
        Assert.False(ChannelsLast.BitwiseEqual(new[] { 0f }, new[] { -0f }));
        Assert.False(ChannelsLast.BitwiseEqual(new[] { 1f, 2f }, new[] { 1f, 2.0000002f }));
    }
}

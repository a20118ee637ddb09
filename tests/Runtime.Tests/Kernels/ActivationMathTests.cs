using System;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using CnnGen.Runtime.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests.Kernels;

/// <summary>
/// The float erf and exp under <see cref="ActivationOps"/> against float64 (the tests' own erf in
/// <see cref="RefActivations"/>, and Math.Exp), swept over float bit patterns; and that float64 erf against values of
/// Python's math.erf / math.erfc (the C library's, an independent implementation).
/// </summary>
public unsafe class ActivationMathTests
{
    private readonly ITestOutputHelper _out;

    public ActivationMathTests(ITestOutputHelper output) => _out = output;

    private static readonly bool[] Widths = Vector512.IsHardwareAccelerated ? new[] { false, true } : new[] { false };

    /// <summary>Every <paramref name="stride"/>-th float from <paramref name="from"/> up to <paramref name="to"/> (both ≥ 0), and their negatives.</summary>
    private static float[] Sweep(float from, float to, int stride)
    {
        int a = BitConverter.SingleToInt32Bits(from), b = BitConverter.SingleToInt32Bits(to);
        int count = (b - a) / stride + 1;
        var xs = new float[2 * count];
        for (int i = 0; i < count; i++)
        {
            xs[2 * i] = BitConverter.Int32BitsToSingle(a + i * stride);
            xs[2 * i + 1] = -xs[2 * i];
        }
        return xs;
    }

    private delegate void Kernel(float* x, float* y, int n, bool wide);

    private static float[] Run(Kernel k, float[] xs, bool wide)
    {
        var ys = new float[xs.Length];
        fixed (float* px = xs, py = ys) k(px, py, xs.Length, wide);
        return ys;
    }

    // Python 3.11: math.erf(v) / math.erfc(v), printed with repr().
    [Theory]
    [InlineData(0.1, 0.1124629160182849)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(1.5, 0.9661051464753108)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(2.5, 0.999593047982555)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(3.5, 0.9999992569016276)]
    [InlineData(4.0, 0.9999999845827421)]
    [InlineData(-0.7, -0.6778011938374184)]
    public void ReferenceErfMatchesLibm(double x, double erf) =>
        Assert.True(Math.Abs(RefActivations.Erf(x) - erf) <= 2e-15 * Math.Abs(erf), $"erf({x}) = {RefActivations.Erf(x):R}, libm {erf:R}");

    [Theory]
    [InlineData(3.0, 2.2090496998585438e-05)]
    [InlineData(4.0, 1.541725790028002e-08)]
    [InlineData(5.0, 1.5374597944280351e-12)]
    [InlineData(7.0, 4.183825607779414e-23)]
    [InlineData(10.0, 2.088487583762545e-45)]
    [InlineData(20.0, 5.3958656116079005e-176)]
    [InlineData(-1.0, 1.842700792949715)]
    public void ReferenceErfcMatchesLibm(double x, double erfc) =>
        Assert.True(Math.Abs(RefActivations.Erfc(x) / erfc - 1) <= 1e-14, $"erfc({x}) = {RefActivations.Erfc(x):R}, libm {erfc:R}");

    /// <summary>
    /// Float erf over [−6, 6] (every 997th float, and the small arguments down to 1e-30): max error relative to the
    /// float64 erf ≤ 1e-7 (measured 7.7e-8), and exactly ±1 from |x| ≥ 3.92 on.
    /// </summary>
    [Fact]
    public void ErfIsAccurate()
    {
        float[] xs = Sweep(1e-30f, 6f, 997);
        foreach (bool wide in Widths)
        {
            float[] ys = Run((x, y, n, w) => ActivationOps.Erf(x, y, n, w), xs, wide);
            double worst = 0;
            float at = 0;
            for (int i = 0; i < xs.Length; i++)
            {
                double want = RefActivations.Erf(xs[i]);
                double rel = Math.Abs(ys[i] - want) / Math.Abs(want);
                if (rel > worst) { worst = rel; at = xs[i]; }
            }
            _out.WriteLine($"erf (wide={wide}): max relative error {worst:E3} at x = {at:R} over {xs.Length} floats");
            Assert.True(worst <= 1e-7, $"erf: max relative error {worst:E3} at x = {at:R}");
        }
        float[] special = { 0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 3.92f, 10f, -10f };
        float[] e = Run((x, y, n, w) => ActivationOps.Erf(x, y, n, w), special, false);
        Assert.Equal(new[] { 0f, -0f, 1f, -1f, float.NaN, 1f, 1f, -1f }, e);
        Assert.True(float.IsNegative(e[1]), "erf(−0) = −0");
    }

    /// <summary>
    /// 1 + erf(x) (GELU's 2·Φ(x√2)) relative to the float64 erfc(−x) over [−9, 6]: 4e-7 (measured 3.7e-7 at x ≈ −2.5:
    /// Numerical Recipes' 1.05e-7 plus float rounding), keeping relative accuracy in the negative tail where 1 + erf
    /// cancels; results below the smallest normal float (x &lt; −9.3) are compared in absolute terms.
    /// </summary>
    [Fact]
    public void OnePlusErfIsAccurateInTheTail()
    {
        float[] all = Sweep(1e-30f, 9f, 997);
        float[] xs = Array.FindAll(all, v => v <= 6f);
        foreach (bool wide in Widths)
        {
            float[] ys = Run((x, y, n, w) => ActivationOps.OnePlusErf(x, y, n, w), xs, wide);
            double worst = 0;
            float at = 0;
            for (int i = 0; i < xs.Length; i++)
            {
                double want = RefActivations.Erfc(-(double)xs[i]);
                double rel = Math.Abs(ys[i] - want) / want;
                if (want < 1.2e-38) rel = Math.Abs(ys[i] - want) / 1.2e-38; // subnormal results: absolute, in units of the smallest normal
                if (rel > worst) { worst = rel; at = xs[i]; }
            }
            _out.WriteLine($"1 + erf (wide={wide}): max relative error {worst:E3} at x = {at:R} over {xs.Length} floats");
            Assert.True(worst <= 4e-7, $"1 + erf: max relative error {worst:E3} at x = {at:R}");
        }
    }

    /// <summary>
    /// Float exp over [−104, 89]: normal results within 1 ulp of the correctly rounded float64 value (measured over every 401st float: 1 ulp),
    /// subnormal ones within 1 subnormal ulp, +∞ from 88.72284 on, 0 below −103.98, NaN for NaN.
    /// </summary>
    [Fact]
    public void ExpIsAccurate()
    {
        float[] xs = Sweep(1e-30f, 104f, 401);
        foreach (bool wide in Widths)
        {
            float[] ys = Run((x, y, n, w) => ActivationOps.Exp(x, y, n, w), xs, wide);
            int worstUlp = 0;
            float at = 0;
            for (int i = 0; i < xs.Length; i++)
            {
                double want = Math.Exp(xs[i]);
                float rounded = (float)want;
                if (float.IsInfinity(rounded))
                {
                    Assert.True(float.IsPositiveInfinity(ys[i]) || ys[i] >= 3.40282e38f, $"exp({xs[i]:R}) = {ys[i]:R}, want ∞");
                    continue;
                }
                if (rounded < 1.17549435e-38f)
                {
                    Assert.True(Math.Abs(ys[i] - want) <= 1.5e-45, $"exp({xs[i]:R}) = {ys[i]:R}, want {want:R} (subnormal)");
                    continue;
                }
                int ulp = Math.Abs(BitConverter.SingleToInt32Bits(ys[i]) - BitConverter.SingleToInt32Bits(rounded));
                if (ulp > worstUlp) { worstUlp = ulp; at = xs[i]; }
            }
            _out.WriteLine($"exp (wide={wide}): max error {worstUlp} ulp at x = {at:R} over {xs.Length} floats");
            Assert.True(worstUlp <= 1, $"exp: {worstUlp} ulp at x = {at:R}");
        }
        float[] special = { 0f, 88.72284f, 88.7228f, -103.98f, float.PositiveInfinity, float.NegativeInfinity, float.NaN };
        float[] e = Run((x, y, n, w) => ActivationOps.Exp(x, y, n, w), special, false);
        Assert.Equal(1f, e[0]);
        Assert.True(float.IsPositiveInfinity(e[1]), $"exp(88.72284) = {e[1]:R}");
        Assert.True(float.IsFinite(e[2]) && e[2] > 3.4e38f, $"exp(88.7228) = {e[2]:R}");
        Assert.Equal(0f, e[3]);
        Assert.True(float.IsPositiveInfinity(e[4]));
        Assert.Equal(0f, e[5]);
        Assert.True(float.IsNaN(e[6]));
    }

    /// <summary>
    /// Exp applies 2^n with one scalef where AVX-512 has it and with two exact factors 2^(n/2)·2^(n − n/2) elsewhere; the
    /// two agree bit for bit for every mantissa exp's polynomial gives (about 0.7 to 1.42) and every n the clamp allows
    /// (−150 to 128: subnormal results rounded once, overflow to +∞), so both machines' Exp give the same bits.
    /// </summary>
    [Fact]
    public void OneScalefEqualsTwoFactors()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return; // the scalef path exists only there
        var rng = new Rng(2024);
        var e = new float[16];
        var n = new float[16];
        for (int round = 0; round < 20000; round++)
        {
            for (int l = 0; l < 16; l++)
            {
                e[l] = 0.7f + 0.72f * rng.NextFloat();
                n[l] = -150 + (round * 16 + l) % 279;
            }
            var ve = Vector512.Create(e);
            var vn = Vector512.Create(n);
            Vector512<float> one = System.Runtime.Intrinsics.X86.Avx512F.Scale(ve, vn);
            Vector512<int> ni = Vector512.ConvertToInt32(vn), half = Vector512.ShiftRightArithmetic(ni, 1);
            Vector512<float> two = ve * Vector512.ShiftLeft(half + Vector512.Create(127), 23).AsSingle()
                * Vector512.ShiftLeft(ni - half + Vector512.Create(127), 23).AsSingle();
            for (int l = 0; l < 16; l++)
                Assert.True(BitConverter.SingleToInt32Bits(one[l]) == BitConverter.SingleToInt32Bits(two[l]),
                    $"e = {e[l]:R}, n = {n[l]}: scalef {one[l]:R}, two factors {two[l]:R}");
        }
    }
}

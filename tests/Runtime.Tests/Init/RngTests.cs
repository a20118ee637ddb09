using System;
using System.Linq;
using Xunit;

namespace CnnGen.Runtime.Tests;

public class RngTests
{
    // Golden values from an independent Python transcription of the reference C code
    // (splitmix64.c seeding the four words of xoshiro256starstar.c):
    //   def sm(x): x=(x+0x9E3779B97F4A7C15)&M; z=x; z=((z^(z>>30))*0xBF58476D1CE4E5B9)&M; z=((z^(z>>27))*0x94D049BB133111EB)&M; return x, z^(z>>31)
    //   next(): r=rotl(s1*5,7)*9; t=s1<<17; s2^=s0; s3^=s1; s1^=s2; s0^=s3; s2^=t; s3=rotl(s3,45)
    [Theory]
    [InlineData(0UL, new ulong[] { 0x99EC5F36CB75F2B4UL, 0xBF6E1F784956452AUL, 0x1A5F849D4933E6E0UL, 0x6AA594F1262D2D2CUL, 0xBBA5AD4A1F842E59UL })]
    [InlineData(42UL, new ulong[] { 0x15780B2E0C2EC716UL, 0x6104D9866D113A7EUL, 0xAE17533239E499A1UL, 0xECB8AD4703B360A1UL, 0xFDE6DC7FE2EC5E64UL })]
    public void NextUInt64_matches_the_reference_xoshiro256starstar_seeded_by_splitmix64(ulong seed, ulong[] expected)
    {
        var rng = new Rng(seed);
        Assert.Equal(expected, Enumerable.Range(0, expected.Length).Select(_ => rng.NextUInt64()).ToArray());
    }

    [Fact]
    public void Same_seed_gives_the_same_sequence_and_different_seeds_differ()
    {
        double[] Draw(int seed) { var r = new Rng(seed); return Enumerable.Range(0, 1000).Select(_ => r.NextDouble() + r.Normal() + r.NextFloat()).ToArray(); }
        Assert.Equal(Draw(7), Draw(7));
        Assert.NotEqual(Draw(7), Draw(8));
        Assert.Equal(new Rng(-1).NextUInt64(), new Rng(ulong.MaxValue).NextUInt64());
        Assert.NotEqual(new Rng(0).NextUInt64(), new Rng(1).NextUInt64());
    }

    [Fact]
    public void State_round_trips_and_Jump_gives_a_separate_stream()
    {
        var a = new Rng(3);
        for (int i = 0; i < 10; i++) a.NextUInt64();
        Span<ulong> state = stackalloc ulong[Rng.StateWords];
        a.GetState(state);
        var b = Rng.FromState(state);
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());

        var c = new Rng(5);
        Rng before = c.Jump();
        Assert.Equal(new Rng(5).NextUInt64(), before.NextUInt64());
        ulong[] x = Enumerable.Range(0, 50).Select(_ => c.NextUInt64()).ToArray();
        ulong[] y = Enumerable.Range(0, 50).Select(_ => before.NextUInt64()).ToArray();
        Assert.Empty(x.Intersect(y));
        Assert.Throws<ArgumentException>(() => Rng.FromState(new ulong[4]));
    }

    [Fact]
    public void NextFloat_and_NextDouble_are_uniform_on_the_half_open_unit_interval()
    {
        var rng = new Rng(11);
        const int n = 1_000_000;
        double sumF = 0, sumF2 = 0, sumD = 0, sumD2 = 0;
        for (int i = 0; i < n; i++)
        {
            float f = rng.NextFloat();
            double d = rng.NextDouble();
            Assert.True(f >= 0f && f < 1f);
            Assert.True(d >= 0.0 && d < 1.0);
            sumF += f; sumF2 += (double)f * f; sumD += d; sumD2 += d * d;
        }
        // Mean 1/2 (sd of the estimate 0.29/sqrt(n) = 0.00029), variance 1/12.
        Assert.InRange(sumF / n, 0.4985, 0.5015);
        Assert.InRange(sumD / n, 0.4985, 0.5015);
        Assert.InRange(sumF2 / n - (sumF / n) * (sumF / n), 1 / 12.0 - 0.001, 1 / 12.0 + 0.001);
        Assert.InRange(sumD2 / n - (sumD / n) * (sumD / n), 1 / 12.0 - 0.001, 1 / 12.0 + 0.001);
    }

    [Fact]
    public void Uniform_respects_bounds_including_degenerate_and_float_rounding_cases()
    {
        var rng = new Rng(1);
        for (int i = 0; i < 100_000; i++)
        {
            float v = rng.Uniform(-0.25f, 0.75f);
            Assert.True(v >= -0.25f && v < 0.75f, v.ToString());
        }
        Assert.Equal(2f, rng.Uniform(2f, 2f));
        // An interval one ulp wide: every sample must be lo.
        float lo = 1f, hi = MathF.BitIncrement(1f);
        for (int i = 0; i < 1000; i++) Assert.Equal(lo, rng.Uniform(lo, hi));
    }

    [Fact]
    public void Normal_has_mean_0_and_variance_1()
    {
        var rng = new Rng(99);
        const int n = 400_000;
        double sum = 0, sum2 = 0, sum4 = 0;
        for (int i = 0; i < n; i++) { double z = rng.Normal(); sum += z; sum2 += z * z; sum4 += z * z * z * z; }
        Assert.InRange(sum / n, -0.01, 0.01);
        Assert.InRange(sum2 / n, 0.99, 1.01);
        Assert.InRange(sum4 / n, 2.9, 3.1); // the kurtosis of a normal is 3 (a uniform's would be 1.8)
        var r2 = new Rng(5);
        double m = Enumerable.Range(0, 100_000).Average(_ => (double)r2.Normal(10f, 2f));
        Assert.InRange(m, 9.97, 10.03);
    }

    [Fact]
    public void NextInt_is_in_range_and_unbiased()
    {
        var rng = new Rng(4);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++) counts[rng.NextInt(7)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500)); // expected 10,000, sd ~93
        for (int i = 0; i < 10_000; i++) Assert.InRange(rng.NextInt(-3, 2), -3, 1);
        Assert.InRange(rng.NextInt(int.MinValue, int.MaxValue), int.MinValue, int.MaxValue - 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextInt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextInt(5, 5));
    }

    [Fact]
    public void Shuffle_is_a_deterministic_uniform_permutation()
    {
        int[] Perm(int seed) { var a = Enumerable.Range(0, 100).ToArray(); new Rng(seed).Shuffle(a.AsSpan()); return a; }
        Assert.Equal(Perm(1), Perm(1));
        Assert.NotEqual(Perm(1), Perm(2));
        Assert.Equal(Enumerable.Range(0, 100), Perm(1).OrderBy(x => x));
        Assert.NotEqual(Enumerable.Range(0, 100), Perm(1));

        // Where element 0 lands among 5 positions over many shuffles: each position 1/5.
        var rng = new Rng(8);
        var where = new int[5];
        var a = new int[5];
        for (int t = 0; t < 50_000; t++)
        {
            for (int i = 0; i < 5; i++) a[i] = i;
            rng.Shuffle(a.AsSpan());
            where[Array.IndexOf(a, 0)]++;
        }
        Assert.All(where, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void Bernoulli_frequency_matches_p()
    {
        var rng = new Rng(21);
        int hits = 0;
        for (int i = 0; i < 100_000; i++) if (rng.Bernoulli(0.3)) hits++;
        Assert.InRange(hits, 29_400, 30_600); // sd ~145
        Assert.False(new Rng(0).Bernoulli(0));
        Assert.True(new Rng(0).Bernoulli(1));
    }
}

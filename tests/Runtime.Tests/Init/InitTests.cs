using System;
using System.Linq;
using Xunit;


namespace CnnGen.Runtime.Tests;

public class InitTests
{
    private static (double Mean, double Var, float Min, float Max) Stats(float[] w)
    {
        double mean = w.Average(v => (double)v);
        double var = w.Average(v => (v - mean) * (v - mean));
        return (mean, var, w.Min(), w.Max());
    }

    [Fact]
    public void KaimingUniform_with_default_a_is_PyTorch_default_bound_1_over_sqrt_fan_in()
    {
        // torch: nn.Conv2d(1, 16, 3) -> kaiming_uniform_(w, a=math.sqrt(5)); fan_in = 1*3*3 = 9, gain = sqrt(2/6), bound = gain*sqrt(3/9) = 1/3.
        Assert.Equal(1f / 3f, Init.KaimingUniformBound(9), 6);
        // nonlinearity relu (a = 0): bound = sqrt(2)*sqrt(3/fan_in) = sqrt(6/fan_in).
        Assert.Equal(MathF.Sqrt(6f / 50f), Init.KaimingUniformBound(50, a: 0), 6);
        Assert.Equal(1f / MathF.Sqrt(1568f), Init.BiasBound(1568), 6);

        var w = new float[200_000];
        Init.KaimingUniform(w, 9, new Rng(0));
        var (mean, var, min, max) = Stats(w);
        float bound = 1f / 3f;
        Assert.True(min >= -bound && max < bound);
        Assert.True(min < -0.99f * bound && max > 0.99f * bound); // the whole interval is used
        Assert.InRange(mean, -0.003, 0.003);
        Assert.InRange(var, bound * bound / 3 * 0.98, bound * bound / 3 * 1.02); // uniform(-b, b) variance b^2/3
    }

    [Fact]
    public void Initializers_are_deterministic_per_seed()
    {
        float[] Make(int seed) { var w = new float[1000]; Init.KaimingUniform(w, 25, new Rng(seed)); return w; }
        Assert.Equal(Make(3), Make(3));
        Assert.NotEqual(Make(3), Make(4));
    }

    [Fact]
    public void Uniform_and_GlorotUniform_respect_their_bounds_and_variance()
    {
        var w = new float[100_000];
        Init.Uniform(w, 0.05f, new Rng(2));
        var s = Stats(w);
        Assert.True(s.Min >= -0.05f && s.Max < 0.05f);
        Assert.InRange(s.Var, 0.05 * 0.05 / 3 * 0.98, 0.05 * 0.05 / 3 * 1.02);

        // Keras Dense(32) on 1568 inputs: limit = sqrt(6 / (1568 + 32)).
        double limit = Math.Sqrt(6.0 / 1600);
        Init.GlorotUniform(w, 1568, 32, new Rng(2));
        s = Stats(w);
        Assert.True(s.Min >= -limit && s.Max < limit);
        Assert.True(s.Max > 0.99 * limit);
        Assert.InRange(s.Mean, -0.002 * limit * 10, 0.002 * limit * 10);
        Assert.InRange(s.Var, limit * limit / 3 * 0.98, limit * limit / 3 * 1.02);
    }

    [Fact]
    public void Normal_initializers_have_the_requested_std()
    {
        var w = new float[100_000];
        Init.KaimingNormal(w, 50, new Rng(6)); // He: std sqrt(2/50) = 0.2
        var s = Stats(w);
        Assert.InRange(Math.Sqrt(s.Var), 0.198, 0.202);
        Init.GlorotNormal(w, 30, 20, new Rng(6)); // std sqrt(2/50) = 0.2
        Assert.InRange(Math.Sqrt(Stats(w).Var), 0.198, 0.202);
    }

    [Fact]
    public void Zeros_ones_and_constant_fill_exactly_and_bad_arguments_throw()
    {
        var w = Enumerable.Repeat(3f, 10).ToArray();
        Init.Zeros(w);
        Assert.All(w, v => Assert.Equal(0f, v));
        Init.Ones(w.AsSpan(2, 3));
        Assert.Equal(new float[] { 0, 0, 1, 1, 1, 0, 0, 0, 0, 0 }, w);
        Init.Constant(w, -2f);
        Assert.All(w, v => Assert.Equal(-2f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => Init.KaimingUniform(w, 0, new Rng(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Init.GlorotUniform(w, 3, -1, new Rng(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Init.Uniform(w, -1f, new Rng(0)));
    }
}

using System;

namespace CnnGen;

/// <summary>
/// Parameter initializers with PyTorch's (<c>torch.nn.init</c>) and Keras' formulas. Each fills the span in order
/// from the given <see cref="Rng"/>, so a model initialized from one seed is reproducible.
/// </summary>
/// <remarks>
/// PyTorch's default for <c>Conv2d</c> and <c>Linear</c> is <see cref="KaimingUniform"/> with a = sqrt(5) for the weight
/// (bound 1/sqrt(fan_in)) and <see cref="Uniform"/> with <see cref="BiasBound"/> for the bias. The distributions match
/// PyTorch's; the values do not (PyTorch uses a different generator).
/// </remarks>
public static class Init
{
    /// <summary>
    /// PyTorch's <c>kaiming_uniform_(w, a, mode='fan_in', nonlinearity='leaky_relu')</c>: uniform in ±bound with
    /// gain = sqrt(2 / (1 + a²)) and bound = gain * sqrt(3 / fanIn).
    /// </summary>
    /// <param name="w">The weights to fill.</param>
    /// <param name="fanIn">Inputs per output unit: in_features for Linear, (in_channels / groups) * kh * kw for Conv2d.</param>
    /// <param name="rng">The random source.</param>
    /// <param name="a">The leaky-ReLU negative slope; PyTorch's layer default is sqrt(5), giving bound 1/sqrt(fanIn).</param>
    public static void KaimingUniform(Span<float> w, int fanIn, Rng rng, double a = 2.23606797749979)
    {
        Uniform(w, KaimingUniformBound(fanIn, a), rng);
    }

    /// <summary>The bound <see cref="KaimingUniform"/> uses: sqrt(2 / (1 + a²)) * sqrt(3 / fanIn).</summary>
    /// <param name="fanIn">Inputs per output unit; must be positive.</param>
    /// <param name="a">The leaky-ReLU negative slope.</param>
    /// <returns>The half-width of the uniform interval.</returns>
    public static float KaimingUniformBound(int fanIn, double a = 2.23606797749979)
    {
        CheckFan(fanIn, nameof(fanIn));
        double gain = Math.Sqrt(2.0 / (1.0 + a * a));
        return (float)(gain * Math.Sqrt(3.0 / fanIn));
    }

    /// <summary>PyTorch's <c>kaiming_normal_(w, a, mode='fan_in')</c>: normal with mean 0 and std = sqrt(2 / (1 + a²)) / sqrt(fanIn).</summary>
    /// <param name="w">The weights to fill.</param>
    /// <param name="fanIn">Inputs per output unit.</param>
    /// <param name="rng">The random source.</param>
    /// <param name="a">The leaky-ReLU negative slope (0 for ReLU, He initialization).</param>
    public static void KaimingNormal(Span<float> w, int fanIn, Rng rng, double a = 0)
    {
        CheckFan(fanIn, nameof(fanIn));
        double std = Math.Sqrt(2.0 / (1.0 + a * a)) / Math.Sqrt(fanIn);
        Normal(w, 0f, (float)std, rng);
    }

    /// <summary>The bound of PyTorch's default bias initialization for Conv2d and Linear: 1 / sqrt(fanIn).</summary>
    /// <param name="fanIn">Inputs per output unit; must be positive.</param>
    /// <returns>The half-width of the uniform interval.</returns>
    public static float BiasBound(int fanIn)
    {
        CheckFan(fanIn, nameof(fanIn));
        return (float)(1.0 / Math.Sqrt(fanIn));
    }

    /// <summary>Fills <paramref name="w"/> uniformly in [-bound, bound) (PyTorch's <c>uniform_(-bound, bound)</c>).</summary>
    /// <param name="w">The values to fill.</param>
    /// <param name="bound">The half-width; must be non-negative.</param>
    /// <param name="rng">The random source.</param>
    public static void Uniform(Span<float> w, float bound, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(bound >= 0) || float.IsInfinity(bound))
            throw new ArgumentOutOfRangeException(nameof(bound), bound, "Must be finite and non-negative.");
        for (int i = 0; i < w.Length; i++)
            w[i] = rng.Uniform(-bound, bound);
    }

    /// <summary>Glorot/Xavier uniform (Keras' default kernel initializer, PyTorch's <c>xavier_uniform_</c> with gain 1): ±sqrt(6 / (fanIn + fanOut)).</summary>
    /// <param name="w">The weights to fill.</param>
    /// <param name="fanIn">Inputs per output unit.</param>
    /// <param name="fanOut">Outputs per input unit: out_features for Linear, out_channels * kh * kw for Conv2d (as torch.nn.init computes it from the weight shape, whatever the groups).</param>
    /// <param name="rng">The random source.</param>
    public static void GlorotUniform(Span<float> w, int fanIn, int fanOut, Rng rng)
    {
        CheckFan(fanIn, nameof(fanIn));
        CheckFan(fanOut, nameof(fanOut));
        Uniform(w, (float)Math.Sqrt(6.0 / ((double)fanIn + fanOut)), rng);
    }

    /// <summary>Glorot/Xavier normal: mean 0, std sqrt(2 / (fanIn + fanOut)).</summary>
    /// <param name="w">The weights to fill.</param>
    /// <param name="fanIn">Inputs per output unit.</param>
    /// <param name="fanOut">Outputs per input unit.</param>
    /// <param name="rng">The random source.</param>
    public static void GlorotNormal(Span<float> w, int fanIn, int fanOut, Rng rng)
    {
        CheckFan(fanIn, nameof(fanIn));
        CheckFan(fanOut, nameof(fanOut));
        Normal(w, 0f, (float)Math.Sqrt(2.0 / ((double)fanIn + fanOut)), rng);
    }

    /// <summary>Fills <paramref name="w"/> with normal samples.</summary>
    /// <param name="w">The values to fill.</param>
    /// <param name="mean">The mean.</param>
    /// <param name="std">The standard deviation; must be non-negative.</param>
    /// <param name="rng">The random source.</param>
    public static void Normal(Span<float> w, float mean, float std, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(std >= 0))
            throw new ArgumentOutOfRangeException(nameof(std), std, "Must be non-negative.");
        for (int i = 0; i < w.Length; i++)
            w[i] = rng.Normal(mean, std);
    }

    /// <summary>Sets every value to 0 (biases in Keras, batch-norm shift).</summary>
    /// <param name="w">The values to clear.</param>
    public static void Zeros(Span<float> w) => w.Clear();

    /// <summary>Sets every value to 1 (batch-norm scale, running variance).</summary>
    /// <param name="w">The values to fill.</param>
    public static void Ones(Span<float> w) => w.Fill(1f);

    /// <summary>Sets every value to <paramref name="value"/>.</summary>
    /// <param name="w">The values to fill.</param>
    /// <param name="value">The constant.</param>
    public static void Constant(Span<float> w, float value) => w.Fill(value);

    private static void CheckFan(int fan, string name)
    {
        if (fan <= 0)
            throw new ArgumentOutOfRangeException(name, fan, "Fan-in and fan-out must be positive.");
    }
}

using System;

namespace CnnGen.Runtime.Tests.Reference;

/// <summary>
/// Float64 references of the issue-14 activations (GELU exact and tanh, Hardswish, Hardsigmoid), forward and backward,
/// with PyTorch 1.13's semantics at the kinks and for NaN/±∞ (its vectorized CPU kernels; see ActivationOps), and the
/// erf/erfc they need, written from their series and continued fraction (no library erf).
/// </summary>
internal static class RefActivations
{
    private static readonly double TwoOverSqrtPi = 2.0 / Math.Sqrt(Math.PI);
    private static readonly double InvSqrt2Pi = 1.0 / Math.Sqrt(2.0 * Math.PI);
    private static readonly double TanhC1 = 2.0 * Math.Sqrt(2.0 / Math.PI); // GELU tanh: y = x·σ(k), k = x·(C1 + C2·x²)
    private static readonly double TanhC2 = TanhC1 * 0.044715;

    // ------------------------------------------------------------------ erf, erfc

    /// <summary>
    /// erf(x). |x| &lt; 3: erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (Abramowitz–Stegun 7.1.6: positive terms, no
    /// cancellation); |x| ≥ 3: 1 − erfc(|x|) with the sign of x.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        double a = Math.Abs(x);
        if (a >= 3) return Math.Sign(x) * (1.0 - ErfcContinuedFraction(a));
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        return TwoOverSqrtPi * Math.Exp(-x2) * sum;
    }

    /// <summary>erfc(x) = 1 − erf(x), accurate in the tails: the continued fraction for x ≥ 3, 2 − erfc(−x) for x &lt; 0.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return 2.0 - Erfc(-x);
        return x >= 3 ? ErfcContinuedFraction(x) : 1.0 - Erf(x);
    }

    /// <summary>
    /// erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))) (Abramowitz–Stegun 7.1.14), evaluated
    /// bottom-up from depth 200: converged to double precision for x ≥ 3.
    /// </summary>
    private static double ErfcContinuedFraction(double x)
    {
        if (double.IsPositiveInfinity(x)) return 0;
        double f = x;
        for (int k = 200; k >= 1; k--) f = x + k / 2.0 / f;
        return Math.Exp(-x * x) / (Math.Sqrt(Math.PI) * f);
    }

    // ------------------------------------------------------------------ GELU (exact)

    /// <summary>x·Φ(x), Φ(x) = erfc(−x/√2)/2 (−∞·0 = NaN at −∞, as PyTorch).</summary>
    public static double Gelu(double x) => x * 0.5 * Erfc(-x / Math.Sqrt(2.0));

    /// <summary>d/dx x·Φ(x) = Φ(x) + x·φ(x) (∞·0 = NaN at ±∞, as PyTorch).</summary>
    public static double GeluGrad(double x) => 0.5 * Erfc(-x / Math.Sqrt(2.0)) + x * Math.Exp(-0.5 * x * x) * InvSqrt2Pi;

    // ------------------------------------------------------------------ GELU (tanh approximation)

    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) = x·σ(k), k = 2·√(2/π)·(x + 0.044715·x³).</summary>
    public static double GeluTanh(double x) => x * Sigmoid(TanhK(x));

    /// <summary>σ(k) + x·σ(k)·(1 − σ(k))·k'(x), k' = C1 + 3·C2·x² (∞·0 = NaN at ±∞, as PyTorch).</summary>
    public static double GeluTanhGrad(double x)
    {
        double k = TanhK(x);
        double e = Math.Exp(-Math.Abs(k));
        double s1s = e / ((1 + e) * (1 + e)); // σ(k)·(1 − σ(k)), symmetric in k
        return Sigmoid(k) + x * s1s * (TanhC1 + 3 * TanhC2 * x * x);
    }

    /// <summary>
    /// PyTorch's own formula, 0.5·x·(1 + tanh(inner)): the same function as <see cref="GeluTanh"/>, kept to check the
    /// σ rewriting (it cancels for very negative x, so compare it only where 1 + tanh is not tiny).
    /// </summary>
    public static double GeluTanhPyTorchForm(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x)));

    private static double TanhK(double x) => x * (TanhC1 + TanhC2 * x * x);

    private static double Sigmoid(double k) => k >= 0 ? 1.0 / (1.0 + Math.Exp(-k)) : Math.Exp(k) / (1.0 + Math.Exp(k));

    // ------------------------------------------------------------------ SiLU

    /// <summary>x·σ(x) (NaN at −∞: −∞·0).</summary>
    public static double Silu(double x) => x * Sigmoid(x);

    /// <summary>d/dx x·σ(x) = σ(x) + x·σ(x)·(1 − σ(x)) (NaN at ±∞: ∞·0).</summary>
    public static double SiluGrad(double x)
    {
        double e = Math.Exp(-Math.Abs(x));
        return Sigmoid(x) + x * (e / ((1 + e) * (1 + e)));
    }

    // ------------------------------------------------------------------ Hardswish, Hardsigmoid

    /// <summary>x·min(max(x + 3, 0), 6)/6 (−∞·0 = NaN at −∞, as PyTorch).</summary>
    public static double Hardswish(double x) => x * Math.Min(Math.Max(x + 3, 0), 6) / 6;

    /// <summary>PyTorch 1.13's vectorized hardswish_backward: 0 for x &lt; −3, dy for x ≥ 3, else dy·(x/3 + 1/2).</summary>
    public static double HardswishBackward(double x, double dy) => x < -3 ? 0 : x >= 3 ? dy : dy * (x / 3 + 0.5);

    /// <summary>min(max(x + 3, 0), 6)/6.</summary>
    public static double Hardsigmoid(double x) => Math.Min(Math.Max(x + 3, 0), 6) / 6;

    /// <summary>PyTorch's hardsigmoid_backward: dy/6 strictly inside (−3, 3), else 0 (also for NaN x and at ±3).</summary>
    public static double HardsigmoidBackward(double x, double dy) => x > -3 && x < 3 ? dy / 6 : 0;

    // ------------------------------------------------------------------ on tensors, as RefLayers' layers

    public static RefTensor GeluForward(RefTensor x) => Map(x, Gelu);
    public static RefTensor GeluBackward(RefTensor x, RefTensor dy) => MapGrad(x, dy, (v, g) => g * GeluGrad(v));
    public static RefTensor GeluTanhForward(RefTensor x) => Map(x, GeluTanh);
    public static RefTensor GeluTanhBackward(RefTensor x, RefTensor dy) => MapGrad(x, dy, (v, g) => g * GeluTanhGrad(v));
    public static RefTensor HardswishForward(RefTensor x) => Map(x, Hardswish);
    public static RefTensor HardswishBackward(RefTensor x, RefTensor dy) => MapGrad(x, dy, HardswishBackward);
    public static RefTensor HardsigmoidForward(RefTensor x) => Map(x, Hardsigmoid);
    public static RefTensor HardsigmoidBackward(RefTensor x, RefTensor dy) => MapGrad(x, dy, HardsigmoidBackward);

    private static RefTensor Map(RefTensor x, Func<double, double> f)
    {
        var y = new RefTensor(x.Shape);
        for (int i = 0; i < x.Length; i++) y.Data[i] = f(x.Data[i]);
        return y;
    }

    private static RefTensor MapGrad(RefTensor x, RefTensor dy, Func<double, double, double> backward)
    {
        if (x.Length != dy.Length) throw new ArgumentException($"shape mismatch: {x.ShapeText} and {dy.ShapeText}");
        var dx = new RefTensor(x.Shape);
        for (int i = 0; i < x.Length; i++) dx.Data[i] = backward(x.Data[i], dy.Data[i]);
        return dx;
    }
}

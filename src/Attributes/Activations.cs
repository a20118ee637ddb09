using System;

namespace CnnGen
{
    // ---- issue 14: smooth and piecewise-linear activations of modern CNNs (MobileNetV3, ConvNeXt, ViT heads) ----

    /// <summary>
    /// Gaussian error linear unit, as PyTorch's <c>nn.GELU(approximate='none')</c>: x·Φ(x) = x·(1 + erf(x/√2))/2, with Φ the
    /// standard normal distribution function. <c>Approximate = "tanh"</c> gives <c>nn.GELU(approximate='tanh')</c>:
    /// x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class GELUAttribute : LayerAttribute
    {
        /// <summary>
        /// PyTorch's <c>approximate</c> argument: <c>"none"</c> (the default, the exact erf form) or <c>"tanh"</c> (the tanh
        /// approximation). Any other value is a declaration error.
        /// </summary>
        public string Approximate { get; set; } = "none";
    }

    /// <summary>
    /// Hard swish, as PyTorch's <c>nn.Hardswish()</c>: x·min(max(x + 3, 0), 6)/6 (0 for x ≤ −3, x for x ≥ 3), MobileNetV3's
    /// piecewise-linear stand-in for SiLU.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class HardswishAttribute : LayerAttribute { }

    /// <summary>
    /// Hard sigmoid, as PyTorch's <c>nn.Hardsigmoid()</c>: min(max(x + 3, 0), 6)/6 (0 for x ≤ −3, 1 for x ≥ 3),
    /// MobileNetV3's piecewise-linear stand-in for the sigmoid (its squeeze-excitation gate).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class HardsigmoidAttribute : LayerAttribute { }
}

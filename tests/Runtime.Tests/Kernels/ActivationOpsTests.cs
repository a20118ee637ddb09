using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using CnnGen.Runtime.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests.Kernels;

/// <summary>
/// <see cref="ActivationOps"/> (GELU exact and tanh, Hardswish, Hardsigmoid) against the float64
/// <see cref="RefActivations"/>: both vector widths, lengths around the vector widths, in place, edge values (0, ±3 and
/// their neighbours, ±large, ±∞, NaN), PyTorch's kink semantics pinned value by value, central finite differences of the
/// float kernels, and the float erf/exp underneath measured against float64.
/// </summary>
public unsafe class ActivationOpsTests
{
    private readonly ITestOutputHelper _out;

    public ActivationOpsTests(ITestOutputHelper output) => _out = output;

    /// <summary>The vector widths to test: Vector256 always, Vector512 where the hardware accelerates it.</summary>
    private static readonly bool[] Widths = Vector512.IsHardwareAccelerated ? new[] { false, true } : new[] { false };

    private static IEnumerable<int> Lengths()
    {
        for (int n = 0; n <= 41; n++) yield return n;
        foreach (int n in new[] { 63, 64, 65, 127, 1000, 1003 }) yield return n;
    }

    private delegate void Forward(float* x, float* y, int n, bool wide);
    private delegate void Backward(float* x, float* dy, float* dx, int n, bool wide);

    public static TheoryData<string> Names() => new() { "Gelu", "GeluTanh", "Hardswish", "Hardsigmoid", "Silu" };

    private static (Forward F, Backward B, Func<double, double> RefF, Func<double, double, double> RefB) Of(string name) => name switch
    {
        "Gelu" => ((x, y, n, w) => ActivationOps.Gelu(x, y, n, w), (x, dy, dx, n, w) => ActivationOps.GeluBackward(x, dy, dx, n, w),
            RefActivations.Gelu, (x, dy) => dy * RefActivations.GeluGrad(x)),
        "GeluTanh" => ((x, y, n, w) => ActivationOps.GeluTanh(x, y, n, w), (x, dy, dx, n, w) => ActivationOps.GeluTanhBackward(x, dy, dx, n, w),
            RefActivations.GeluTanh, (x, dy) => dy * RefActivations.GeluTanhGrad(x)),
        "Hardswish" => ((x, y, n, w) => ActivationOps.Hardswish(x, y, n, w), (x, dy, dx, n, w) => ActivationOps.HardswishBackward(x, dy, dx, n, w),
            RefActivations.Hardswish, RefActivations.HardswishBackward),
        "Hardsigmoid" => ((x, y, n, w) => ActivationOps.Hardsigmoid(x, y, n, w),
            (x, dy, dx, n, w) => ActivationOps.HardsigmoidBackward(x, dy, dx, n, w), RefActivations.Hardsigmoid, RefActivations.HardsigmoidBackward),
        "Silu" => ((x, y, n, w) => ActivationOps.Silu(x, y, n, w), (x, dy, dx, n, w) => ActivationOps.SiluBackward(x, dy, dx, n, w),
            RefActivations.Silu, (x, dy) => dy * RefActivations.SiluGrad(x)),
        _ => throw new ArgumentException(name),
    };

    // Relative tolerance 1e-6 (GELU is accurate to a few ulp; see the measured numbers printed by the tests), absolute
    // 1e-7 for values near zero crossings (GELU's gradient vanishes at x ≈ −0.75).
    private const double RelTol = 1e-6, AbsTol = 1e-7;

    private static void Close(string what, int i, float x, double expected, float actual)
    {
        if (double.IsNaN(expected) && float.IsNaN(actual)) return;
        double tol = AbsTol + RelTol * Math.Abs(expected);
        if (double.IsInfinity(expected) ? expected != actual : !(Math.Abs(actual - expected) <= tol))
            Assert.Fail($"{what}[{i}] at x = {x:R}: {actual:R}, expected {expected:R} (|diff| {Math.Abs(actual - expected):E2} > {tol:E2})");
    }

    private static readonly float[] Specials =
    {
        0f, -0f, 3f, -3f, MathF.BitIncrement(3f), MathF.BitDecrement(3f), MathF.BitIncrement(-3f), MathF.BitDecrement(-3f),
        1f, -1f, 0.5f, -0.5f, -0.75f, 1.4142135f, -1.4142135f, 5f, -5f, 10f, -10f, 13f, -13f, 20f, -20f, 50f, -50f,
        1e-20f, -1e-20f, 1e19f, -1e19f, 1e30f, -1e30f, 5e37f, float.MinValue, // (Hardswish(x > 5.7e37) = ∞: see PyTorchEdgeValues)
        float.PositiveInfinity, float.NegativeInfinity, float.NaN,
    };

    /// <summary>Uniform values in [−8, 8) with the special values spread over the array.</summary>
    private static float[] Inputs(int n, Rng rng)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (rng.NextFloat() * 2 - 1) * 8f;
        for (int i = 0, s = rng.NextInt(Specials.Length); i < n; i += 3, s++) a[i] = Specials[s % Specials.Length];
        return a;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardMatchesReference(string name)
    {
        var (f, _, refF, _) = Of(name);
        var rng = new Rng(name.Length * 7919);
        foreach (bool wide in Widths)
        foreach (int n in Lengths())
        {
            float[] x = Inputs(n, rng);
            using var xb = new GuardedBuffer(n);
            using var yb = new GuardedBuffer(n);
            x.CopyTo(xb.Span);
            f(xb.Ptr, yb.Ptr, n, wide);
            Assert.True(xb.GuardsIntact() && yb.GuardsIntact(), $"{name}(n={n}, wide={wide}) wrote outside its buffers");
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(x[i]), BitConverter.SingleToInt32Bits(xb[i])); // input untouched
                Close($"{name}(n={n}, wide={wide}) y", i, x[i], refF(x[i]), yb[i]);
            }
            f(xb.Ptr, xb.Ptr, n, wide); // in place: y aliases x
            Assert.True(xb.GuardsIntact());
            for (int i = 0; i < n; i++) Close($"{name}(n={n}, wide={wide}, in place) y", i, x[i], refF(x[i]), xb[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BackwardMatchesReference(string name)
    {
        var (_, b, _, refB) = Of(name);
        var rng = new Rng(name.Length * 104729);
        foreach (bool wide in Widths)
        foreach (int n in Lengths())
        {
            float[] x = Inputs(n, rng);
            var dy = new float[n];
            for (int i = 0; i < n; i++) dy[i] = (rng.NextFloat() * 2 - 1) * 2f;
            if (n > 5) dy[5] = float.NaN; // a NaN upstream gradient propagates exactly where PyTorch's does
            using var xb = new GuardedBuffer(n);
            using var dyb = new GuardedBuffer(n);
            using var dxb = new GuardedBuffer(n);
            x.CopyTo(xb.Span);
            dy.CopyTo(dyb.Span);
            b(xb.Ptr, dyb.Ptr, dxb.Ptr, n, wide);
            Assert.True(xb.GuardsIntact() && dyb.GuardsIntact() && dxb.GuardsIntact(), $"{name}(n={n}, wide={wide}) wrote outside its buffers");
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(dy[i]), BitConverter.SingleToInt32Bits(dyb[i]));
                Close($"{name}Backward(n={n}, wide={wide}) dx", i, x[i], refB(x[i], dy[i]), dxb[i]);
            }
            b(xb.Ptr, dyb.Ptr, dyb.Ptr, n, wide); // dx aliases dy
            Assert.True(dyb.GuardsIntact());
            for (int i = 0; i < n; i++) Close($"{name}Backward(n={n}, wide={wide}, dx aliases dy) dx", i, x[i], refB(x[i], dy[i]), dyb[i]);
        }
    }

    /// <summary>Vector512 and Vector256 give the same bits, and an element's value does not depend on where it sits (tail or body).</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void WidthsAndTailGiveTheSameBits(string name)
    {
        var (f, b, _, _) = Of(name);
        var rng = new Rng(5);
        const int n = 1003; // 62 Vector512 blocks, one Vector256 block, 3 in the tail
        float[] x = Inputs(n, rng), dy = Inputs(n, rng);
        float[] y256 = new float[n], y512 = new float[n], g256 = new float[n], g512 = new float[n];
        fixed (float* px = x, pdy = dy, a = y256, c = y512, ga = g256, gc = g512)
        {
            f(px, a, n, false);
            f(px, c, n, Vector512.IsHardwareAccelerated);
            b(px, pdy, ga, n, false);
            b(px, pdy, gc, n, Vector512.IsHardwareAccelerated);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(y256[i]), BitConverter.SingleToInt32Bits(y512[i]));
                Assert.Equal(BitConverter.SingleToInt32Bits(g256[i]), BitConverter.SingleToInt32Bits(g512[i]));
            }
            // every element again, alone: the 1-element tail path
            for (int i = 0; i < n; i++)
            {
                float one, g;
                f(px + i, &one, 1, false);
                b(px + i, pdy + i, &g, 1, false);
                Assert.Equal(BitConverter.SingleToInt32Bits(y256[i]), BitConverter.SingleToInt32Bits(one));
                Assert.Equal(BitConverter.SingleToInt32Bits(g256[i]), BitConverter.SingleToInt32Bits(g));
            }
        }
    }

    /// <summary>The public entry points (width from <see cref="Gemm.UseVector512"/>) compute the same as the explicit ones.</summary>
    [Fact]
    public void PublicEntryPointsUseTheSwitchedWidth()
    {
        var rng = new Rng(11);
        const int n = 77;
        float[] x = Inputs(n, rng), dy = Inputs(n, rng);
        var want = new float[n];
        var got = new float[n];
        fixed (float* px = x, pdy = dy, pw = want, pg = got)
        {
            void Same(string what)
            {
                for (int i = 0; i < n; i++) Assert.True(BitConverter.SingleToInt32Bits(want[i]) == BitConverter.SingleToInt32Bits(got[i]), $"{what}[{i}]");
            }
            bool w = Gemm.UseVector512;
            ActivationOps.Gelu(px, pw, n, w); ActivationOps.Gelu(px, pg, n); Same("Gelu");
            ActivationOps.GeluBackward(px, pdy, pw, n, w); ActivationOps.GeluBackward(px, pdy, pg, n); Same("GeluBackward");
            ActivationOps.GeluTanh(px, pw, n, w); ActivationOps.GeluTanh(px, pg, n); Same("GeluTanh");
            ActivationOps.GeluTanhBackward(px, pdy, pw, n, w); ActivationOps.GeluTanhBackward(px, pdy, pg, n); Same("GeluTanhBackward");
            ActivationOps.Hardswish(px, pw, n, w); ActivationOps.Hardswish(px, pg, n); Same("Hardswish");
            ActivationOps.HardswishBackward(px, pdy, pw, n, w); ActivationOps.HardswishBackward(px, pdy, pg, n); Same("HardswishBackward");
            ActivationOps.Hardsigmoid(px, pw, n, w); ActivationOps.Hardsigmoid(px, pg, n); Same("Hardsigmoid");
            ActivationOps.HardsigmoidBackward(px, pdy, pw, n, w); ActivationOps.HardsigmoidBackward(px, pdy, pg, n); Same("HardsigmoidBackward");
            ActivationOps.Silu(px, pw, n, w); ActivationOps.Silu(px, pg, n); Same("Silu");
            ActivationOps.SiluBackward(px, pdy, pw, n, w); ActivationOps.SiluBackward(px, pdy, pg, n); Same("SiluBackward");
        }
    }

    /// <summary>
    /// PyTorch 1.13 values at the kinks and at ±∞/NaN, from its vectorized CPU kernels (float32), e.g.
    /// <c>x = torch.tensor([-3., 3., ...] * 8, requires_grad=True); nn.Hardswish()(x).backward(torch.ones_like(x))</c>.
    /// </summary>
    [Theory]
    // name, x, dy, expected y, expected dx
    [InlineData("Hardswish", -3f, 1f, -0f, -0.5f)]
    [InlineData("Hardswish", 3f, 1f, 3f, 1f)]           // vectorized path; PyTorch's scalar tail path gives 1.5
    [InlineData("Hardswish", 2.9999998f, 1f, 2.9999998f, 1.5f)]
    [InlineData("Hardswish", -3.0000002f, 1f, -0f, 0f)]
    [InlineData("Hardswish", 0f, 1f, 0f, 0.5f)]
    [InlineData("Hardswish", float.NegativeInfinity, 1f, float.NaN, 0f)]
    [InlineData("Hardswish", float.PositiveInfinity, 1f, float.PositiveInfinity, 1f)]
    [InlineData("Hardswish", float.NaN, 1f, float.NaN, float.NaN)]  // scalar tail path: dx = 1
    [InlineData("Hardswish", -4f, float.NaN, -0f, 0f)]
    [InlineData("Hardswish", 1e38f, 1f, float.PositiveInfinity, 1f)] // x·6 overflows before the division by 6, as in PyTorch
    [InlineData("Hardswish", 4f, float.NaN, 4f, float.NaN)]
    [InlineData("Hardsigmoid", -3f, 1f, 0f, 0f)]
    [InlineData("Hardsigmoid", 3f, 1f, 1f, 0f)]
    [InlineData("Hardsigmoid", 0f, 1f, 0.5f, 0.16666667f)]
    [InlineData("Hardsigmoid", float.NaN, 1f, float.NaN, 0f)]
    [InlineData("Hardsigmoid", 4f, float.NaN, 1f, 0f)]
    [InlineData("Hardsigmoid", float.NegativeInfinity, 1f, 0f, 0f)]
    [InlineData("Gelu", 0f, 1f, 0f, 0.5f)]
    [InlineData("Gelu", float.PositiveInfinity, 1f, float.PositiveInfinity, float.NaN)]
    [InlineData("Gelu", float.NegativeInfinity, 1f, float.NaN, float.NaN)]
    [InlineData("Gelu", float.NaN, 1f, float.NaN, float.NaN)]
    [InlineData("Gelu", 1e30f, 1f, 1e30f, 1f)]
    [InlineData("Gelu", -1e30f, 1f, 0f, 0f)]
    [InlineData("GeluTanh", 0f, 1f, 0f, 0.5f)]
    [InlineData("GeluTanh", float.PositiveInfinity, 1f, float.PositiveInfinity, float.NaN)]
    [InlineData("GeluTanh", float.NegativeInfinity, 1f, float.NaN, float.NaN)]
    [InlineData("GeluTanh", float.NaN, 1f, float.NaN, float.NaN)]
    [InlineData("GeluTanh", 1e19f, 1f, 1e19f, 1f)]
    [InlineData("GeluTanh", -1e19f, 1f, 0f, 0f)]
    [InlineData("Silu", 0f, 1f, 0f, 0.5f)]
    [InlineData("Silu", float.PositiveInfinity, 1f, float.PositiveInfinity, float.NaN)]
    [InlineData("Silu", float.NegativeInfinity, 1f, float.NaN, float.NaN)]
    [InlineData("Silu", float.NaN, 1f, float.NaN, float.NaN)]
    [InlineData("Silu", 1e30f, 1f, 1e30f, 1f)]
    [InlineData("Silu", -1e30f, 1f, -0f, 0f)]
    [InlineData("GeluTanh", 1e30f, 1f, 1e30f, 1f)]      // PyTorch float32 gives NaN (x² overflows), float64 gives 1
    [InlineData("GeluTanh", -1e30f, 1f, 0f, 0f)]        // PyTorch float32 NaN, float64 0
    public void PyTorchEdgeValues(string name, float x, float dy, float y, float dx)
    {
        var (f, b, _, _) = Of(name);
        foreach (bool wide in Widths)
        foreach (int n in new[] { 1, 8, 16, 19 })
        {
            var xs = new float[n];
            var dys = new float[n];
            Array.Fill(xs, x);
            Array.Fill(dys, dy);
            var ys = new float[n];
            var dxs = new float[n];
            fixed (float* px = xs, pdy = dys, py = ys, pdx = dxs)
            {
                f(px, py, n, wide);
                b(px, pdy, pdx, n, wide);
            }
            for (int i = 0; i < n; i++)
            {
                // Zeros compare by value (PyTorch's sign of zero differs between its paths); everything else exactly.
                Assert.True(ys[i].Equals(y) || (ys[i] == 0 && y == 0), $"{name}({x:R}) = {ys[i]:R}, PyTorch {y:R} (n={n}, wide={wide})");
                Assert.True(dxs[i].Equals(dx) || (dxs[i] == 0 && dx == 0), $"{name}'({x:R})·{dy:R} = {dxs[i]:R}, PyTorch {dx:R} (n={n}, wide={wide})");
            }
        }
    }

    /// <summary>
    /// The float kernels' backward against central differences of their own forward, in float32:
    /// (f(x + h) − f(x − h))/2h with h = 1e-2, x on a grid of [−6, 6] away from the kinks ±3. Truncation error h²·f'''/6 and
    /// rounding ulp(f)/h bound the difference by 5e-4 here.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void BackwardMatchesFiniteDifferencesOfForward(string name)
    {
        var (f, b, _, _) = Of(name);
        const float h = 1e-2f;
        var xs = new List<float>();
        for (float v = -6f; v <= 6f; v += 0.0371f) if (Math.Abs(Math.Abs(v) - 3f) > 2 * h) xs.Add(v);
        int n = xs.Count;
        float[] x = xs.ToArray(), xp = new float[n], xm = new float[n], yp = new float[n], ym = new float[n];
        float[] ones = new float[n], dx = new float[n];
        for (int i = 0; i < n; i++) { xp[i] = x[i] + h; xm[i] = x[i] - h; ones[i] = 1f; }
        double worst = 0;
        foreach (bool wide in Widths)
        {
            fixed (float* px = x, pxp = xp, pxm = xm, pyp = yp, pym = ym, po = ones, pdx = dx)
            {
                f(pxp, pyp, n, wide);
                f(pxm, pym, n, wide);
                b(px, po, pdx, n, wide);
            }
            for (int i = 0; i < n; i++)
            {
                double fd = ((double)yp[i] - ym[i]) / ((double)xp[i] - xm[i]);
                double d = Math.Abs(fd - dx[i]);
                worst = Math.Max(worst, d);
                Assert.True(d <= 5e-4, $"{name}'({x[i]:R}) = {dx[i]:R}, central difference {fd:R} (|diff| {d:E2}, wide={wide})");
            }
        }
        _out.WriteLine($"{name}: max |backward − central difference| = {worst:E2} over {n} points (tolerance 5e-4)");
    }

    /// <summary>AddBiasSilu (a folded convolution's bias and SiLU in one pass) gives the bits of the bias add, then SiLU.</summary>
    [Fact]
    public void AddBiasSiluEqualsBiasThenSilu()
    {
        var rng = new Rng(3);
        foreach (bool wide in Widths)
        foreach (int n in Lengths())
        {
            float[] x = Inputs(n, rng);
            float bias = rng.NextFloat() * 2 - 1;
            var want = new float[n];
            for (int i = 0; i < n; i++) want[i] = x[i] + bias;
            fixed (float* pw = want) ActivationOps.Silu(pw, pw, n, wide);
            using var yb = new GuardedBuffer(n);
            x.CopyTo(yb.Span);
            ActivationOps.AddBiasSilu(yb.Ptr, bias, n, wide);
            Assert.True(yb.GuardsIntact());
            for (int i = 0; i < n; i++) Assert.True(BitConverter.SingleToInt32Bits(want[i]) == BitConverter.SingleToInt32Bits(yb[i]), $"n={n} wide={wide} [{i}]");
        }
    }

    /// <summary>The reference's derivatives against central differences of the reference forwards, in float64 (h = 1e-5).</summary>
    [Fact]
    public void ReferenceDerivativesMatchFiniteDifferences()
    {
        const double h = 1e-5;
        var cases = new (string, Func<double, double>, Func<double, double>)[]
        {
            ("Gelu", RefActivations.Gelu, RefActivations.GeluGrad),
            ("GeluTanh", RefActivations.GeluTanh, RefActivations.GeluTanhGrad),
            ("Hardswish", RefActivations.Hardswish, v => RefActivations.HardswishBackward(v, 1)),
            ("Hardsigmoid", RefActivations.Hardsigmoid, v => RefActivations.HardsigmoidBackward(v, 1)),
            ("Silu", RefActivations.Silu, RefActivations.SiluGrad),
        };
        foreach (var (name, f, g) in cases)
        {
            for (double v = -12; v <= 12; v += 0.01)
            {
                if (Math.Abs(Math.Abs(v) - 3) < 2 * h) continue;
                double fd = (f(v + h) - f(v - h)) / (2 * h);
                Assert.True(Math.Abs(fd - g(v)) <= 1e-8 * Math.Max(1, Math.Abs(fd)), $"{name}'({v:R}): {g(v):R}, central difference {fd:R}");
            }
        }
    }

    /// <summary>The σ form of the tanh GELU equals PyTorch's 0.5·x·(1 + tanh(·)) where the latter does not cancel.</summary>
    [Fact]
    public void GeluTanhSigmoidFormEqualsPyTorchForm()
    {
        for (double v = -6; v <= 30; v += 0.003)
            Assert.True(Math.Abs(RefActivations.GeluTanh(v) - RefActivations.GeluTanhPyTorchForm(v)) <= 1e-13 * Math.Max(1, Math.Abs(v)), $"x = {v}");
    }
}

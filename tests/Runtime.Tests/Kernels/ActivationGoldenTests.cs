using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Text.Json;
using CnnGen.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests.Kernels;

/// <summary>
/// <see cref="ActivationOps"/> against PyTorch 1.13 (Fixtures/activations/activations.json, made by
/// tools/golden/make_activation_golden.py): y = module(x) and dx = x.grad after y.backward(dy) for
/// <c>torch.nn.GELU()</c>, <c>torch.nn.GELU(approximate='tanh')</c>, <c>torch.nn.Hardswish()</c> and
/// <c>torch.nn.Hardsigmoid()</c> on 448 inputs (a grid of [−8, 8], random normals, 0, ±3 and their neighbours, ±large,
/// ±∞, NaN), PyTorch computing once in float64 (the accurate values) and once in float32 (its float kernels).
/// <para>
/// Tolerances: against float64, |diff| ≤ 1e-6·|expected| + 1e-7 (the kernels' own accuracy); against PyTorch's float32,
/// |diff| ≤ 1e-5·|expected| + 5e-7·max(1, |x|) (PyTorch's float GELU computes 1 + erf with cancellation for x &lt; 0,
/// absolute error ≈ |x|·6e-8). NaN must meet NaN and ±∞ the same ±∞; the sign of zero is not compared (PyTorch's own
/// paths disagree on it). The one documented difference: PyTorch's float32 tanh-GELU gradient is NaN where x² overflows
/// (|x| &gt; 1.8e19) while its float64 one and these kernels give dy or 0.
/// </para>
/// </summary>
public unsafe class ActivationGoldenTests
{
    private readonly ITestOutputHelper _out;

    public ActivationGoldenTests(ITestOutputHelper output) => _out = output;

    private static readonly bool[] Widths = Vector512.IsHardwareAccelerated ? new[] { false, true } : new[] { false };

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String
        ? float.Parse(v.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture)
        : (float)v.GetDouble()).ToArray();

    private static JsonDocument Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "activations", "activations.json");
        Assert.True(File.Exists(path), $"Missing golden fixture {path}");
        return JsonDocument.Parse(File.ReadAllBytes(path));
    }

    /// <summary>Fails at the first element out of tolerance; returns max |diff|/max(1, |expected|).</summary>
    private static double Compare(string what, float[] x, float[] expected, float[] actual, double rtol, Func<float, double> atol,
        Func<int, bool>? exempt = null)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (exempt != null && exempt(i)) continue;
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) || float.IsInfinity(e))
            {
                Assert.True(e.Equals(a), $"{what}[{i}] at x = {x[i]:R}: {a:R}, PyTorch {e:R}");
                continue;
            }
            double d = Math.Abs((double)a - e);
            double tol = rtol * Math.Abs(e) + atol(x[i]);
            Assert.True(d <= tol, $"{what}[{i}] at x = {x[i]:R}: {a:R}, PyTorch {e:R} (|diff| {d:E3} > {tol:E3})");
            max = Math.Max(max, d / Math.Max(1, Math.Abs(e)));
        }
        return max;
    }

    /// <summary>5e-7·max(1, |x|) (1 for non-finite x).</summary>
    private static double Scaled(float x) => 5e-7 * (float.IsFinite(x) ? Math.Max(1, Math.Abs(x)) : 1);

    [Theory]
    [InlineData("gelu")]
    [InlineData("gelu_tanh")]
    [InlineData("hardswish")]
    [InlineData("hardsigmoid")]
    public void MatchesPyTorch(string name)
    {
        using JsonDocument doc = Load();
        JsonElement root = doc.RootElement;
        float[] x = Floats(root.GetProperty("x")), dy = Floats(root.GetProperty("dy"));
        int n = root.GetProperty("n").GetInt32();
        Assert.Equal(n, x.Length);
        Assert.Equal(0, n % 16); // every element on PyTorch's vectorized path
        JsonElement c = root.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        _out.WriteLine($"{c.GetProperty("call").GetString()}, torch {root.GetProperty("torch").GetString()}, {n} inputs");
        float[] y64 = Floats(c.GetProperty("y64")), dx64 = Floats(c.GetProperty("dx64"));
        float[] y32 = Floats(c.GetProperty("y32")), dx32 = Floats(c.GetProperty("dx32"));

        // PyTorch float32's tanh-GELU gradient: NaN from x² overflowing; float64 is finite there. Exactly those, no others.
        Func<int, bool> overflow = i => name == "gelu_tanh" && float.IsNaN(dx32[i]) && !float.IsNaN(dx64[i]);
        for (int i = 0; i < n; i++)
            if (overflow(i)) Assert.True(Math.Abs(x[i]) > 1.8e19f, $"float32 PyTorch NaN gradient at x = {x[i]:R}");

        foreach (bool wide in Widths)
        {
            var y = new float[n];
            var dx = new float[n];
            fixed (float* px = x, pdy = dy, py = y, pdx = dx)
            {
                switch (name)
                {
                    case "gelu": ActivationOps.Gelu(px, py, n, wide); ActivationOps.GeluBackward(px, pdy, pdx, n, wide); break;
                    case "gelu_tanh": ActivationOps.GeluTanh(px, py, n, wide); ActivationOps.GeluTanhBackward(px, pdy, pdx, n, wide); break;
                    case "hardswish": ActivationOps.Hardswish(px, py, n, wide); ActivationOps.HardswishBackward(px, pdy, pdx, n, wide); break;
                    default: ActivationOps.Hardsigmoid(px, py, n, wide); ActivationOps.HardsigmoidBackward(px, pdy, pdx, n, wide); break;
                }
            }
            string w = wide ? "Vector512" : "Vector256";
            double a = Compare($"{name} y vs float64 ({w})", x, y64, y, 1e-6, _ => 1e-7);
            double b = Compare($"{name} dx vs float64 ({w})", x, dx64, dx, 1e-6, _ => 1e-7);
            double p = Compare($"{name} y vs float32 ({w})", x, y32, y, 1e-5, Scaled);
            double q = Compare($"{name} dx vs float32 ({w})", x, dx32, dx, 1e-5, Scaled, overflow);
            _out.WriteLine($"{w}: max |diff|/max(1, |expected|) vs PyTorch float64: y {a:E3}, dx {b:E3}; vs float32: y {p:E3}, dx {q:E3}");
        }
    }
}

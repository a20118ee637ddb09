using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Runtime.Tests.Kernels;

/// <summary>
/// Every <see cref="Ops"/> kernel against a scalar double reference, forward and backward, over lengths that are and
/// are not multiples of the vector width, out of place and in place (generated inference runs every element-wise
/// activation in place; backward passes alias dx with dy where the kernels document it).
/// </summary>
public unsafe class OpsTests
{
    public static IEnumerable<int> Lengths()
    {
        for (int n = 0; n <= 41; n++) yield return n;
        foreach (int n in new[] { 63, 64, 65, 127, 1000, 1003 }) yield return n;
    }

    private static void Close(string what, int i, double expected, float actual, double relTol = 1e-6, double absTol = 1e-7)
    {
        if (double.IsNaN(expected) && float.IsNaN(actual)) return;
        double tol = absTol + relTol * Math.Abs(expected);
        if (!(Math.Abs(actual - expected) <= tol))
            Assert.Fail($"{what}[{i}] = {actual:R}, expected {expected:R} (|diff| {Math.Abs(actual - expected):E2} > {tol:E2})");
    }

    private static float[] Random(int n, Rng rng, float scale = 3f)
    {
        var a = new float[n];
        KernelRandom.Fill(a, rng, scale);
        // Sprinkle exact zeros and signed zeros: the branch points of ReLU-like kernels.
        for (int i = 0; i < n; i += 7) a[i] = (i / 7) % 2 == 0 ? 0f : -0f;
        return a;
    }

    private delegate void Unary(float* x, float* y, int n);
    private delegate void Backward(float* a, float* dy, float* dx, int n);

    /// <summary>y = f(x) out of place and in place; checks guards.</summary>
    private static void CheckUnary(string name, Unary kernel, Func<double, double> f, double relTol = 1e-6, double absTol = 1e-7)
    {
        var rng = new Rng(name.GetHashCode(StringComparison.Ordinal) & 0xffff);
        foreach (int n in Lengths())
        {
            var x = Random(n, rng);
            using var xb = new GuardedBuffer(n);
            using var yb = new GuardedBuffer(n);
            x.CopyTo(xb.Span);
            kernel(xb.Ptr, yb.Ptr, n);
            Assert.True(xb.GuardsIntact() && yb.GuardsIntact(), $"{name}(n={n}) wrote outside its buffers");
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(x[i], xb[i]); // input untouched
                Close($"{name}(n={n}) y", i, f(x[i]), yb[i], relTol, absTol);
            }
            // In place: y aliases x.
            kernel(xb.Ptr, xb.Ptr, n);
            Assert.True(xb.GuardsIntact());
            for (int i = 0; i < n; i++) Close($"{name}(n={n}, in place) y", i, f(x[i]), xb[i], relTol, absTol);
        }
    }

    /// <summary>dx = g(a, dy) out of place and with dx aliasing dy.</summary>
    private static void CheckBackward(string name, Backward kernel, Func<double, double> aOf, Func<double, double, double> g,
        bool inPlace, double relTol = 1e-6, double absTol = 1e-7)
    {
        var rng = new Rng((name.GetHashCode(StringComparison.Ordinal) & 0xffff) + 1);
        foreach (int n in Lengths())
        {
            var x = Random(n, rng);
            var a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float)aOf(x[i]);
            var dy = Random(n, rng, 2f);
            using var ab = new GuardedBuffer(n);
            using var dyb = new GuardedBuffer(n);
            using var dxb = new GuardedBuffer(n);
            a.CopyTo(ab.Span);
            dy.CopyTo(dyb.Span);
            kernel(ab.Ptr, dyb.Ptr, dxb.Ptr, n);
            Assert.True(ab.GuardsIntact() && dyb.GuardsIntact() && dxb.GuardsIntact(), $"{name}(n={n}) wrote outside its buffers");
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(dy[i], dyb[i]);
                Close($"{name}(n={n}) dx", i, g(a[i], dy[i]), dxb[i], relTol, absTol);
            }
            if (inPlace)
            {
                kernel(ab.Ptr, dyb.Ptr, dyb.Ptr, n);
                Assert.True(dyb.GuardsIntact());
                for (int i = 0; i < n; i++) Close($"{name}(n={n}, dx aliases dy) dx", i, g(a[i], dy[i]), dyb[i], relTol, absTol);
            }
        }
    }

    // ---------------------------------------------------------------- element-wise activations

    [Fact]
    public void Relu() => CheckUnary("Relu", (x, y, n) => Ops.Relu(x, y, n), v => v > 0 ? v : 0);

    [Fact]
    public void ReluBackward_FromOutput() =>
        CheckBackward("ReluBackward", (y, dy, dx, n) => Ops.ReluBackward(y, dy, dx, n), x => x > 0 ? x : 0, (y, dy) => y > 0 ? dy : 0, inPlace: true);

    [Theory]
    [InlineData(0.01f)]
    [InlineData(0.2f)]
    [InlineData(0f)]
    [InlineData(1.5f)]
    public void LeakyRelu(float slope)
    {
        CheckUnary($"LeakyRelu({slope})", (x, y, n) => Ops.LeakyRelu(x, y, n, slope), v => v > 0 ? v : (double)slope * v);
        CheckBackward($"LeakyReluBackward({slope})", (x, dy, dx, n) => Ops.LeakyReluBackward(x, dy, dx, n, slope), x => x,
            (x, dy) => x > 0 ? dy : (double)slope * dy, inPlace: true);
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.7f)]
    public void Elu(float alpha)
    {
        CheckUnary($"Elu({alpha})", (x, y, n) => Ops.Elu(x, y, n, alpha), v => v > 0 ? v : alpha * (Math.Exp(v) - 1), 2e-6, 2e-7);
        // EluBackward takes x and y; test with y computed from x in double, rounded to float as the layer stores it.
        var rng = new Rng(77);
        foreach (int n in Lengths())
        {
            var x = Random(n, rng);
            var y = new float[n];
            for (int i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : (float)(alpha * (Math.Exp(x[i]) - 1));
            var dy = Random(n, rng, 2f);
            using var xb = new GuardedBuffer(n);
            using var yb = new GuardedBuffer(n);
            using var dyb = new GuardedBuffer(n);
            using var dxb = new GuardedBuffer(n);
            x.CopyTo(xb.Span); y.CopyTo(yb.Span); dy.CopyTo(dyb.Span);
            Ops.EluBackward(xb.Ptr, yb.Ptr, dyb.Ptr, dxb.Ptr, n, alpha);
            Assert.True(xb.GuardsIntact() && yb.GuardsIntact() && dyb.GuardsIntact() && dxb.GuardsIntact());
            // d/dx ELU = 1 for x > 0, alpha·exp(x) = y + alpha otherwise.
            for (int i = 0; i < n; i++) Close($"EluBackward(n={n})", i, x[i] > 0 ? dy[i] : dy[i] * alpha * Math.Exp(x[i]), dxb[i], 2e-6, 2e-7);
            Ops.EluBackward(xb.Ptr, yb.Ptr, dyb.Ptr, dyb.Ptr, n, alpha);
            for (int i = 0; i < n; i++) Close($"EluBackward(n={n}, dx aliases dy)", i, x[i] > 0 ? dy[i] : dy[i] * alpha * Math.Exp(x[i]), dyb[i], 2e-6, 2e-7);
        }
    }

    [Fact]
    public void Sigmoid()
    {
        CheckUnary("Sigmoid", (x, y, n) => Ops.Sigmoid(x, y, n), v => 1 / (1 + Math.Exp(-v)));
        CheckBackward("SigmoidBackward", (y, dy, dx, n) => Ops.SigmoidBackward(y, dy, dx, n), x => 1 / (1 + Math.Exp(-x)),
            (y, dy) => dy * y * (1 - y), inPlace: true, 2e-6, 1e-7);
    }

    [Fact]
    public void Sigmoid_Saturates()
    {
        var x = new float[] { -200f, -89f, -20f, 0f, 20f, 89f, 200f, float.MaxValue, float.MinValue };
        var y = new float[x.Length];
        fixed (float* px = x, py = y) Ops.Sigmoid(px, py, x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.False(float.IsNaN(y[i]), $"sigmoid({x[i]}) is NaN");
            Close("Sigmoid(saturated)", i, 1 / (1 + Math.Exp(-(double)x[i])), y[i], 1e-6, 1e-30);
        }
    }

    [Fact]
    public void Tanh()
    {
        CheckUnary("Tanh", (x, y, n) => Ops.Tanh(x, y, n), Math.Tanh, 2e-6, 1e-7);
        CheckBackward("TanhBackward", (y, dy, dx, n) => Ops.TanhBackward(y, dy, dx, n), Math.Tanh, (y, dy) => dy * (1 - y * y),
            inPlace: true, 2e-6, 1e-7);
    }

    [Fact]
    public void Activations_PropagateNaN_AtEveryPosition()
    {
        // PyTorch: relu(nan) = leaky_relu(nan) = elu(nan) = sigmoid(nan) = tanh(nan) = nan. A NaN must come out as NaN
        // whether it sits in a vector body or in the scalar tail, so a diverging model is never masked.
        var kernels = new (string Name, Unary Kernel)[]
        {
            ("Relu", (x, y, n) => Ops.Relu(x, y, n)),
            ("LeakyRelu", (x, y, n) => Ops.LeakyRelu(x, y, n, 0.1f)),
            ("Elu", (x, y, n) => Ops.Elu(x, y, n, 1f)),
            ("Sigmoid", (x, y, n) => Ops.Sigmoid(x, y, n)),
            ("Tanh", (x, y, n) => Ops.Tanh(x, y, n)),
        };
        const int n = 19; // two vectors and a tail of 3
        foreach (var (name, kernel) in kernels)
        {
            var bad = new List<int>();
            for (int at = 0; at < n; at++)
            {
                var x = new float[n];
                x[at] = float.NaN;
                var y = new float[n];
                fixed (float* px = x, py = y) kernel(px, py, n);
                if (!float.IsNaN(y[at])) bad.Add(at);
            }
            Assert.True(bad.Count == 0, $"{name}(NaN) is not NaN at positions {string.Join(", ", bad)} of {n}");
        }
    }

    // ---------------------------------------------------------------- biases and reductions

    public static TheoryData<int, int> Blocks()
    {
        var d = new TheoryData<int, int>();
        foreach (int r in new[] { 1, 2, 3, 7 })
            foreach (int c in new[] { 1, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 33, 676 })
                d.Add(r, c);
        return d;
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void BiasesAndSums(int rows, int cols)
    {
        var rng = new Rng(rows * 1000 + cols);
        var y = Random(rows * cols, rng);
        var rowBias = Random(rows, rng);
        var colBias = Random(cols, rng);
        var rowSums0 = Random(rows, rng);
        var colSums0 = Random(cols, rng);
        using var yb = new GuardedBuffer(rows * cols);
        using var rb = new GuardedBuffer(rows);
        using var cb = new GuardedBuffer(cols);

        // AddRowBias: y[r, c] += bias[r]
        y.CopyTo(yb.Span); rowBias.CopyTo(rb.Span);
        Ops.AddRowBias(yb.Ptr, rb.Ptr, rows, cols);
        Assert.True(yb.GuardsIntact() && rb.GuardsIntact());
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) Close("AddRowBias", r * cols + c, (double)y[r * cols + c] + rowBias[r], yb[r * cols + c]);

        // AddColumnBias: y[r, c] += bias[c]
        y.CopyTo(yb.Span); colBias.CopyTo(cb.Span);
        Ops.AddColumnBias(yb.Ptr, cb.Ptr, rows, cols);
        Assert.True(yb.GuardsIntact() && cb.GuardsIntact());
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) Close("AddColumnBias", r * cols + c, (double)y[r * cols + c] + colBias[c], yb[r * cols + c]);

        // AddRowSums: sums[r] += Σ_c x[r, c]
        y.CopyTo(yb.Span); rowSums0.CopyTo(rb.Span);
        Ops.AddRowSums(yb.Ptr, rb.Ptr, rows, cols);
        Assert.True(yb.GuardsIntact() && rb.GuardsIntact());
        for (int r = 0; r < rows; r++)
        {
            double s = rowSums0[r], mag = Math.Abs(rowSums0[r]);
            for (int c = 0; c < cols; c++) { s += y[r * cols + c]; mag += Math.Abs(y[r * cols + c]); }
            Assert.True(Math.Abs(rb[r] - s) <= 1e-6 * (mag + 1), $"AddRowSums[{r}] = {rb[r]}, expected {s}");
        }
        for (int i = 0; i < rows * cols; i++) Assert.Equal(y[i], yb[i]);

        // AddColumnSums: sums[c] += Σ_r x[r, c]
        colSums0.CopyTo(cb.Span);
        Ops.AddColumnSums(yb.Ptr, cb.Ptr, rows, cols);
        Assert.True(yb.GuardsIntact() && cb.GuardsIntact());
        for (int c = 0; c < cols; c++)
        {
            double s = colSums0[c], mag = Math.Abs(colSums0[c]);
            for (int r = 0; r < rows; r++) { s += y[r * cols + c]; mag += Math.Abs(y[r * cols + c]); }
            Assert.True(Math.Abs(cb[c] - s) <= 1e-6 * (mag + 1), $"AddColumnSums[{c}] = {cb[c]}, expected {s}");
        }
    }

    [Fact]
    public void AddTo()
    {
        var rng = new Rng(5);
        foreach (int n in Lengths())
        {
            var a = Random(n, rng);
            var b = Random(n, rng);
            using var ab = new GuardedBuffer(n);
            using var bb = new GuardedBuffer(n);
            a.CopyTo(ab.Span); b.CopyTo(bb.Span);
            Ops.AddTo(ab.Ptr, bb.Ptr, n);
            Assert.True(ab.GuardsIntact() && bb.GuardsIntact());
            for (int i = 0; i < n; i++) { Assert.Equal(a[i] + b[i], ab[i]); Assert.Equal(b[i], bb[i]); }
        }
    }

    // ---------------------------------------------------------------- softmax / log-softmax

    private static double[] RefSoftmax(float[] x, int r, int cols)
    {
        double max = double.NegativeInfinity;
        for (int i = 0; i < cols; i++) max = Math.Max(max, x[r * cols + i]);
        double sum = 0;
        var e = new double[cols];
        for (int i = 0; i < cols; i++) { e[i] = Math.Exp(x[r * cols + i] - max); sum += e[i]; }
        for (int i = 0; i < cols; i++) e[i] /= sum;
        return e;
    }

    private static double[] RefLogSoftmax(float[] x, int r, int cols)
    {
        double max = double.NegativeInfinity;
        for (int i = 0; i < cols; i++) max = Math.Max(max, x[r * cols + i]);
        double sum = 0;
        for (int i = 0; i < cols; i++) sum += Math.Exp(x[r * cols + i] - max);
        double ls = Math.Log(sum);
        var y = new double[cols];
        for (int i = 0; i < cols; i++) y[i] = x[r * cols + i] - max - ls;
        return y;
    }

    /// <summary>Rows of logits: small, moderate, huge positive/negative (overflow without the max shift), and equal.</summary>
    private static float[] Logits(int rows, int cols, Rng rng)
    {
        var x = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            float offset = (r % 5) switch { 0 => 0f, 1 => 1000f, 2 => -1000f, 3 => 88.5f, _ => 30000f };
            float spread = (r % 4) switch { 0 => 3f, 1 => 20f, 2 => 0f, _ => 0.01f };
            for (int c = 0; c < cols; c++) x[r * cols + c] = offset + rng.Uniform(-spread, spread);
        }
        return x;
    }

    public static TheoryData<int, int> SoftmaxShapes()
    {
        var d = new TheoryData<int, int>();
        foreach (int r in new[] { 1, 5, 10 })
            foreach (int c in new[] { 1, 2, 7, 8, 9, 10, 17, 100, 1001 })
                d.Add(r, c);
        return d;
    }

    [Theory]
    [MemberData(nameof(SoftmaxShapes))]
    public void Softmax_ForwardBackward(int rows, int cols)
    {
        var rng = new Rng(rows * 31 + cols);
        var x = Logits(rows, cols, rng);
        using var xb = new GuardedBuffer(rows * cols);
        using var yb = new GuardedBuffer(rows * cols);
        x.CopyTo(xb.Span);
        Ops.Softmax(xb.Ptr, yb.Ptr, rows, cols);
        Assert.True(xb.GuardsIntact() && yb.GuardsIntact());
        var y = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var e = RefSoftmax(x, r, cols);
            double sum = 0;
            for (int c = 0; c < cols; c++)
            {
                float v = yb[r * cols + c];
                Assert.False(float.IsNaN(v) || float.IsInfinity(v), $"softmax row {r} (offset {x[r * cols]}) gave {v}");
                Close($"Softmax({rows}x{cols}) row {r}", c, e[c], v, 1e-5, 1e-7);
                sum += v;
                y[r * cols + c] = v;
            }
            Assert.True(Math.Abs(sum - 1) < 1e-5, $"softmax row {r} sums to {sum}");
        }

        // Backward: dx = y ⊙ (dy − Σ dy·y), with dx separate and aliasing dy.
        var dy = Random(rows * cols, rng, 1f);
        using var dyb = new GuardedBuffer(rows * cols);
        using var dxb = new GuardedBuffer(rows * cols);
        dy.CopyTo(dyb.Span);
        Ops.SoftmaxBackward(yb.Ptr, dyb.Ptr, dxb.Ptr, rows, cols);
        Assert.True(yb.GuardsIntact() && dyb.GuardsIntact() && dxb.GuardsIntact());
        var expected = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double dot = 0;
            for (int c = 0; c < cols; c++) dot += (double)dy[r * cols + c] * y[r * cols + c];
            for (int c = 0; c < cols; c++) expected[r * cols + c] = y[r * cols + c] * (dy[r * cols + c] - dot);
        }
        for (int i = 0; i < rows * cols; i++) Close($"SoftmaxBackward({rows}x{cols})", i, expected[i], dxb[i], 1e-5, 1e-7);
    }

    [Theory]
    [MemberData(nameof(SoftmaxShapes))]
    public void LogSoftmax_ForwardBackward(int rows, int cols)
    {
        var rng = new Rng(rows * 37 + cols);
        var x = Logits(rows, cols, rng);
        using var xb = new GuardedBuffer(rows * cols);
        using var yb = new GuardedBuffer(rows * cols);
        x.CopyTo(xb.Span);
        Ops.LogSoftmax(xb.Ptr, yb.Ptr, rows, cols);
        Assert.True(xb.GuardsIntact() && yb.GuardsIntact());
        var y = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var e = RefLogSoftmax(x, r, cols);
            for (int c = 0; c < cols; c++)
            {
                float v = yb[r * cols + c];
                Assert.False(float.IsNaN(v) || float.IsInfinity(v), $"log-softmax row {r} gave {v}");
                // As PyTorch computes it (x − max − log Σ), the error scales with the output, not with |x|.
                Close($"LogSoftmax({rows}x{cols}) row {r} (offset {x[r * cols]})", c, e[c], v, 1e-6, 5e-7);
                y[r * cols + c] = v;
            }
        }

        // Backward: dx = dy − exp(y)·Σ dy.
        var dy = Random(rows * cols, rng, 1f);
        using var dyb = new GuardedBuffer(rows * cols);
        using var dxb = new GuardedBuffer(rows * cols);
        dy.CopyTo(dyb.Span);
        Ops.LogSoftmaxBackward(yb.Ptr, dyb.Ptr, dxb.Ptr, rows, cols);
        Assert.True(dyb.GuardsIntact() && dxb.GuardsIntact());
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += dy[r * cols + c];
            for (int c = 0; c < cols; c++)
            {
                double e = dy[r * cols + c] - Math.Exp(y[r * cols + c]) * sum;
                Close($"LogSoftmaxBackward({rows}x{cols})", r * cols + c, e, dxb[r * cols + c], 1e-5, 1e-6 * (1 + Math.Abs(sum)));
            }
        }
    }

    [Fact]
    public void Softmax_ExtremeLogits()
    {
        // One dominant logit, -inf entries (masked), and float.MaxValue-sized entries: no NaN, exact one-hot where due.
        var x = new float[] { float.MaxValue, 0f, -float.MaxValue, float.NegativeInfinity, 1e30f, 1e30f, -1e30f, 5f };
        var y = new float[x.Length];
        var ly = new float[x.Length];
        fixed (float* px = x, py = y, pl = ly)
        {
            Ops.Softmax(px, py, 2, 4);
            Ops.LogSoftmax(px, pl, 2, 4);
        }
        Assert.Equal(new float[] { 1f, 0f, 0f, 0f, 0.5f, 0.5f, 0f, 0f }, y);
        Assert.Equal(0f, ly[0]);
        Assert.Equal(float.NegativeInfinity, ly[3]);
        Assert.Equal(-MathF.Log(2f), ly[4], 6);
        Assert.Equal(-MathF.Log(2f), ly[5], 6);
        foreach (float v in ly) Assert.False(float.IsNaN(v));
    }

    // ---------------------------------------------------------------- dropout

    [Theory]
    [InlineData(1, 0.5f)]
    [InlineData(1, 0.3f)]
    [InlineData(13, 0.25f)]
    [InlineData(49, 0.5f)]
    [InlineData(1, 0.9f)]
    public void Dropout_MatchesScalarReference(int groupSize, float p)
    {
        int groups = 2003;
        var rng = new Rng(99);
        var x = Random(groups * groupSize, rng);
        using var xb = new GuardedBuffer(x.Length);
        using var yb = new GuardedBuffer(x.Length);
        using var mb = new GuardedBuffer(groups);
        x.CopyTo(xb.Span);
        var kernelRng = new Rng(1234UL);
        var refRng = new Rng(1234UL);
        Ops.DropoutForward(xb.Ptr, yb.Ptr, mb.Ptr, groups, groupSize, p, kernelRng);
        Assert.True(xb.GuardsIntact() && yb.GuardsIntact() && mb.GuardsIntact());
        float scale = 1f / (1f - p);
        int dropped = 0;
        for (int g = 0; g < groups; g++)
        {
            bool drop = refRng.NextFloat() < p;
            Assert.Equal(drop ? 0f : scale, mb[g]);
            if (drop) dropped++;
            for (int i = 0; i < groupSize; i++)
            {
                int k = g * groupSize + i;
                Assert.Equal(drop ? 0f : x[k] * scale, yb[k]);
            }
        }
        // Binomial(groups, p): within 5 standard deviations.
        double sd = Math.Sqrt(groups * p * (1 - p));
        Assert.True(Math.Abs(dropped - groups * p) < 5 * sd, $"dropped {dropped} of {groups} groups, expected ≈ {groups * p}");

        // Backward: the same mask, out of place and in place.
        var dy = Random(x.Length, rng);
        using var dyb = new GuardedBuffer(x.Length);
        using var dxb = new GuardedBuffer(x.Length);
        dy.CopyTo(dyb.Span);
        Ops.DropoutBackward(mb.Ptr, dyb.Ptr, dxb.Ptr, groups, groupSize);
        for (int k = 0; k < x.Length; k++) Assert.Equal(dy[k] * mb[k / groupSize], dxb[k]);
        Ops.DropoutBackward(mb.Ptr, dyb.Ptr, dyb.Ptr, groups, groupSize);
        for (int k = 0; k < x.Length; k++) Assert.Equal(dy[k] * mb[k / groupSize], dyb[k]);
        Assert.True(dyb.GuardsIntact() && dxb.GuardsIntact() && mb.GuardsIntact());
    }

    [Fact]
    public void Dropout_InPlace()
    {
        var x = new float[37];
        for (int i = 0; i < x.Length; i++) x[i] = i + 1;
        var y = (float[])x.Clone();
        var mask = new float[37];
        fixed (float* py = y, pm = mask) Ops.DropoutForward(py, py, pm, 37, 1, 0.5f, new Rng(3UL));
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] * mask[i], y[i]);
    }

    /// <summary>The fused convolution epilogues: bias (+ ReLU) on the staged or in-place output, and the ReLU's backward on the gather.</summary>
    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(3, 7, 16, 7)]
    [InlineData(5, 121, 128, 121)]
    [InlineData(4, 9, 9, 20)]
    public void FusedConvolutionEpilogues_MatchScalarReference(int rows, int cols, int srcStride, int dstStride)
    {
        var rng = new Rng(77UL + (ulong)(rows * 1000 + cols));
        var src = Random(rows * srcStride, rng);
        src[0] = float.NaN; // NaN stays NaN through the fused ReLU, as torch.relu keeps it
        var bias = Random(rows, rng);
        foreach (bool relu in new[] { false, true })
        foreach (bool withBias in new[] { false, true })
        {
            using var sb = new GuardedBuffer(src.Length);
            using var db = new GuardedBuffer(rows * dstStride, guardValue: 1234.5f);
            using var bb = new GuardedBuffer(rows);
            src.CopyTo(sb.Span);
            bias.CopyTo(bb.Span);
            db.Span.Fill(1234.5f);
            Ops.CopyRowsBiasRelu(sb.Ptr, srcStride, db.Ptr, dstStride, rows, cols, withBias ? bb.Ptr : null, relu);
            Assert.True(sb.GuardsIntact() && db.GuardsIntact() && bb.GuardsIntact());
            for (int r = 0; r < rows; r++)
            for (int c = 0; c < dstStride; c++)
            {
                if (c >= cols) { Assert.Equal(1234.5f, db[r * dstStride + c]); continue; } // columns past cols untouched
                double v = (double)src[r * srcStride + c] + (withBias ? bias[r] : 0);
                Close($"CopyRowsBiasRelu(relu={relu}, bias={withBias})", r * dstStride + c, relu && !double.IsNaN(v) ? Math.Max(v, 0) : v, db[r * dstStride + c]);
            }

            if (!relu) continue;
            // In place on a dense [rows, cols] block.
            using var yb = new GuardedBuffer(rows * cols);
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) yb[r * cols + c] = src[r * srcStride + c];
            Ops.AddRowBiasRelu(yb.Ptr, withBias ? bb.Ptr : null, rows, cols);
            Assert.True(yb.GuardsIntact());
            for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                double v = (double)src[r * srcStride + c] + (withBias ? bias[r] : 0);
                Close("AddRowBiasRelu", r * cols + c, double.IsNaN(v) ? v : Math.Max(v, 0), yb[r * cols + c]);
            }
        }

        // Backward gather: dst = y > 0 ? dy : 0, from rows srcStride apart into rows dstStride apart.
        var y = Random(rows * srcStride, rng);
        var dy = Random(rows * srcStride, rng);
        using var ybuf = new GuardedBuffer(y.Length);
        using var dybuf = new GuardedBuffer(dy.Length);
        using var dst = new GuardedBuffer(rows * dstStride, guardValue: 1234.5f);
        y.CopyTo(ybuf.Span);
        dy.CopyTo(dybuf.Span);
        dst.Span.Fill(1234.5f);
        Ops.CopyRowsReluBackward(dybuf.Ptr, ybuf.Ptr, srcStride, dst.Ptr, dstStride, rows, cols);
        Assert.True(ybuf.GuardsIntact() && dybuf.GuardsIntact() && dst.GuardsIntact());
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < dstStride; c++)
        {
            float expected = c >= cols ? 1234.5f : y[r * srcStride + c] > 0 ? dy[r * srcStride + c] : 0f;
            Assert.Equal(expected, dst[r * dstStride + c]);
        }
    }

    /// <summary>The inference 2×2 and 3×3 stride-2 max pools against a scalar reference: every size, padding 0 and 1, NaN and −∞.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void MaxPoolStride2_MatchesScalarReference(int kernel)
    {
        var rng = new Rng(99UL);
        var random = new Random(11);
        for (int H = 1; H <= 30; H += random.Next(1, 4))
        for (int W = 1; W <= 45; W += random.Next(1, 4))
        for (int pad = 0; pad <= 1; pad++)
        {
            int OH = (H + 2 * pad - kernel) / 2 + 1, OW = (W + 2 * pad - kernel) / 2 + 1; // PyTorch, floor mode
            if (H + 2 * pad < kernel || W + 2 * pad < kernel) continue;
            const int planes = 2;
            var x = Random(planes * H * W, rng);
            x[random.Next(x.Length)] = float.NaN;
            for (int k = 0; k < 3; k++) x[random.Next(x.Length)] = float.NegativeInfinity;
            using var xb = new GuardedBuffer(x.Length);
            using var yb = new GuardedBuffer(planes * OH * OW);
            x.CopyTo(xb.Span);
            if (kernel == 2) Ops.MaxPool2x2(xb.Ptr, yb.Ptr, planes, H, W, OH, OW, pad, pad);
            else Ops.MaxPoolStride2(xb.Ptr, yb.Ptr, planes, H, W, OH, OW, kernel, pad, pad);
            Assert.True(xb.GuardsIntact() && yb.GuardsIntact(), $"H={H} W={W} pad={pad}: wrote outside its buffers");
            for (int pl = 0; pl < planes; pl++)
            for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
            {
                float best = float.NegativeInfinity;
                bool nan = false;
                for (int i = 0; i < kernel; i++)
                for (int j = 0; j < kernel; j++)
                {
                    int r = 2 * oh - pad + i, c = 2 * ow - pad + j;
                    if (r < 0 || r >= H || c < 0 || c >= W) continue;
                    float v = x[(pl * H + r) * W + c];
                    nan |= float.IsNaN(v);
                    if (v > best) best = v;
                }
                float got = yb[(pl * OH + oh) * OW + ow];
                if (nan) Assert.True(float.IsNaN(got), $"H={H} W={W} pad={pad} ({pl},{oh},{ow}): {got:R}, expected NaN");
                else Assert.True(best.Equals(got), $"H={H} W={W} pad={pad} ({pl},{oh},{ow}): {got:R}, expected {best:R}");
            }
        }
    }
}

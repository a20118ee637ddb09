using System;
using System.Collections.Generic;
using CnnGen.Runtime.Tests.Reference;
using Xunit;

namespace CnnGen.Runtime.Tests.Generated;

// Max pools that take each code path of the generated pooling: column pairs without gathers (kernel width 2, stride 2),
// with padding, with a taller window, and the general masked-gather path; widths chosen so rows end in a partial group.

/// <summary>Column pairs, no padding; 37 columns: 18 outputs (groups at 0, 8 and an overlapping last group at 10).</summary>
[Model]
[Input(2, 6, 37)]
[MaxPool2d(2)]
public partial class PairPoolModel { }

/// <summary>Column pairs with padding: the first and last outputs of a row reach into the padding.</summary>
[Model]
[Input(1, 5, 30)]
[MaxPool2d(2, Stride = 2, Padding = 1)]
public partial class PaddedPairPoolModel { }

/// <summary>Column pairs under a 3-row window with row stride 1 and row padding.</summary>
[Model]
[Input(2, 7, 41)]
[MaxPool2d(3, KernelHeight = 3, KernelWidth = 2, StrideHeight = 1, StrideWidth = 2, PaddingHeight = 1, PaddingWidth = 0)]
public partial class TallPairPoolModel { }

/// <summary>The general path (masked gathers): 3×3 windows, stride 2, padding 1.</summary>
[Model]
[Input(2, 9, 37)]
[MaxPool2d(3, Stride = 2, Padding = 1)]
public partial class GatherPoolModel { }

/// <summary>
/// The generated max pools against the reference on inputs full of ties, NaNs and -inf (PyTorch's rule: the first valid
/// element of a window starts it, a later one wins if strictly greater, NaN wins): outputs, and the input gradient, which
/// shows the selected element of every window.
/// </summary>
public class MaxPoolSemanticsTests
{
    public static TheoryData<string> Models => new() { "pair", "padded", "tall", "gather" };

    private static (ICnnModel Model, MaxPool2dLayer Ref, int C, int H, int W) Create(string name) => name switch
    {
        "pair" => (new PairPoolModel(), MaxPool2dLayer.Square(2), 2, 6, 37),
        "padded" => (new PaddedPairPoolModel(), MaxPool2dLayer.Square(2, 2, 1), 1, 5, 30),
        "tall" => (new TallPairPoolModel(), new MaxPool2dLayer(3, 2, 1, 2, 1, 0), 2, 7, 41),
        "gather" => (new GatherPoolModel(), MaxPool2dLayer.Square(3, 2, 1), 2, 9, 37),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void MatchesReference_WithTiesNaNsAndNegativeInfinity(string name)
    {
        var (model, layer, c, h, w) = Create(name);
        const int batch = 3;
        var rng = new Rng(11);
        float[] palette = { float.NegativeInfinity, float.NegativeInfinity, -1f, 0f, 0f, 1f, 2f, float.NaN };
        var x = new float[batch * model.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = palette[rng.NextInt(palette.Length)];
        // One all -inf sample channel, so whole windows are -inf.
        Array.Fill(x, float.NegativeInfinity, 0, h * w);

        var xd = new double[x.Length];
        for (int i = 0; i < x.Length; i++) xd[i] = x[i];
        var expected = RefLayers.MaxPool2dForward(new RefTensor(new[] { batch, c, h, w }, xd), layer, out int[] argmax);

        // Inference and training forward.
        var y = new float[batch * model.OutputSize];
        model.Forward(x, y, batch);
        AssertSame("Forward", expected.Data, y);
        var ws = model.CreateWorkspace(batch);
        Array.Clear(y);
        model.ForwardTrain(ws, x, y, batch);
        AssertSame("ForwardTrain", expected.Data, y);

        // Backward: distinct gradients show which element each window selected.
        var dy = new float[y.Length];
        for (int i = 0; i < dy.Length; i++) dy[i] = 1 + (i % 97) * 0.25f;
        var dyd = new double[dy.Length];
        for (int i = 0; i < dy.Length; i++) dyd[i] = dy[i];
        var dxExpected = RefLayers.MaxPool2dBackward(new[] { batch, c, h, w }, argmax, new RefTensor(new[] { batch, c, expected.Shape[2], expected.Shape[3] }, dyd));
        var dx = new float[x.Length];
        model.Backward(ws, dy, Array.Empty<float>(), dx);
        AssertSame("input gradient", dxExpected.Data, dx);

        // Batch 1 takes the same code per sample.
        var y1 = new float[model.OutputSize];
        model.Forward(x.AsSpan(model.InputSize, model.InputSize), y1);
        AssertSame("Forward (batch 1, sample 1)", expected.Data.AsSpan(model.OutputSize, model.OutputSize).ToArray(), y1);
    }

    private static void AssertSame(string what, double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var problems = new List<string>();
        for (int i = 0; i < expected.Length && problems.Count < 5; i++)
        {
            double e = expected[i], a = actual[i];
            bool same = double.IsNaN(e) ? double.IsNaN(a) : Math.Abs(e - a) <= 1e-5 * Math.Max(1, Math.Abs(e)) || e == a;
            if (!same) problems.Add($"[{i}] expected {e}, got {a}");
        }
        Assert.True(problems.Count == 0, $"{what}: {string.Join("; ", problems)}");
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Runtime.Tests.Reference;
using Xunit;

namespace CnnGen.Runtime.Tests.Generated;

/// <summary>
/// Dropout / Dropout2d in generated models: training mode drops ≈ p, scales kept values by exactly 1/(1 − p), drops
/// whole channels for Dropout2d, routes gradients through the same mask, is reproducible from the workspace seed,
/// and is the identity in inference and with <see cref="TrainingWorkspace.DropoutEnabled"/> off.
/// </summary>
public class DropoutBehaviourTests
{
    private static float[] RandomInput(int n, int seed)
    {
        var rng = new Rng(seed);
        var x = new float[n];
        // Nonzero inputs, so a zero output always means "dropped".
        for (int i = 0; i < n; i++) x[i] = (rng.NextFloat() < 0.5f ? -1 : 1) * rng.Uniform(0.1f, 2f);
        return x;
    }

    /// <summary>Binomial(n, p) count within 5 standard deviations of n·p.</summary>
    private static void AssertFraction(int dropped, int n, double p, string what)
    {
        double sd = Math.Sqrt(n * p * (1 - p));
        Assert.True(Math.Abs(dropped - n * p) <= 5 * sd, $"{what}: dropped {dropped} of {n} (expected ≈ {n * p:F0} ± {5 * sd:F0})");
    }

    [Fact]
    public void Dropout_Training_DropsAboutP_ScalesKeptByExactInverse_BackwardUsesSameMask()
    {
        ICnnModel model = new DropoutOnlyModel();
        const int batch = 8;
        const float p = 0.25f;
        float scale = 1f / (1f - p);
        int n = batch * model.InputSize;
        var x = RandomInput(n, 1);
        var y = new float[n];
        var ws = model.CreateWorkspace(batch, seed: 42);
        model.ForwardTrain(ws, x, y, batch);

        int dropped = 0;
        for (int i = 0; i < n; i++)
        {
            if (y[i] == 0) { dropped++; continue; }
            Assert.True(y[i] == x[i] * scale, $"kept element {i}: {y[i]:R}, expected exactly {x[i]:R} * {scale:R} = {x[i] * scale:R}");
        }
        AssertFraction(dropped, n, p, "Dropout(0.25) in training mode");

        // Backward: dx = dy · mask, the mask of this forward pass.
        var dy = RandomInput(n, 2);
        var dx = new float[n];
        model.Backward(ws, dy, Array.Empty<float>(), dx);
        for (int i = 0; i < n; i++)
        {
            float expected = y[i] == 0 ? 0f : dy[i] * scale;
            Assert.True(dx[i] == expected, $"dx[{i}] = {dx[i]:R}, expected {expected:R} (output {y[i]:R})");
        }
    }

    [Fact]
    public void Dropout_MasksChangeBetweenSteps_AndRepeatFromTheSameWorkspaceSeed()
    {
        ICnnModel model = new DropoutOnlyModel();
        int n = 2 * model.InputSize;
        var x = RandomInput(n, 3);
        float[] Run(TrainingWorkspace ws)
        {
            var y = new float[n];
            model.ForwardTrain(ws, x, y, 2);
            return y;
        }
        var ws1 = model.CreateWorkspace(2, seed: 7);
        var a1 = Run(ws1);
        var a2 = Run(ws1);
        Assert.False(a1.SequenceEqual(a2), "two training steps on one workspace used the same dropout mask");
        var ws2 = model.CreateWorkspace(2, seed: 7);
        Assert.Equal(a1, Run(ws2));
        Assert.Equal(a2, Run(ws2));
        var ws3 = model.CreateWorkspace(2, seed: 8);
        Assert.False(a1.SequenceEqual(Run(ws3)), "workspaces with different seeds drew the same mask");
    }

    [Fact]
    public void Dropout2d_Training_ZeroesWholeChannels()
    {
        ICnnModel model = new Dropout2dOnlyModel();
        const int batch = 64, channels = 8, plane = 5 * 7;
        const float p = 0.4f;
        float scale = 1f / (1f - p);
        int n = batch * model.InputSize;
        var x = RandomInput(n, 4);
        var y = new float[n];
        var ws = model.CreateWorkspace(batch, seed: 9);
        model.ForwardTrain(ws, x, y, batch);

        int dropped = 0;
        var keep = new bool[batch * channels];
        for (int g = 0; g < batch * channels; g++)
        {
            int zeros = 0;
            for (int k = 0; k < plane; k++)
            {
                int i = g * plane + k;
                if (y[i] == 0) zeros++;
                else Assert.True(y[i] == x[i] * scale, $"channel {g}, element {k}: {y[i]:R}, expected exactly {x[i] * scale:R}");
            }
            Assert.True(zeros == 0 || zeros == plane, $"Dropout2d zeroed {zeros} of {plane} values of channel {g % channels} of sample {g / channels}: not the whole channel");
            keep[g] = zeros == 0;
            if (zeros == plane) dropped++;
        }
        AssertFraction(dropped, batch * channels, p, "Dropout2d(0.4) channels");

        var dy = RandomInput(n, 5);
        var dx = new float[n];
        model.Backward(ws, dy, Array.Empty<float>(), dx);
        for (int i = 0; i < n; i++)
            Assert.True(dx[i] == (keep[i / plane] ? dy[i] * scale : 0f), $"Dropout2d dx[{i}] = {dx[i]:R}");
    }

    [Fact]
    public void Dropout_IsIdentity_InInference_AndWhenDisabled()
    {
        foreach (ICnnModel model in new ICnnModel[] { new DropoutOnlyModel(), new Dropout2dOnlyModel() })
        {
            int n = 3 * model.InputSize;
            var x = RandomInput(n, 6);
            var y = new float[n];
            model.Forward(x, y, 3);
            Assert.Equal(x, y);
            var one = new float[model.OutputSize];
            model.Forward(x.AsSpan(0, model.InputSize), one);
            Assert.Equal(x.AsSpan(0, model.InputSize).ToArray(), one);

            var ws = model.CreateWorkspace(3);
            ws.DropoutEnabled = false;
            Array.Clear(y);
            model.ForwardTrain(ws, x, y, 3);
            Assert.Equal(x, y);
            var dy = RandomInput(n, 7);
            var dx = new float[n];
            model.Backward(ws, dy, Array.Empty<float>(), dx);
            Assert.Equal(dy, dx);
        }
    }

    /// <summary>
    /// A dropout layer in front of real layers: the training-mode output and every gradient must be those of the
    /// float64 reference run with the mask the model drew (read back from the input gradient's zeros).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DropoutInsideANetwork_ForwardAndBackwardAgreeWithReferenceUnderTheDrawnMask(bool channels)
    {
        ICnnModel model = channels ? new Dropout2dFirstModel(3) : new DropoutFirstModel(3);
        string layers = channels
            ? "[Input(4, 6, 6)] [Dropout2d(0.5)] [Conv2d(4, 3, 3)] [Tanh] [Flatten] [Linear(48, 5)]"
            : "[Input(3, 5, 5)] [Dropout(0.5)] [Conv2d(3, 2, 3)] [Tanh] [Flatten] [Linear(18, 4)]";
        var reference = RefModel.FromAttributes(layers);
        const int batch = 4;
        var x = RandomInput(batch * model.InputSize, 8);
        var y = new float[batch * model.OutputSize];
        var ws = model.CreateWorkspace(batch, seed: 11);
        model.ForwardTrain(ws, x, y, batch);
        var dy = RandomInput(batch * model.OutputSize, 9);
        var grads = new float[model.ParameterCount];
        var dx = new float[batch * model.InputSize];
        model.Backward(ws, dy, grads, dx);

        // The mask: per element (Dropout) or per (sample, channel) plane (Dropout2d).
        int group = channels ? 36 : 1;
        var keep = new bool[dx.Length / group];
        for (int g = 0; g < keep.Length; g++)
            for (int k = 0; k < group; k++) keep[g] |= dx[g * group + k] != 0;
        Assert.Contains(true, keep);
        Assert.Contains(false, keep);

        var pass = reference.Forward(x.Select(v => (double)v).ToArray(), batch, model.Parameters.Select(v => (double)v).ToArray(),
            new Dictionary<int, bool[]> { [0] = keep });
        var (refDx, refDp) = reference.Backward(pass, dy.Select(v => (double)v).ToArray());
        RefAssert.Close("training output", y, pass.Output.Data, 1e-4);
        RefAssert.Close("input gradient", dx, refDx, 1e-3);
        RefAssert.Close("parameter gradients", grads, refDp, 1e-3);
    }


    [Fact]
    public void RealModel_TrainingDropoutChangesOutputs_DisabledMatchesInference()
    {
        // ModelC has Dropout2d(0.5) and Dropout(0.5).
        ICnnModel model = new ModelC(1);
        const int batch = 4;
        var x = RandomInput(batch * model.InputSize, 10);
        var inference = new float[batch * model.OutputSize];
        model.Forward(x, inference, batch);

        var ws = model.CreateWorkspace(batch, seed: 3);
        var train = new float[batch * model.OutputSize];
        model.ForwardTrain(ws, x, train, batch);
        Assert.False(train.SequenceEqual(inference), "training-mode dropout left ModelC's outputs unchanged");

        ws.DropoutEnabled = false;
        model.ForwardTrain(ws, x, train, batch);
        for (int i = 0; i < train.Length; i++)
            Assert.True(Math.Abs(train[i] - inference[i]) <= 1e-5 * (1 + Math.Abs(inference[i])), $"output {i}: training without dropout {train[i]}, inference {inference[i]}");
    }
}

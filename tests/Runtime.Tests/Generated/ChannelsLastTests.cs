using System;
using System.Linq;
using CnnGen.Runtime.Tests.Reference;
using Xunit;

namespace CnnGen.Runtime.Tests.Generated;

// Models whose inference runs the channels-last path (direct convolutions, vector max pooling, the layout transposes),
// chosen to reach its corners: a multi-channel input (transpose in), stride 2 with padding, out channels that are a
// multiple of 8 but not 16 (Vector256 even where Vector512 runs), no bias, activations other than ReLU, a padded and a
// dilated max pool, several output-channel blocks, row-blocked and column-blocked pixels with overlapping last blocks,
// and a run that ends the model (transpose out into the caller's output).

[Model]
[Input(3, 11, 9)]
[Conv2d(3, 16, 3, Stride = 2, Padding = 1)]
[ReLU]
[Conv2d(16, 24, 3, Padding = 1, Bias = false)]
[Tanh]
[MaxPool2d(3, Stride = 2, Padding = 1)]
[Flatten]
[Linear(216, 5)]
public partial class ChannelsLastStrided { }

[Model]
[Input(1, 20, 30)]
[Conv2d(1, 32, 5)]
[ReLU]
[MaxPool2d(2)]
[Conv2d(32, 64, 3)]
[LeakyReLU(0.1)]
[MaxPool2d(2, Stride = 1, Dilation = 2)]
[Flatten]
[Linear(2304, 4)]
public partial class ChannelsLastWide { }

[Model]
[Input(2, 6, 7)]
[Conv2d(2, 8, 3, Padding = 1)]
[Sigmoid]
public partial class ChannelsLastToOutput { }

// Convolutions fused with the max pool after them (padded convolutions; a pool with padding; a 3-row pool that leaves
// the last row out; 8 output channels: Vector256 only).
[Model]
[Input(1, 9, 11)]
[Conv2d(1, 16, 3, Padding = 1)]
[ReLU]
[MaxPool2d(2, Padding = 1)]
[Conv2d(16, 8, 3, Padding = 2, Bias = false)]
[MaxPool2d(3)]
[Flatten]
[Linear(32, 3)]
public partial class ChannelsLastFused { }

// Channels-last training runs that end with a convolution: with its fused ReLU, and without (a Tanh after it runs
// channels-first).
[Model]
[Input(1, 10, 10)]
[Conv2d(1, 8, 3)]
[ReLU]
[MaxPool2d(2)]
[Conv2d(8, 16, 3)]
[ReLU]
[Flatten]
[Linear(64, 3)]
public partial class ChannelsLastEndsInConv { }

[Model]
[Input(1, 8, 8)]
[Conv2d(1, 16, 3)]
[Tanh]
[Flatten]
[Linear(576, 2)]
public partial class ChannelsLastEndsInPlainConv { }

/// <summary>
/// The channels-last inference path against the float64 reference (which runs channels-first, as PyTorch does), at
/// several batch sizes, and after the parameters change (the packed weights must follow them).
/// </summary>
public class ChannelsLastTests
{
    private const string Strided = "[Input(3, 11, 9)] [Conv2d(3, 16, 3, Stride = 2, Padding = 1)] [ReLU] [Conv2d(16, 24, 3, Padding = 1, Bias = false)] [Tanh] [MaxPool2d(3, Stride = 2, Padding = 1)] [Flatten] [Linear(216, 5)]";
    private const string Wide = "[Input(1, 20, 30)] [Conv2d(1, 32, 5)] [ReLU] [MaxPool2d(2)] [Conv2d(32, 64, 3)] [LeakyReLU(0.1)] [MaxPool2d(2, Stride = 1, Dilation = 2)] [Flatten] [Linear(2304, 4)]";
    private const string ToOutput = "[Input(2, 6, 7)] [Conv2d(2, 8, 3, Padding = 1)] [Sigmoid]";
    private const string EndsInConv = "[Input(1, 10, 10)] [Conv2d(1, 8, 3)] [ReLU] [MaxPool2d(2)] [Conv2d(8, 16, 3)] [ReLU] [Flatten] [Linear(64, 3)]";
    private const string EndsInPlainConv = "[Input(1, 8, 8)] [Conv2d(1, 16, 3)] [Tanh] [Flatten] [Linear(576, 2)]";
    private const string Fused = "[Input(1, 9, 11)] [Conv2d(1, 16, 3, Padding = 1)] [ReLU] [MaxPool2d(2, Padding = 1)] [Conv2d(16, 8, 3, Padding = 2, Bias = false)] [MaxPool2d(3)] [Flatten] [Linear(32, 3)]";

    private static ICnnModel Create(string name) => name switch
    {
        nameof(Strided) => new ChannelsLastStrided(3),
        nameof(Wide) => new ChannelsLastWide(4),
        nameof(Fused) => new ChannelsLastFused(6),
        nameof(EndsInConv) => new ChannelsLastEndsInConv(7),
        nameof(EndsInPlainConv) => new ChannelsLastEndsInPlainConv(8),
        _ => new ChannelsLastToOutput(5),
    };

    private static string Layers(string name) => name switch
    {
        nameof(Strided) => Strided,
        nameof(Wide) => Wide,
        nameof(Fused) => Fused,
        nameof(EndsInConv) => EndsInConv,
        nameof(EndsInPlainConv) => EndsInPlainConv,
        _ => ToOutput,
    };

    private static float[] RandomInput(int n, int seed)
    {
        var rng = new Rng(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.Uniform(-2f, 2f);
        return x;
    }

    [Theory]
    [InlineData(nameof(Strided), 1)]
    [InlineData(nameof(Strided), 7)]
    [InlineData(nameof(Wide), 1)]
    [InlineData(nameof(Wide), 3)]
    [InlineData(nameof(Wide), 70)]
    [InlineData(nameof(ToOutput), 1)]
    [InlineData(nameof(ToOutput), 5)]
    [InlineData(nameof(Fused), 1)]
    [InlineData(nameof(Fused), 4)]
    public void InferenceMatchesTheReference(string name, int batch)
    {
        var model = Create(name);
        var reference = RefModel.FromAttributes(Layers(name));
        Assert.Equal(reference.ParameterCount, model.ParameterCount);
        var x = RandomInput(batch * model.InputSize, 17 + batch);
        var y = new float[batch * model.OutputSize];
        model.Forward(x, y, batch);
        var expected = reference.Forward(x.Select(v => (double)v).ToArray(), batch, model.Parameters.Select(v => (double)v).ToArray()).Output.Data;
        RefAssert.Close(name, y, expected, 1e-5);
    }

    [Theory]
    [InlineData(nameof(Strided))]
    [InlineData(nameof(Wide))]
    [InlineData(nameof(ToOutput))]
    [InlineData(nameof(Fused))]
    public void InferenceFollowsChangedParameters(string name)
    {
        var model = Create(name);
        var reference = RefModel.FromAttributes(Layers(name));
        const int batch = 2;
        var x = RandomInput(batch * model.InputSize, 5);
        var y = new float[batch * model.OutputSize];
        model.Forward(x, y, batch); // packs the weights
        var before = (float[])y.Clone();

        // Change one weight of every convolution (the packed copies must be refreshed), as an optimizer or a user would.
        foreach (var slot in model.ParameterSlots.Where(s => s.Shape.Length == 4))
            model.Parameters[slot.Offset + slot.Shape.Aggregate(1, (a, b) => a * b) / 2] += 0.75f;
        model.Forward(x, y, batch);
        Assert.NotEqual(before, y);
        var expected = reference.Forward(x.Select(v => (double)v).ToArray(), batch, model.Parameters.Select(v => (double)v).ToArray()).Output.Data;
        RefAssert.Close(name + " after the change", y, expected, 1e-5);
    }

    /// <summary>
    /// Training through the channels-last run (Wide: two convolutions, a leaky ReLU and a dilated max pool inside it;
    /// Strided: stride 2 and padding, so no run): output, parameter gradients and input gradient against the float64
    /// reference, at a batch that is not a multiple of anything.
    /// </summary>
    [Theory]
    [InlineData(nameof(Wide), 3)]
    [InlineData(nameof(Strided), 2)]
    [InlineData(nameof(EndsInConv), 3)]
    [InlineData(nameof(EndsInPlainConv), 2)]
    public void TrainingMatchesTheReference(string name, int batch)
    {
        var model = Create(name);
        var reference = RefModel.FromAttributes(Layers(name));
        var x = RandomInput(batch * model.InputSize, 40 + batch);
        var y = new float[batch * model.OutputSize];
        var ws = model.CreateWorkspace(batch);
        model.ForwardTrain(ws, x, y, batch);
        var dy = RandomInput(batch * model.OutputSize, 41);
        var grads = new float[model.ParameterCount];
        var dx = new float[batch * model.InputSize];
        model.Backward(ws, dy, grads, dx);

        var pass = reference.Forward(x.Select(v => (double)v).ToArray(), batch, model.Parameters.Select(v => (double)v).ToArray());
        var (refDx, refDp) = reference.Backward(pass, dy.Select(v => (double)v).ToArray());
        RefAssert.Close(name + " training output", y, pass.Output.Data, 1e-5);
        RefAssert.Close(name + " parameter gradients", grads, refDp, 1e-4);
        RefAssert.Close(name + " input gradient", dx, refDx, 1e-4);
    }
}

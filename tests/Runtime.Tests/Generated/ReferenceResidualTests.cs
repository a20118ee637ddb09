using System;
using System.Linq;
using CnnGen.Runtime.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests.Generated;

/// <summary>
/// The generated FoldNet (BatchNormFoldTests.cs: batch norm after biased and bias-free convolutions, a residual block with
/// a projection shortcut, depthwise convolution, ReLU6, a non-affine batch norm, global average pooling) against the
/// float64 reference model of the same layers (tests/Runtime.Tests/Reference): the same state-dict keys; a training
/// step (batch statistics, gradients, the running statistics it moves); inference afterwards (batch norm folded).
/// </summary>
public class ReferenceResidualTests
{
    private readonly ITestOutputHelper _out;
    public ReferenceResidualTests(ITestOutputHelper output) { _out = output; }

    private static RefModel FoldNetReference() => new(3, 12, 12, new RefLayer[]
    {
        Conv2dLayer.Square(3, 8, 3, padding: 1),
        new BatchNorm2dLayer(8, Eps: 0.001),
        new ReLULayer(),
        new ResidualLayer(
            new RefLayer[] { Conv2dLayer.Square(8, 16, 3, stride: 2, padding: 1, bias: false), new BatchNorm2dLayer(16), new ReLULayer(),
                             Conv2dLayer.Square(16, 16, 3, padding: 1, bias: false), new BatchNorm2dLayer(16) },
            new[] { "conv1", "bn1", null, "conv2", "bn2" },
            new RefLayer[] { Conv2dLayer.Square(8, 16, 1, stride: 2, bias: false), new BatchNorm2dLayer(16) },
            ReLU: true),
        Conv2dLayer.Square(16, 16, 3, padding: 1, groups: 16, bias: false),
        new BatchNorm2dLayer(16),
        new ReLU6Layer(),
        Conv2dLayer.Square(16, 8, 1),
        new BatchNorm2dLayer(8, Affine: false),
        new BatchNorm2dLayer(8),
        new GlobalAvgPool2dLayer(),
        new FlattenLayer(),
        new LinearLayer(8, 4),
    }, new[] { "stem", "stem_bn", null, "block", "dw", "dw_bn", null, "pw", "pw_bn", "extra_bn", null, null, "fc" });

    private void Compare(string what, ReadOnlySpan<float> actual, double[] expected, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxErr = 0, scale = 1e-12;
        for (int i = 0; i < expected.Length; i++)
        {
            maxErr = Math.Max(maxErr, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        if (scale < 1e-6)
        {
            // A conv bias right before batch norm: its gradient is zero (the batch mean cancels it); only rounding remains.
            _out.WriteLine($"{what}: expected ≈ 0, max |actual| {maxErr:E2}");
            Assert.True(maxErr < 1e-5, $"{what}: expected a zero gradient, got {maxErr:E2}");
            return;
        }
        double rel = maxErr / scale;
        _out.WriteLine($"{what}: max abs diff {maxErr:E2}, relative to max |expected| {rel:E2} (tolerance {tolerance:E0})");
        Assert.True(rel <= tolerance, $"{what}: relative error {rel:E3} > {tolerance:E0}");
    }

    [Fact]
    public void TrainingStepAndInferenceMatchTheFloat64Reference()
    {
        var model = new FoldNet(seed: 9);
        var reference = FoldNetReference();
        Assert.Equal(reference.Parameters.Select(p => p.Key), model.ParameterSlots.Select(s => s.Key));
        Assert.Equal(reference.Parameters.Select(p => p.Shape), model.ParameterSlots.Select(s => s.Shape));
        Assert.Equal(reference.Buffers.Select(b => b.Key), model.BufferSlots.Select(s => s.Key));
        Assert.Equal(FoldNet.ParameterCount, reference.ParameterCount);
        Assert.Equal(reference.BufferCount, model.Buffers.Length);

        // Non-trivial batch-norm parameters and running statistics (offsets coincide: checked through the keys above).
        var rng = new Rng(10);
        foreach (var slot in model.ParameterSlots.Where(s => s.Shape.Length == 1 && model.BufferSlots.Any(b => b.Key == s.Key[..s.Key.LastIndexOf('.')] + ".running_var")))
            for (int i = 0; i < slot.ElementCount; i++)
                model.Parameters[slot.Offset + i] = slot.Key.EndsWith(".weight", StringComparison.Ordinal) ? rng.Uniform(0.5f, 1.5f) : rng.Uniform(-0.5f, 0.5f);
        foreach (var slot in model.BufferSlots)
            for (int i = 0; i < slot.ElementCount; i++)
                model.Buffers[slot.Offset + i] = slot.Key.EndsWith(".running_mean", StringComparison.Ordinal) ? rng.Uniform(-0.5f, 0.5f)
                    : slot.Key.EndsWith(".running_var", StringComparison.Ordinal) ? rng.Uniform(0.5f, 2f) : 2f;

        const int batch = 4;
        var x = new float[batch * FoldNet.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = rng.Uniform(-1f, 1f);
        var dy = new float[batch * FoldNet.OutputSize];
        for (int i = 0; i < dy.Length; i++) dy[i] = rng.Uniform(-1f, 1f);
        double[] Wide(float[] a) => a.Select(v => (double)v).ToArray();
        double[] parameters = Wide(model.Parameters), buffers = Wide(model.Buffers);

        // Training mode: batch statistics; gradients; the running statistics move.
        var ws = model.CreateWorkspace(batch);
        var y = new float[dy.Length];
        model.ForwardTrain(ws, x, y, batch);
        var pass = reference.Forward(Wide(x), batch, parameters, buffers: buffers, batchNormTraining: true);
        Compare("train-mode output", y, pass.Output.Data, 1e-4);
        var grads = new float[FoldNet.ParameterCount];
        var dx = new float[x.Length];
        model.Backward(ws, dy, grads, dx);
        var (refDx, refGrads) = reference.Backward(pass, Wide(dy));
        Compare("grad_input", dx, refDx, 1e-3);
        foreach (var p in reference.Parameters)
            Compare("grad/" + p.Key, grads.AsSpan(p.Offset, p.Length), refGrads.AsSpan(p.Offset, p.Length).ToArray(), 1e-3);
        foreach (var b in reference.Buffers)
            Compare(b.Key + " after the step", model.Buffers.AsSpan(b.Offset, b.Length), pass.UpdatedBuffers.AsSpan(b.Offset, b.Length).ToArray(), 1e-5);

        // Inference with the moved statistics (batch norm folded into the convolutions) against eval mode.
        var eval = new float[dy.Length];
        model.Forward(x, eval, batch);
        Compare("eval-mode output", eval, reference.Forward(Wide(x), batch, parameters, buffers: pass.UpdatedBuffers).Output.Data, 1e-5);
    }
}

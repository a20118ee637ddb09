using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace CnnGen.Runtime.Tests.Reference;

/// <summary>
/// The float64 reference's batch norm (training mode: batch statistics and the running-statistics update; eval mode:
/// running statistics), global average pooling, ReLU6, SiLU and residual blocks: against PyTorch (model_f, made by
/// tools/golden/make_parity.py make_train_models) and against central finite differences.
/// </summary>
public sealed partial class RefLayerTests
{
    private static double[] Buffers(FixtureFile f, RefModel model, string prefix = "")
    {
        var b = new double[model.BufferCount];
        foreach (var t in model.Buffers) Array.Copy(f[prefix + t.Key].Data, 0, b, t.Offset, t.Length);
        return b;
    }

    [Fact]
    public void BatchNormModelMatchesPyTorchInTrainAndEvalMode()
    {
        // model_f: conv + batch norm, ReLU6, depthwise conv, SiLU, batch norm (eps 1e-3, momentum 0.2), a non-affine batch
        // norm, Identity, AdaptiveAvgPool2d(1), Linear. One train() step in float64, then eval() on the same input.
        var f = FixtureFile.Read(Path.Combine(ModelsDir, "model_f.safetensors"));
        var model = RefModel.FromAttributes(f.Meta("layers"));
        Assert.Equal(f.MetaInt("parameter_count"), model.ParameterCount);
        Assert.Equal(new[] { "1.running_mean", "1.running_var", "1.num_batches_tracked", "6.running_mean", "6.running_var", "6.num_batches_tracked",
                             "9.running_mean", "9.running_var", "9.num_batches_tracked" }, model.Buffers.Select(b => b.Key));
        var flat = new double[model.ParameterCount];
        foreach (var p in model.Parameters) Array.Copy(f[p.Key].Data, 0, flat, p.Offset, p.Length);
        var buffers = Buffers(f, model);
        int batch = f.MetaInt("batch");

        var pass = model.Forward(f["input"].Data, batch, flat, buffers: buffers, batchNormTraining: true);
        AssertClose("train-mode output", pass.Output.Data, f["output"].Data, 1e-5);
        foreach (var b in model.Buffers)
            AssertClose(b.Key + " after", pass.UpdatedBuffers.AsSpan(b.Offset, b.Length).ToArray(), f["after/" + b.Key].Data, 1e-5);
        var (gradInput, gradParams) = model.Backward(pass, f["grad_output"].Data);
        AssertClose("grad_input", gradInput, f["grad_input"].Data, 1e-4);
        foreach (var p in model.Parameters)
        {
            double[] expected = f["grad/" + p.Key].Data, actual = gradParams.AsSpan(p.Offset, p.Length).ToArray();
            if (expected.Max(Math.Abs) < 1e-9)
            {
                // 8.bias: a conv bias right before batch norm gets a gradient of exactly zero (the batch mean cancels it);
                // both sides hold rounding noise only.
                Assert.True(actual.Max(Math.Abs) < 1e-9, $"grad/{p.Key}: expected zero, got {actual.Max(Math.Abs):E2}");
                continue;
            }
            AssertClose("grad/" + p.Key, actual, expected, 1e-4);
        }

        var eval = model.Forward(f["input"].Data, batch, flat, buffers: pass.UpdatedBuffers);
        AssertClose("eval-mode output", eval.Output.Data, f["eval_output"].Data, 1e-5);
    }

    /// <summary>A residual network with batch norm on both paths: a BasicBlock with a projection shortcut, then an identity one.</summary>
    private static RefModel ResidualModel() => new(3, 6, 5, new RefLayer[]
    {
        Conv2dLayer.Square(3, 4, 3, padding: 1, bias: false),
        new BatchNorm2dLayer(4),
        new ReLULayer(),
        new ResidualLayer(
            new RefLayer[] { Conv2dLayer.Square(4, 6, 3, stride: 2, padding: 1, bias: false), new BatchNorm2dLayer(6), new ReLULayer(),
                             Conv2dLayer.Square(6, 6, 3, padding: 1, bias: false), new BatchNorm2dLayer(6, Eps: 1e-3) },
            new[] { "conv1", "bn1", "relu", "conv2", "bn2" },
            new RefLayer[] { Conv2dLayer.Square(4, 6, 1, stride: 2, bias: false), new BatchNorm2dLayer(6) },
            ReLU: true),
        new ResidualLayer(new RefLayer[] { Conv2dLayer.Square(6, 6, 3, padding: 1), new BatchNorm2dLayer(6, Affine: false), new ReLU6Layer() }),
        new GlobalAvgPool2dLayer(),
        new FlattenLayer(),
        new LinearLayer(6, 3),
    }, new[] { "conv1", "bn1", "relu", "layer1.0", "layer1.1", "avgpool", null, "fc" });

    [Fact]
    public void ResidualModelNestsKeysAsPyTorchModulesDo()
    {
        var m = ResidualModel();
        Assert.Equal(new[]
        {
            "conv1.weight", "bn1.weight", "bn1.bias",
            "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.bn1.bias", "layer1.0.conv2.weight", "layer1.0.bn2.weight", "layer1.0.bn2.bias",
            "layer1.0.downsample.0.weight", "layer1.0.downsample.1.weight", "layer1.0.downsample.1.bias",
            "layer1.1.0.weight", "layer1.1.0.bias", "fc.weight", "fc.bias",
        }, m.Parameters.Select(p => p.Key));
        Assert.Equal(new[] { "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked" }, m.Buffers.Take(3).Select(b => b.Key));
        Assert.Equal("layer1.1.1.num_batches_tracked", m.Buffers[^1].Key);
        Assert.Equal(5 * 3, m.Buffers.Count); // five batch norms
        Assert.Equal(new[] { 6, 3, 3 }, m.LayerShapes[4]);
        Assert.Throws<ArgumentException>(() => new RefModel(4, 6, 6, new RefLayer[]
        {
            new ResidualLayer(new RefLayer[] { Conv2dLayer.Square(4, 6, 3, padding: 1) }), // 4 channels in, 6 out, no projection
        }));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ResidualBatchNormModelBackwardMatchesFiniteDifferences(bool training)
    {
        var model = ResidualModel();
        var rng = new Random(training ? 5 : 6);
        const int batch = 3;
        double[] input = Uniform(rng, batch * model.InputSize, -1, 1);
        double[] flat = Uniform(rng, model.ParameterCount, -0.5, 0.5);
        foreach (var p in model.Parameters.Where(p => p.Key.Contains(".bn", StringComparison.Ordinal) || p.Key.StartsWith("bn", StringComparison.Ordinal) || p.Key.Contains("downsample.1", StringComparison.Ordinal)))
            if (p.Key.EndsWith(".weight", StringComparison.Ordinal))
                for (int k = 0; k < p.Length; k++) flat[p.Offset + k] = 0.5 + rng.NextDouble(); // γ away from 0
        double[] buffers = model.DefaultBuffers();
        foreach (var b in model.Buffers)
        {
            if (b.Key.EndsWith(".running_mean", StringComparison.Ordinal)) for (int k = 0; k < b.Length; k++) buffers[b.Offset + k] = rng.NextDouble() - 0.5;
            if (b.Key.EndsWith(".running_var", StringComparison.Ordinal)) for (int k = 0; k < b.Length; k++) buffers[b.Offset + k] = 0.5 + rng.NextDouble();
        }
        double[] g = Uniform(rng, batch * model.OutputSize, -1, 1);

        var pass = model.Forward(input, batch, flat, buffers: buffers, batchNormTraining: training);
        var (gradInput, gradParams) = model.Backward(pass, g);
        Func<double[]> fwd = () => model.Forward(input, batch, flat, buffers: buffers, batchNormTraining: training).Output.Data;
        string mode = training ? "train" : "eval";
        FiniteDifferenceCheck($"residual {mode} d input", input, gradInput, fwd, g, tol: 1e-5, maxChecks: 80);
        FiniteDifferenceCheck($"residual {mode} d parameters", flat, gradParams, fwd, g, tol: 1e-5, maxChecks: 160);

        if (training)
        {
            // The running statistics moved (every batch norm: count + 1), the input buffers did not.
            foreach (var b in model.Buffers.Where(b => b.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)))
                Assert.Equal(buffers[b.Offset] + 1, pass.UpdatedBuffers[b.Offset]);
            Assert.NotEqual(buffers, pass.UpdatedBuffers);
        }
        else
        {
            Assert.Equal(buffers, pass.UpdatedBuffers);
        }
    }
}

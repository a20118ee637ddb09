using System;
using System.IO;
using System.Linq;
using CnnGen.IO;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests.Generated;

/// <summary>
/// Generated code against PyTorch in train() mode (batch norm). Fixtures: tools/golden/make_parity.py
/// make_train_models builds each model as an nn.Sequential with randomized batch-norm affine parameters and running
/// statistics, runs one float64 train()-mode forward (batch statistics; updates running_mean, running_var with the
/// unbiased variance, num_batches_tracked) and autograd of sum(output * grad_output), then eval() on the same input.
/// </summary>
public class TrainModeParityTests
{
    private readonly ITestOutputHelper _out;
    public TrainModeParityTests(ITestOutputHelper output) { _out = output; }

    private static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "parity", "models", file);

    private void Compare(string what, ReadOnlySpan<float> actual, float[] expected, double tolerance)
    {
        Assert.True(actual.Length >= expected.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        double maxErr = 0, scale = 1e-12;
        for (int i = 0; i < expected.Length; i++)
        {
            maxErr = Math.Max(maxErr, Math.Abs(actual[i] - (double)expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        if (scale < 1e-6)
        {
            // Mathematically zero (a conv bias right before batch norm: the mean subtraction cancels it), so
            // only rounding noise remains on both sides: compare absolutely.
            _out.WriteLine($"{what}: expected ≈ 0 (max |expected| {scale:E2}), max |actual| diff {maxErr:E2}");
            Assert.True(maxErr < 1e-5, $"{what}: expected zero gradient, max abs diff {maxErr:E3}");
            return;
        }
        double rel = maxErr / scale;
        _out.WriteLine($"{what}: max abs diff {maxErr:E2}, relative to max |expected| {rel:E2} (tolerance {tolerance:E0})");
        Assert.True(rel <= tolerance, $"{what}: relative error {rel:E3} > {tolerance:E0}");
    }

    public static TheoryData<string> Names => new() { "model_f", "model_g", "model_h", "model_i" };

    private static ICnnModel Create(string name) => name switch
    {
        "model_f" => new ModelF(),
        "model_g" => new ModelG(),
        "model_h" => new ModelH(),
        "model_i" => new ModelI(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardTrainBackwardAndRunningStatisticsMatchPyTorch(string name)
    {
        var fixture = SafeTensors.Read(Fixture(name + ".safetensors"));
        var model = Create(name);
        model.LoadWeights(Fixture(name + ".weights.safetensors")); // PyTorch state_dict keys, num_batches_tracked as I64
        int batch = int.Parse(fixture.Metadata["batch"]);
        Assert.Equal(model.ParameterCount, int.Parse(fixture.Metadata["parameter_count"]));

        var ws = model.CreateWorkspace(batch);
        var output = new float[batch * model.OutputSize];
        model.ForwardTrain(ws, fixture["input"].Data, output, batch);
        Compare("train-mode output", output, fixture["output"].Data, 1e-4);

        var grads = new float[model.ParameterCount];
        var dInput = new float[batch * model.InputSize];
        model.Backward(ws, fixture["grad_output"].Data, grads, dInput);
        Compare("grad_input", dInput, fixture["grad_input"].Data, 1e-3);
        Assert.Equal(fixture.Tensors.Count(t => t.Name.StartsWith("grad/", StringComparison.Ordinal)), model.ParameterSlots.Length);
        foreach (var slot in model.ParameterSlots)
            Compare("grad/" + slot.Key, grads.AsSpan(slot.Offset, slot.ElementCount), fixture["grad/" + slot.Key].Data, 1e-3);

        // Running statistics after one training step, via the saved state_dict (keys and dtypes as PyTorch's).
        using var dir = new TempDir();
        string saved = Path.Combine(dir.Path, "after.safetensors");
        model.SaveWeights(saved);
        var file = SafeTensors.Read(saved);
        var afterKeys = fixture.Tensors.Select(t => t.Name).Where(k => k.StartsWith("after/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(afterKeys);
        Assert.Equal(file.Tensors.Count, model.ParameterSlots.Length + afterKeys.Count); // the whole state_dict, nothing else
        foreach (string key in afterKeys)
        {
            string tensor = key.Substring("after/".Length);
            var expected = fixture[key];
            Assert.Equal(expected.DType, file[tensor].DType);
            Assert.Equal(expected.Shape, file[tensor].Shape);
            Compare(tensor + " after one step", file[tensor].Data, expected.Data, 1e-5);
            if (tensor.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
                Assert.Equal(4f, file[tensor].Data[0]); // 3 in the fixture's state, + 1
        }

        // Inference uses the updated running statistics: PyTorch's eval() output on the same input.
        var eval = new float[batch * model.OutputSize];
        model.Forward(fixture["input"].Data, eval, batch);
        Compare("eval-mode output", eval, fixture["eval_output"].Data, 1e-4);
        var one = new float[model.OutputSize];
        model.Forward(fixture["input"].Data.AsSpan(0, model.InputSize), one);
        Compare("eval-mode output, sample 0 alone", one, fixture["eval_output"].Data.AsSpan(0, model.OutputSize).ToArray(), 1e-4);
    }

    [Fact]
    public void ModelF_SecondPassAccumulatesGradientsAndCanLeaveStatisticsAlone()
    {
        var fixture = SafeTensors.Read(Fixture("model_f.safetensors"));
        var model = new ModelF();
        model.LoadWeights(Fixture("model_f.weights.safetensors"));
        int batch = int.Parse(fixture.Metadata["batch"]);
        var ws = model.CreateWorkspace(batch);
        ws.UpdateBatchNormStatistics = false;
        var before = (float[])model.Buffers.Clone();
        var output = new float[batch * ModelF.OutputSize];
        var grads = new float[ModelF.ParameterCount];
        for (int pass = 0; pass < 2; pass++)
        {
            model.ForwardTrain(ws, fixture["input"].Data, output, batch);
            Compare($"pass {pass} train-mode output", output, fixture["output"].Data, 1e-4);
            model.Backward(ws, fixture["grad_output"].Data, grads, Span<float>.Empty);
        }
        Assert.Equal(before, model.Buffers); // normalization used batch statistics; nothing else moved
        foreach (var slot in model.ParameterSlots)
        {
            var doubled = fixture["grad/" + slot.Key].Data.Select(v => 2 * v).ToArray();
            Compare("accumulated grad/" + slot.Key, grads.AsSpan(slot.Offset, slot.ElementCount), doubled, 1e-3);
        }
    }
}

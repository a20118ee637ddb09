using System;
using System.IO;
using CnnGen.IO;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests.Generated;

/// <summary>
/// Generated forward and backward code against PyTorch. Fixtures: tools/golden/make_parity.py builds each model as
/// an nn.Sequential, in eval() mode, and stores input, output, grad_output and autograd's grad_input and
/// parameter gradients of sum(output * grad_output) (float64 compute, stored as F32).
/// </summary>
public class ParityTests
{
    private readonly ITestOutputHelper _out;
    public ParityTests(ITestOutputHelper output) { _out = output; }

    public static TheoryData<string> Names => new() { "model_a", "model_b", "model_c", "model_d", "model_e" };

    private static ICnnModel Create(string name) => name switch
    {
        "model_a" => new ModelA(),
        "model_b" => new ModelB(),
        "model_c" => new ModelC(),
        "model_d" => new ModelD(),
        "model_e" => new ModelE(),
        _ => throw new ArgumentException(name),
    };

    private static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "parity", "models", file);

    /// <summary>max |a − e| / max(|e|_max, tiny): error relative to the tensor's scale.</summary>
    private double Compare(string what, ReadOnlySpan<float> actual, float[] expected, double tolerance)
    {
        Assert.True(actual.Length >= expected.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        double maxErr = 0, scale = 1e-12;
        for (int i = 0; i < expected.Length; i++)
        {
            maxErr = Math.Max(maxErr, Math.Abs(actual[i] - (double)expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        double rel = maxErr / scale;
        _out.WriteLine($"{what}: max abs diff {maxErr:E2}, relative to max |expected| {rel:E2} (tolerance {tolerance:E0})");
        Assert.True(rel <= tolerance, $"{what}: relative error {rel:E3} > {tolerance:E0}");
        return rel;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardMatchesPyTorch(string name)
    {
        var fixture = SafeTensors.Read(Fixture(name + ".safetensors"));
        var model = Create(name);
        model.LoadWeights(Fixture(name + ".weights.safetensors")); // saved by PyTorch with nn.Sequential keys
        int batch = int.Parse(fixture.Metadata["batch"]);
        var input = fixture["input"].Data;
        var expected = fixture["output"].Data;

        var output = new float[batch * model.OutputSize];
        model.Forward(input, output, batch);
        Compare($"{name} batched output", output, expected, 1e-4);

        // One sample at a time gives the same numbers as the batch.
        var one = new float[model.OutputSize];
        for (int b = 0; b < batch; b++)
        {
            model.Forward(input.AsSpan(b * model.InputSize, model.InputSize), one);
            Compare($"{name} sample {b}", one, expected.AsSpan(b * model.OutputSize, model.OutputSize).ToArray(), 1e-4);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BackwardMatchesPyTorch(string name)
    {
        var fixture = SafeTensors.Read(Fixture(name + ".safetensors"));
        var model = Create(name);
        model.LoadWeights(Fixture(name + ".weights.safetensors"));
        int batch = int.Parse(fixture.Metadata["batch"]);

        var ws = model.CreateWorkspace(batch);
        ws.DropoutEnabled = false; // the fixtures are eval-mode gradients
        var output = new float[batch * model.OutputSize];
        model.ForwardTrain(ws, fixture["input"].Data, output, batch);
        Compare($"{name} training-mode output", output, fixture["output"].Data, 1e-4);

        var grads = new float[model.ParameterCount];
        var dInput = new float[batch * model.InputSize];
        model.Backward(ws, fixture["grad_output"].Data, grads, dInput);
        Compare($"{name} grad_input", dInput, fixture["grad_input"].Data, 1e-3);
        foreach (var slot in model.ParameterSlots)
        {
            var g = grads.AsSpan(slot.Offset, slot.ElementCount);
            Compare($"{name} grad/{slot.Key}", g, fixture["grad/" + slot.Key].Data, 1e-3);
        }

        // Backward accumulates: a second identical pass doubles the parameter gradients.
        model.ForwardTrain(ws, fixture["input"].Data, output, batch);
        model.Backward(ws, fixture["grad_output"].Data, grads, Span<float>.Empty);
        var first = model.ParameterSlots[0];
        var doubled = new float[first.ElementCount];
        var expectedFirst = fixture["grad/" + first.Key].Data;
        for (int i = 0; i < doubled.Length; i++) doubled[i] = 2 * expectedFirst[i];
        Compare($"{name} accumulated grad/{first.Key}", grads.AsSpan(first.Offset, first.ElementCount), doubled, 1e-3);
    }
}

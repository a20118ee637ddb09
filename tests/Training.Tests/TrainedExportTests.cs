using System;
using System.IO;
using System.Linq;
using CnnGen.Optim;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace CnnGen.Training.Tests;

[Block]
[Conv2d(16, 16, 3, Padding = 1, Bias = false)]
[BatchNorm2d(16)]
[ReLU]
[Conv2d(16, 16, 3, Padding = 1, Bias = false)]
[BatchNorm2d(16)]
public partial class ExportResBody { }

/// <summary>A small residual batch-norm net that learns MNIST in one short epoch.</summary>
[Model]
[Input(1, 28, 28)]
[Conv2d(1, 16, 3, Padding = 1, Bias = false)]
[BatchNorm2d(16)]
[ReLU]
[MaxPool2d(2)]
[Residual(typeof(ExportResBody), ReLU = true)]
[MaxPool2d(2)]
[Flatten]
[Linear(16 * 7 * 7, 10)]
public partial class ExportResNet { }

/// <summary>
/// A model trained by CnnGen's trainer on real MNIST, exported with ExportOnnx, gives the same outputs in ONNX Runtime
/// (an independent engine): the trained weights and the batch norm running statistics the training moved are what
/// the file carries. The sequential DESIGN.md model (dropout) and a residual batch-norm net.
/// </summary>
public class TrainedExportTests
{
    private const int TrainSamples = 1200, TestSamples = 200;

    [Fact]
    public void TrainedSequentialModelRunsInOnnxRuntimeWithTheSameOutputs()
    {
        var model = new DesignCnn(5);
        float[] initial = (float[])model.Parameters.Clone();
        Train(model, new Adam(DesignCnn.ParameterCount, 3e-3f));
        Assert.NotEqual(initial, model.Parameters);
        CompareWithOnnxRuntime(model, model.ExportOnnx, model.Forward, "DesignCnn");
    }

    [Fact]
    public void TrainedResidualBatchNormModelRunsInOnnxRuntimeWithTheSameOutputs()
    {
        var model = new ExportResNet(6);
        float[] initialBuffers = (float[])model.Buffers.Clone();
        Train(model, new Adam(ExportResNet.ParameterCount, 3e-3f));
        Assert.NotEqual(initialBuffers, model.Buffers); // the running statistics moved, so the export must carry them
        CompareWithOnnxRuntime(model, model.ExportOnnx, model.Forward, "ExportResNet");
    }

    private static void Train(ICnnModel model, Optimizer optimizer)
    {
        var options = new TrainerOptions { Epochs = 1, BatchSize = 32, Threads = 2, Seed = 11, Log = null, Progress = null };
        new Trainer(model, optimizer, options).Fit(TestData.Train.Slice(0, TrainSamples), TestData.Test.Slice(0, 100));
    }

    private delegate void Fwd(ReadOnlySpan<float> x, Span<float> y, int batch);

    private static void CompareWithOnnxRuntime(ICnnModel model, Action<string> export, Fwd forward, string name)
    {
        var test = TestData.Test.Slice(1000, TestSamples);
        var expected = new float[TestSamples * model.OutputSize];
        forward(test.Inputs, expected, TestSamples);
        // Training worked (well above the 10% of chance), so the weights compared are trained ones, not noise.
        int correct = Enumerable.Range(0, TestSamples).Count(i => ArgMax(expected.AsSpan(i * 10, 10)) == test.Labels[i]);
        Assert.True(correct >= TestSamples / 2, $"{name}: only {correct}/{TestSamples} right after training");

        string path = Path.Combine(Path.GetTempPath(), $"cnngen-trained-{name}-{Guid.NewGuid():N}.onnx");
        try
        {
            export(path);
            using var session = new InferenceSession(path);
            using var results = session.Run(new[]
            {
                NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(test.Inputs, new[] { TestSamples, 1, 28, 28 })),
            });
            float[] actual = results.Single().AsEnumerable<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            double worst = 0;
            for (int i = 0; i < expected.Length; i++)
                worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]) / Math.Max(1, Math.Abs(expected[i])));
            Assert.True(worst <= 1e-4, $"{name}: largest difference between CnnGen and ONNX Runtime {worst:G3}");
            for (int i = 0; i < TestSamples; i++)
                Assert.Equal(ArgMax(expected.AsSpan(i * 10, 10)), ArgMax(actual.AsSpan(i * 10, 10)));
        }
        finally { File.Delete(path); }
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}

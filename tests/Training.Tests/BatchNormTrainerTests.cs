using CnnGen.Optim;
using Xunit;

namespace CnnGen.Training.Tests;

[Block]
[Conv2d(8, 8, 3, Padding = 1, Bias = false)]
[BatchNorm2d(8)]
public partial class TrainerBnBody { }

[Model]
[Input(1, 28, 28)]
[Conv2d(1, 8, 3, Stride = 2, Padding = 1, Bias = false)]
[BatchNorm2d(8)]
[ReLU]
[Residual(typeof(TrainerBnBody), ReLU = true)]
[GlobalAvgPool2d]
[Flatten]
[Linear(8, 10)]
public partial class TrainerBnNet { }

/// <summary>
/// The trainer with batch norm: each shard normalizes with its own statistics, the running statistics move once a
/// step (from shard 0), and the result is still bit-identical for any thread count.
/// </summary>
public class BatchNormTrainerTests
{
    private static (float[] Parameters, float[] Buffers) Train(int threads)
    {
        var model = new TrainerBnNet(1);
        var options = new TrainerOptions { Epochs = 1, BatchSize = 32, Threads = threads, Seed = 3, Log = null, Progress = null };
        var trainer = new Trainer(model, new Adam(TrainerBnNet.ParameterCount, 1e-3f), options);
        trainer.Fit(TestData.Train.Slice(0, 650), TestData.Test.Slice(0, 100));
        return ((float[])model.Parameters.Clone(), (float[])model.Buffers.Clone());
    }

    [Fact]
    public void RunningStatisticsMoveOnceAStepAndTrainingIsBitIdenticalForAnyThreadCount()
    {
        var one = Train(1);
        var two = Train(2);
        Assert.Equal(one.Parameters, two.Parameters);
        Assert.Equal(one.Buffers, two.Buffers);
        var fresh = new TrainerBnNet(1);
        Assert.NotEqual(fresh.Buffers, one.Buffers);
        // Buffers: [running_mean 8, running_var 8, num_batches_tracked] per batch norm; 650 samples / 32 = 21 steps.
        Assert.Equal(21f, one.Buffers[16]);
        Assert.Equal(21f, one.Buffers[17 + 16]);
    }

    [Fact]
    public void CheckpointKeepsTheRunningStatistics()
    {
        using var dir = new TempDir();
        string path = dir.File("bn.ckpt");
        var model = new TrainerBnNet(1);
        var options = new TrainerOptions { Epochs = 1, BatchSize = 32, Threads = 2, Seed = 3, Log = null, Progress = null, CheckpointPath = path };
        new Trainer(model, new Adam(TrainerBnNet.ParameterCount, 1e-3f), options).Fit(TestData.Train.Slice(0, 650), TestData.Test.Slice(0, 100));

        var restored = new TrainerBnNet(99);
        new Trainer(restored, new Adam(TrainerBnNet.ParameterCount, 1e-3f), options).LoadCheckpoint(path);
        Assert.Equal(model.Parameters, restored.Parameters);
        Assert.Equal(model.Buffers, restored.Buffers);
        Assert.Equal(21f, restored.Buffers[16]);
    }
}

using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using CnnGen.IO;
using CnnGen.Optim;
using Xunit;

namespace CnnGen.Training.Tests;

/// <summary>
/// The trainer's worker threads: the parallel reduction and optimizer step give the same weights and optimizer state
/// for any thread count (also with SGD momentum and more shards than threads), an exception on a worker thread comes
/// out of <see cref="Trainer.Fit"/> and leaves the trainer usable, and a trainer dropped after Fit is collectable.
/// </summary>
public class TrainerThreadingTests
{
    private static TrainerOptions Options(int threads, int shards) => new()
    {
        Epochs = 1,
        BatchSize = 32,
        Shards = shards,
        Threads = threads,
        Seed = 11,
        Log = null,
        Progress = null,
    };

    private static byte[] StateBytes(Optimizer o)
    {
        using var ms = new MemoryStream();
        o.SaveState(ms);
        return ms.ToArray();
    }

    private static (float[] Weights, byte[] State) TrainSgd(int threads, int shards)
    {
        var model = new DesignCnn(2);
        var sgd = new Sgd(DesignCnn.ParameterCount, 0.02f, momentum: 0.9f, nesterov: true, weightDecay: 1e-4f);
        new Trainer(model, sgd, Options(threads, shards)).Fit(TestData.Train.Slice(0, 330), TestData.Test.Slice(0, 50));
        return ((float[])model.Parameters.Clone(), StateBytes(sgd));
    }

    [Fact]
    public void SgdWithMomentum_IsBitIdenticalForAnyThreadCount_WithMoreShardsThanThreads()
    {
        var one = TrainSgd(threads: 1, shards: 5);
        var two = TrainSgd(threads: 2, shards: 5);
        var four = TrainSgd(threads: 4, shards: 5);
        Assert.Equal(one.Weights, two.Weights);
        Assert.Equal(one.State, two.State);
        Assert.Equal(one.Weights, four.Weights);
        Assert.Equal(one.State, four.State);
        Assert.NotEqual(new DesignCnn(2).Parameters, one.Weights);
    }

    [Fact]
    public void AnExceptionOnAWorkerThread_ComesOutOfFit_AndTheTrainerStaysUsable()
    {
        var model = new FailingModel(new DesignCnn(1), Environment.CurrentManagedThreadId);
        var trainer = new Trainer(model, new Adam(DesignCnn.ParameterCount), Options(threads: 2, shards: 2));
        model.FailOffThread = true;
        var ex = Assert.Throws<InvalidOperationException>(() => trainer.Fit(TestData.Train.Slice(0, 96), TestData.Test.Slice(0, 50)));
        Assert.Equal(FailingModel.Message, ex.Message);
        Assert.Equal(0, trainer.Step);
        Assert.Equal(0, trainer.Optimizer.StepCount);

        model.FailOffThread = false;
        trainer.Fit(TestData.Train.Slice(0, 96), TestData.Test.Slice(0, 50));
        Assert.Equal(3, trainer.Step);
        Assert.Equal(3, trainer.Optimizer.StepCount);
    }

    [Fact]
    public void ATrainerDroppedAfterFit_IsCollected()
    {
        WeakReference trainer = FitAndDrop();
        for (int i = 0; i < 3 && trainer.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(trainer.IsAlive); // its worker threads (which reference it) have ended
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference FitAndDrop()
    {
        var model = new DesignCnn(1);
        var trainer = new Trainer(model, new Adam(DesignCnn.ParameterCount), Options(threads: 2, shards: 2));
        trainer.Fit(TestData.Train.Slice(0, 64), TestData.Test.Slice(0, 20));
        return new WeakReference(trainer);
    }

    /// <summary>A model whose training forward pass throws when it runs off the given thread (on a worker).</summary>
    private sealed class FailingModel(ICnnModel inner, int mainThread) : ICnnModel
    {
        public const string Message = "simulated failure on a worker thread";

        private readonly ManualResetEventSlim _workerCalled = new();

        public bool FailOffThread { get; set; }

        public int InputSize => inner.InputSize;
        public int OutputSize => inner.OutputSize;
        public int ParameterCount => inner.ParameterCount;
        public float[] Parameters => inner.Parameters;
        public TensorSlot[] ParameterSlots => inner.ParameterSlots;
        public string[] LayerNames => inner.LayerNames;
        public void Forward(ReadOnlySpan<float> input, Span<float> output) => inner.Forward(input, output);
        public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize) => inner.Forward(input, output, batchSize);
        public TrainingWorkspace CreateWorkspace(int maxBatchSize, ulong seed = 0) => inner.CreateWorkspace(maxBatchSize, seed);

        public void ForwardTrain(TrainingWorkspace workspace, ReadOnlySpan<float> input, Span<float> output, int batchSize)
        {
            if (FailOffThread)
            {
                if (Environment.CurrentManagedThreadId != mainThread)
                {
                    _workerCalled.Set();
                    throw new InvalidOperationException(Message);
                }
                // shards are taken from a shared counter: hold the calling thread's shard until a worker has taken one
                _workerCalled.Wait(TimeSpan.FromSeconds(30));
            }
            inner.ForwardTrain(workspace, input, output, batchSize);
        }

        public void Backward(TrainingWorkspace workspace, ReadOnlySpan<float> outputGradient, Span<float> parameterGradients, Span<float> inputGradient)
            => inner.Backward(workspace, outputGradient, parameterGradients, inputGradient);

        public void LoadWeights(string path) => inner.LoadWeights(path);
        public void SaveWeights(string path) => inner.SaveWeights(path);
    }
}

using System;
using System.IO;
using System.Linq;
using CnnGen.Optim;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Training.Tests;

public class TrainerTests
{
    private readonly ITestOutputHelper _out;

    public TrainerTests(ITestOutputHelper output) => _out = output;

    private static TrainerOptions Options(int epochs, int threads, ulong seed = 7, string? checkpoint = null, int batch = 32) => new()
    {
        Epochs = epochs,
        BatchSize = batch,
        Threads = threads,
        Seed = seed,
        Log = null,
        Progress = null,
        CheckpointPath = checkpoint,
    };

    // 650 samples with batch 32: 20 full batches and a last one of 10, smaller than the 8 shards' capacity.
    private static LabeledData SmallTrain => TestData.Train.Slice(0, 650);

    private static LabeledData SmallTest => TestData.Test.Slice(0, 300);

    private static float[] TrainDesign(int threads, ulong seed, int epochs = 2)
    {
        var model = new DesignCnn(1);
        var trainer = new Trainer(model, new Adam(DesignCnn.ParameterCount, 1e-3f), Options(epochs, threads, seed));
        trainer.Fit(SmallTrain, SmallTest);
        return (float[])model.Parameters.Clone();
    }

    [Fact]
    public void SameSeed_GivesBitIdenticalWeights_With1Or2Or3Threads()
    {
        float[] one = TrainDesign(threads: 1, seed: 7);
        float[] two = TrainDesign(threads: 2, seed: 7);
        float[] three = TrainDesign(threads: 3, seed: 7);
        Assert.Equal(one, two);
        Assert.Equal(one, three);
        // and the seed matters (dropout masks and order), so the equality above is not vacuous
        float[] other = TrainDesign(threads: 2, seed: 8);
        Assert.NotEqual(one, other);
        Assert.NotEqual(new DesignCnn(1).Parameters, one);
    }

    [Fact]
    public void Evaluate_DoesNotDependOnThreads()
    {
        var model = new DesignCnn(3);
        EvaluationResult a = Trainer.Evaluate(model, SmallTest, LossFunction.CrossEntropy, threads: 1, chunkSize: 64);
        EvaluationResult b = Trainer.Evaluate(model, SmallTest, LossFunction.CrossEntropy, threads: 2, chunkSize: 64);
        Assert.Equal(a.Loss, b.Loss);
        Assert.Equal(a.Confusion.Correct, b.Confusion.Correct);
        Assert.Equal(300, a.Confusion.Total);
        Assert.InRange(a.Loss, 2.0, 2.6); // an untrained 10-class model: about ln 10
    }

    [Fact]
    public void Checkpoint_RoundTrip_RestoresWeightsOptimizerStateAndCounters()
    {
        using var dir = new TempDir();
        string path = dir.File("run.ckpt");
        var model = new DesignCnn(1);
        var adam = new Adam(DesignCnn.ParameterCount, 2e-3f);
        var trainer = new Trainer(model, adam, Options(1, 2, checkpoint: path));
        trainer.Fit(SmallTrain, SmallTest);
        Assert.True(File.Exists(path));

        var restored = new DesignCnn(99);
        var adam2 = new Adam(DesignCnn.ParameterCount, 2e-3f);
        var trainer2 = new Trainer(restored, adam2, Options(1, 1, checkpoint: path));
        Checkpoint ck = trainer2.LoadCheckpoint(path);

        Assert.Equal(model.Parameters, restored.Parameters);
        Assert.Equal(StateBytes(adam), StateBytes(adam2));
        Assert.Equal(adam.StepCount, adam2.StepCount);
        Assert.Equal(21, adam2.StepCount); // ceil(650 / 32)
        Assert.Equal(1, ck.Epoch);
        Assert.Equal(21, ck.Step);
        Assert.Equal(1, trainer2.CompletedEpochs);
        Assert.Equal(trainer.CaptureState().RngState, trainer2.CaptureState().RngState);
        EpochResult e = Assert.Single(trainer2.History.Epochs);
        Assert.Equal(trainer.History.Epochs[0].TestLoss, e.TestLoss);
        Assert.Equal(trainer.History.Epochs[0].TestAccuracy, e.TestAccuracy);
    }

    [Fact]
    public void ResumedTraining_EqualsUninterruptedTraining()
    {
        using var dir = new TempDir();
        const int Epochs = 3;
        int batches = (650 + 31) / 32;

        // uninterrupted, with a per-batch OneCycle schedule (so the scheduler position must be restored too)
        var straight = new DesignCnn(1);
        var adamA = new Adam(DesignCnn.ParameterCount, 3e-3f);
        var runA = new Trainer(straight, adamA, Options(Epochs, 2), new OneCycleLR(adamA, 3e-3f, Epochs * batches));
        runA.Fit(SmallTrain, SmallTest);

        // interrupted after epoch 1 ...
        string path = dir.File("resume.ckpt");
        var first = new DesignCnn(1);
        var adamB = new Adam(DesignCnn.ParameterCount, 3e-3f);
        new Trainer(first, adamB, Options(1, 1, checkpoint: path), new OneCycleLR(adamB, 3e-3f, Epochs * batches)).Fit(SmallTrain, SmallTest);
        Assert.NotEqual(straight.Parameters, first.Parameters);

        // ... and resumed in a new process-like setting: fresh model, optimizer, scheduler; another thread count
        var resumed = new DesignCnn(12345);
        var adamC = new Adam(DesignCnn.ParameterCount, 3e-3f);
        var runC = new Trainer(resumed, adamC, Options(Epochs, 2, checkpoint: path), new OneCycleLR(adamC, 3e-3f, Epochs * batches));
        runC.LoadCheckpoint(path);
        runC.Fit(SmallTrain, SmallTest);

        Assert.Equal(straight.Parameters, resumed.Parameters);
        Assert.Equal(StateBytes(adamA), StateBytes(adamC));
        Assert.Equal(runA.History.Epochs.Select(e => e.TestLoss), runC.History.Epochs.Select(e => e.TestLoss));
        Assert.Equal(Epochs, Checkpoint.ReadInfo(path).Epoch);
    }

    [Fact]
    public void LoadCheckpoint_RejectsADifferentRun_AndLeavesTheModelAlone()
    {
        using var dir = new TempDir();
        string path = dir.File("a.ckpt");
        var model = new DesignCnn(1);
        var trainer = new Trainer(model, new Adam(DesignCnn.ParameterCount), Options(1, 2, checkpoint: path));
        trainer.Fit(SmallTrain.Take(64), SmallTest.Take(50));

        var other = new DesignCnn(5);
        float[] before = (float[])other.Parameters.Clone();
        var wrongBatch = new Trainer(other, new Adam(DesignCnn.ParameterCount), Options(1, 2, checkpoint: path, batch: 16));
        var ex = Assert.Throws<InvalidDataException>(() => wrongBatch.LoadCheckpoint(path));
        Assert.Contains("batch size 32", ex.Message);
        var wrongOptimizer = new Trainer(other, new Sgd(DesignCnn.ParameterCount, 0.1f, momentum: 0.9f), Options(1, 2, checkpoint: path));
        Assert.Throws<InvalidDataException>(() => wrongOptimizer.LoadCheckpoint(path));
        Assert.Equal(before, other.Parameters);
    }

    [Fact]
    public void InterruptedCheckpointWrite_LeavesThePreviousCheckpointIntact()
    {
        using var dir = new TempDir();
        string path = dir.File("run.ckpt");
        var model = new DesignCnn(1);
        var adam = new Adam(DesignCnn.ParameterCount);
        var trainer = new Trainer(model, adam, Options(1, 2, checkpoint: path));
        trainer.Fit(SmallTrain.Take(128), SmallTest.Take(50));
        byte[] good = File.ReadAllBytes(path);

        // train on, then crash in the middle of writing the next checkpoint
        trainer.Options.Epochs = 2;
        trainer.Fit(SmallTrain.Take(128), SmallTest.Take(50));
        File.WriteAllBytes(path, good); // back to the epoch-1 checkpoint, then try to overwrite it with epoch 2's
        Assert.Throws<IOException>(() => Checkpoint.Save(path, model, adam, trainer.CaptureState(), s => new FailingStream(s, failAfter: 100_000)));

        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal(new[] { "run.ckpt" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName).ToArray()); // no temp file left
        var restored = new DesignCnn(2);
        var info = Checkpoint.Load(path, restored, new Adam(DesignCnn.ParameterCount));
        Assert.Equal(1, info.Epoch);

        // a checkpoint that really was cut short (e.g. copied partially) is rejected, not half-loaded
        File.WriteAllBytes(dir.File("cut.ckpt"), good.AsSpan(0, good.Length / 2).ToArray());
        float[] before = (float[])restored.Parameters.Clone();
        Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir.File("cut.ckpt"), restored, new Adam(DesignCnn.ParameterCount)));
        Assert.Equal(before, restored.Parameters);
    }

    [Fact]
    public void NaNLoss_StopsWithEpochAndBatch_AndKeepsTheLastGoodCheckpoint()
    {
        using var dir = new TempDir();
        string path = dir.File("run.ckpt");
        var model = new DesignCnn(1);
        var sgd = new Sgd(DesignCnn.ParameterCount, 0.01f);
        var trainer = new Trainer(model, sgd, Options(1, 2, checkpoint: path));
        trainer.Fit(SmallTrain.Take(320), SmallTest.Take(50));
        byte[] good = File.ReadAllBytes(path);

        // epoch 2, batch 4: a poisoned input makes the loss NaN
        LabeledData poisoned = SmallTrain.Take(320);
        var inputs = (float[])poisoned.Inputs.Clone();
        var noShuffle = new LabeledData(inputs, poisoned.Labels, poisoned.SampleSize, poisoned.ClassNames);
        trainer.Options.Epochs = 2;
        trainer.Options.Shuffle = false; // (read by Fit) so that sample 100 is in batch 4
        inputs[100 * 784 + 300] = float.NaN;
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(noShuffle, SmallTest.Take(50)));
        _out.WriteLine(ex.Message);
        Assert.Equal(2, ex.Epoch);
        Assert.Equal(4, ex.Batch);
        Assert.True(double.IsNaN(ex.Loss));
        Assert.Contains("epoch 2, batch 4", ex.Message);
        Assert.Contains("after epoch 1", ex.Message);
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal(1, trainer.CompletedEpochs);
        Assert.All(model.Parameters, p => Assert.True(float.IsFinite(p))); // the bad step was not taken
    }

    [Fact]
    public void ExplodingLearningRate_IsDetected()
    {
        var model = new DesignCnn(1);
        var trainer = new Trainer(model, new Sgd(DesignCnn.ParameterCount, 1e30f), Options(1, 2));
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(SmallTrain, SmallTest.Take(50)));
        _out.WriteLine(ex.Message);
        Assert.Equal(1, ex.Epoch);
        Assert.InRange(ex.Batch, 2, 21);
        Assert.Contains($"epoch 1, batch {ex.Batch}", ex.Message);
    }

    [Fact]
    public void ShortRunOnMnistSubset_ReachesLossBound()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        LabeledData train = TestData.Train.Slice(0, 2000);
        LabeledData test = TestData.Test.Slice(0, 1000);
        var model = new DesignCnn(1);
        var log = new StringWriter();
        var options = Options(3, 2);
        options.Log = log;
        var trainer = new Trainer(model, new Adam(DesignCnn.ParameterCount, 2e-3f), options);
        TrainingHistory h = trainer.Fit(train, test);
        foreach (EpochResult e in h.Epochs)
            _out.WriteLine($"{e.Line}  train loss {e.TrainLoss:F4}  {e.Seconds:F2}s");
        _out.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(3, h.Epochs.Count);
        Assert.True(h.Epochs[0].TrainLoss > h.Epochs[2].TrainLoss);
        Assert.True(h.Epochs[2].TestLoss < 0.5, $"test loss {h.Epochs[2].TestLoss}");
        Assert.True(h.Epochs[2].TestAccuracy > 0.85, $"accuracy {h.Epochs[2].TestAccuracy}");
        Assert.True(clock.Elapsed.TotalSeconds < 30);

        string[] lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Train Epoch: 1 [0/2000 (0%)]\tLoss: ", lines[0][..^8]);
        Assert.Matches(@"^\[3\] Test Loss: \d\.\d{4}, Accuracy: \d{2}\.\d{2}%$", lines[^1]);
        Assert.Equal(3 * 7 + 3, lines.Length); // 63 batches per epoch: batches 0, 10, ..., 60 logged, plus the epoch lines
    }

    [Fact]
    public void SoftmaxModel_TrainsWithKerasLoss()
    {
        var model = new TinySoftmaxCnn(1);
        model.ResetParameters(1, Initializer.GlorotUniform);
        var options = Options(2, 2);
        options.Loss = LossFunction.SparseCategoricalCrossEntropy;
        var trainer = new Trainer(model, new Adam(TinySoftmaxCnn.ParameterCount, 3e-3f), options);
        double before = trainer.Evaluate(SmallTest).Loss;
        TrainingHistory h = trainer.Fit(TestData.Train.Slice(0, 1500), SmallTest);
        Assert.True(h.Last!.TestLoss < before * 0.6, $"{before} -> {h.Last.TestLoss}");
    }

    private static byte[] StateBytes(Optimizer o)
    {
        var ms = new MemoryStream();
        o.SaveState(ms);
        return ms.ToArray();
    }

    private sealed class FailingStream(Stream inner, long failAfter) : Stream
    {
        private long _written;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > failAfter)
            {
                inner.Write(buffer[..(int)(failAfter - _written)]);
                throw new IOException("simulated crash: disk full");
            }
            inner.Write(buffer);
            _written += buffer.Length;
        }
    }
}

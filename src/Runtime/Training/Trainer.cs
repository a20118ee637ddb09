using System;
using System.Diagnostics;
using System.IO;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using CnnGen.Data;
using CnnGen.Metrics;
using CnnGen.Optim;

namespace CnnGen.Training;

/// <summary>
/// Trains an <see cref="ICnnModel"/> with mini-batch gradient descent, data-parallel over threads and deterministic
/// for a seed.
/// <para>
/// Each mini-batch of n samples is split by index into <see cref="TrainerOptions.Shards"/> fixed shards
/// (shard s = samples [s·n/S, (s+1)·n/S)); worker threads (the calling thread and <c>Threads - 1</c> threads started
/// for each <see cref="Fit"/>), each with its own <see cref="TrainingWorkspace"/>, take the shards from a shared
/// counter; every shard's gradient goes into that shard's own buffer, with its dropout masks drawn from a generator
/// seeded by (step, shard). Then each worker takes a fixed range of the parameters and sums the shard buffers over it
/// in shard order, checks it for NaN and infinity, and, once every range and the loss are known to be finite, applies
/// the optimizer's update to its range. Nothing depends on which thread ran which shard or range, so the same seed
/// gives bit-identical weights with 1, 2 or any number of threads.
/// </para>
/// <para>
/// Per epoch: the training log lines of the PyTorch tutorial every <see cref="TrainerOptions.LogInterval"/> batches,
/// a progress display with an ETA, an evaluation on the test set, a checkpoint (atomic), the
/// <see cref="EpochCompleted"/> callback, and the line <c>[N] Test Loss: …, Accuracy: …%</c>. A NaN or infinite loss
/// or gradient stops training with a <see cref="TrainingDivergedException"/> naming the epoch and batch, before the
/// optimizer step and without touching the last checkpoint.
/// </para>
/// </summary>
public sealed partial class Trainer
{
    private readonly int _threads;
    private readonly int _batchSize;
    private readonly ulong _seed;
    private readonly int _shards;
    private readonly int _shardCapacity;
    private readonly TrainingWorkspace[] _workspaces;
    private readonly float[][] _outputs;
    private readonly float[][] _outputGrads;
    private readonly float[][] _shardGrads;
    private readonly double[] _shardLoss;
    private readonly float[] _gradient;
    private readonly float[] _batchInputs;
    private readonly int[] _batchLabels;
    private readonly int[] _rangeStart;   // worker w reduces and steps parameters [_rangeStart[w], _rangeStart[w + 1])
    private readonly bool[] _rangeFinite;
    private readonly Action<int> _stepBody;
    private Rng _rng;
    private WorkerTeam? _team;
    private BatchLoader? _loader;
    private int _batchFirst;

    // The step in progress, read by every worker.
    private int _stepN;
    private ulong _stepSeed;
    private long _nextOptimizerStep;
    private double _stepLoss;
    private bool _stepTaken;
    private int _nextShard;

    /// <summary>Creates a trainer.</summary>
    /// <param name="model">The model; its <see cref="ICnnModel.Parameters"/> are updated in place.</param>
    /// <param name="optimizer">The optimizer, created for <c>model.ParameterCount</c> parameters.</param>
    /// <param name="options">
    /// Epochs, batch size, threads, seed, logging, checkpoint path. <see cref="TrainerOptions.BatchSize"/>,
    /// <see cref="TrainerOptions.Threads"/>, <see cref="TrainerOptions.Shards"/> and <see cref="TrainerOptions.Seed"/> are
    /// fixed here (buffers are sized for them); the others are read by each <see cref="Fit"/>, so a run can be extended
    /// by raising <see cref="TrainerOptions.Epochs"/> and calling <see cref="Fit"/> again.
    /// </param>
    /// <param name="scheduler">An optional learning-rate schedule, stepped per <see cref="TrainerOptions.SchedulerInterval"/>.</param>
    public Trainer(ICnnModel model, Optimizer optimizer, TrainerOptions options, LRScheduler? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (optimizer.ParameterCount != model.ParameterCount)
            throw new ArgumentException($"The optimizer was created for {optimizer.ParameterCount} parameters, but the model has {model.ParameterCount}.", nameof(optimizer));
        Model = model;
        Optimizer = optimizer;
        Options = options;
        Scheduler = scheduler;
        _shards = options.EffectiveShards;
        _batchSize = options.BatchSize;
        _seed = options.Seed;
        _threads = Math.Min(options.Threads, _shards);
        _shardCapacity = (options.BatchSize + _shards - 1) / _shards;
        _workspaces = new TrainingWorkspace[_threads];
        _outputs = new float[_threads][];
        _outputGrads = new float[_threads][];
        for (int w = 0; w < _threads; w++)
        {
            _workspaces[w] = model.CreateWorkspace(_shardCapacity);
            _outputs[w] = new float[_shardCapacity * model.OutputSize];
            _outputGrads[w] = new float[_shardCapacity * model.OutputSize];
        }
        _shardGrads = new float[_shards][];
        for (int s = 0; s < _shards; s++)
            _shardGrads[s] = new float[model.ParameterCount];
        _shardLoss = new double[_shards];
        _gradient = new float[model.ParameterCount];
        _batchInputs = new float[options.BatchSize * model.InputSize];
        _batchLabels = new int[options.BatchSize];
        _rng = new Rng(_seed);
        _rangeStart = new int[_threads + 1];
        for (int w = 0; w <= _threads; w++)
            _rangeStart[w] = w == _threads ? model.ParameterCount : (int)((long)model.ParameterCount * w / _threads) & ~(RangeAlignment - 1);
        _rangeFinite = new bool[_threads];
        _stepBody = StepWorker;
    }

    /// <summary>Parameter ranges start at multiples of 16 floats (64 bytes), so workers share no cache line but at the ends.</summary>
    private const int RangeAlignment = 16;

    /// <summary>Elements per block of the gradient reduction (two 16 KB blocks stay in L1 while they are summed).</summary>
    private const int ReduceBlock = 4096;

    /// <summary>The model being trained.</summary>
    public ICnnModel Model { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The learning-rate schedule, if any.</summary>
    public LRScheduler? Scheduler { get; }

    /// <summary>The options.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The number of worker threads actually used: min(<see cref="TrainerOptions.Threads"/>, <see cref="TrainerOptions.Shards"/>).</summary>
    public int Threads => _threads;

    /// <summary>Epochs completed (by this trainer or the checkpoint it resumed from); <see cref="Fit"/> continues after it.</summary>
    public int CompletedEpochs { get; private set; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long Step { get; private set; }

    /// <summary>The per-epoch results so far (restored from a checkpoint on resume).</summary>
    public TrainingHistory History { get; } = new();

    /// <summary>
    /// Called after each epoch's evaluation and checkpoint, just before its <c>[N] Test Loss</c> line is written
    /// (e.g. to draw plots, or on the last epoch to print a report so that line stays the last one).
    /// </summary>
    public Action<EpochResult>? EpochCompleted { get; set; }

    /// <summary>The last summed mini-batch gradient (for inspection and tests).</summary>
    internal ReadOnlySpan<float> LastGradient => _gradient;

    /// <summary>
    /// Trains from epoch <see cref="CompletedEpochs"/> + 1 through <see cref="TrainerOptions.Epochs"/>, evaluating on
    /// <paramref name="test"/> after each epoch. When there is nothing left to train (a resumed, finished run), evaluates
    /// once and reports the last epoch again.
    /// </summary>
    /// <param name="train">The training samples.</param>
    /// <param name="test">The evaluation samples (a held-out validation set while tuning; the test set for the final report).</param>
    /// <returns>The history of all epochs.</returns>
    /// <exception cref="TrainingDivergedException">The loss or gradient became NaN or infinite.</exception>
    public TrainingHistory Fit(LabeledData train, LabeledData test)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        CheckData(train, nameof(train));
        CheckData(test, nameof(test));
        TrainerOptions o = Options;
        var loader = new BatchLoader(train.Inputs, train.Labels, train.SampleSize, _batchSize, o.Shuffle, _seed);
        var progress = new ProgressDisplay(o.Progress, o.Epochs, train.Count, test.Count);

        if (CompletedEpochs >= o.Epochs)
        {
            EvaluationResult ev = Evaluate(test);
            var again = new EpochResult(CompletedEpochs, History.Last?.TrainLoss ?? double.NaN, ev.Loss, ev.Accuracy, Optimizer.LearningRate, 0, 0)
            {
                Confusion = ev.Confusion,
                IsLast = true,
            };
            EpochCompleted?.Invoke(again);
            o.Log?.WriteLine(again.Line);
            o.Log?.Flush();
            return History;
        }

        // The worker threads live for this call: started here, parked between steps and during evaluation, and
        // stopped when it returns or throws (so a trainer that is dropped leaves no threads behind).
        _team = _threads > 1 ? new WorkerTeam(_threads, _stepBody, "CnnGen trainer") : null;
        _loader = loader;
        try
        {
            RunEpochs(train, test, loader, progress);
        }
        finally
        {
            _team?.Dispose();
            _team = null;
            _loader = null;
        }
        return History;
    }

    private void RunEpochs(LabeledData train, LabeledData test, BatchLoader loader, ProgressDisplay progress)
    {
        TrainerOptions o = Options;
        for (int epoch = CompletedEpochs + 1; epoch <= o.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            int seen = 0;
            int batchIndex = 0;
            int batches = loader.BatchesPerEpoch;
            float lastLr = Optimizer.LearningRate;
            progress.StartEpoch(epoch);
            loader.StartEpoch(epoch);
            while (loader.TryNextBatchPosition(out _batchFirst, out int n)) // each shard copies its own samples
            {
                lastLr = Optimizer.LearningRate;
                double batchLoss = TrainStep(n, epoch, batchIndex + 1, train.Count, seen);
                lossSum += batchLoss * n;
                if (o.LogInterval > 0 && batchIndex % o.LogInterval == 0 && o.Log is not null)
                {
                    progress.Clear();
                    o.Log.WriteLine(TrainingLog.TrainLine(epoch, batchIndex, n, train.Count, batches, batchLoss));
                }
                seen += n;
                batchIndex++;
                progress.Update(seen, lossSum / seen, clock.Elapsed.TotalSeconds);
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            if (Scheduler is not null && o.SchedulerInterval == SchedulerInterval.Epoch)
                Scheduler.Step(Optimizer);

            var evalClock = Stopwatch.StartNew();
            EvaluationResult ev = Evaluate(test);
            double evalSeconds = evalClock.Elapsed.TotalSeconds;
            progress.EndEpoch(trainSeconds, evalSeconds);

            var result = new EpochResult(epoch, lossSum / Math.Max(seen, 1), ev.Loss, ev.Accuracy, lastLr, trainSeconds, evalSeconds)
            {
                Confusion = ev.Confusion,
                IsLast = epoch == o.Epochs,
            };
            History.Add(result);
            CompletedEpochs = epoch;
            if (o.CheckpointPath is not null)
                SaveCheckpoint(o.CheckpointPath);
            progress.Clear();
            EpochCompleted?.Invoke(result);
            o.Log?.WriteLine(result.Line);
            o.Log?.Flush();
        }
    }

    /// <summary>
    /// One optimizer step on the batch in the trainer's buffers; returns its mean loss. Every worker runs
    /// <see cref="StepWorker"/>: its shards, then its range of the parameters (sum of the shard gradients, finiteness
    /// check, and, if the whole gradient and the loss are finite, the optimizer update of that range).
    /// </summary>
    private double TrainStep(int n, int epoch, int batchNumber, int datasetSize, int seenBefore)
    {
        _stepN = n;
        _stepSeed = _rng.NextUInt64();
        _nextOptimizerStep = Optimizer.StepCount + 1;
        _stepTaken = false;
        _nextShard = 0;
        if (_team is null)
            StepWorker(0);
        else
            _team.Run();

        double loss = _stepLoss;
        if (!_stepTaken)
        {
            string what = !double.IsFinite(loss) ? $"the loss is {loss.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "the gradient has NaN or infinite values";
            string kept = Options.CheckpointPath is { } p && CompletedEpochs > 0
                ? $" The last good checkpoint ({Path.GetFullPath(p)}, after epoch {CompletedEpochs}) is kept."
                : Options.CheckpointPath is not null ? " No checkpoint was written yet." : "";
            throw new TrainingDivergedException(epoch, batchNumber, loss,
                $"Training diverged at epoch {epoch}, batch {batchNumber} (samples {seenBefore}-{seenBefore + n - 1} of {datasetSize}): {what}. Stopped before the optimizer step.{kept} Try a lower learning rate.");
        }

        Optimizer.CompleteRangeStep(_nextOptimizerStep);
        Step++;
        if (Scheduler is not null && Options.SchedulerInterval == SchedulerInterval.Batch)
            Scheduler.Step(Optimizer);
        return loss;
    }

    /// <summary>
    /// Worker <paramref name="worker"/>'s part of a step. Phases are separated by the team's barrier; what each worker
    /// decides after a barrier (the loss, whether to step) it computes from the same data in the same order, so all
    /// agree, and every element of the result is computed the same way whatever the thread count.
    /// </summary>
    private void StepWorker(int worker)
    {
        WorkerTeam? team = _team;
        int n = _stepN;
        if (team is null)
        {
            RunShards(0, n, _stepSeed, 1f / n);
        }
        else
        {
            try
            {
                RunShards(worker, n, _stepSeed, 1f / n);
            }
            catch (Exception e)
            {
                team.Record(worker, e);
            }
            team.Barrier.SignalAndWait(); // all shard gradients and losses are written
            if (team.AnyFailed)
                return;
        }

        double loss = 0;
        for (int s = 0; s < _shards; s++)
            loss += _shardLoss[s];
        loss /= n;
        int lo = _rangeStart[worker], hi = _rangeStart[worker + 1];
        if (team is null)
        {
            _rangeFinite[worker] = ReduceGradients(n, lo, hi - lo);
        }
        else
        {
            try
            {
                _rangeFinite[worker] = ReduceGradients(n, lo, hi - lo);
            }
            catch (Exception e)
            {
                _rangeFinite[worker] = false; // no range steps; Run rethrows
                team.Record(worker, e);
            }
            team.Barrier.SignalAndWait(); // every range's finiteness is known
        }

        bool finite = double.IsFinite(loss);
        for (int w = 0; w < _threads; w++)
            finite &= _rangeFinite[w];
        if (worker == 0)
        {
            _stepLoss = loss;
            _stepTaken = finite;
        }
        if (finite)
            Optimizer.StepRange(Model.Parameters, _gradient, lo, hi - lo, _nextOptimizerStep);
    }

    /// <summary>
    /// Runs shards until none is left, taking the next one from a shared counter (so a worker that falls behind takes
    /// fewer): a shard's result depends only on the shard (its samples, its dropout stream, its gradient buffer), not on
    /// which worker or workspace runs it.
    /// </summary>
    private void RunShards(int worker, int n, ulong stepSeed, float invN)
    {
        TrainingWorkspace ws = _workspaces[worker];
        float[] output = _outputs[worker];
        float[] dOutput = _outputGrads[worker];
        int inSize = Model.InputSize, outSize = Model.OutputSize;
        for (int s = Interlocked.Increment(ref _nextShard) - 1; s < _shards; s = Interlocked.Increment(ref _nextShard) - 1)
        {
            int lo = (int)((long)s * n / _shards), hi = (int)((long)(s + 1) * n / _shards);
            int m = hi - lo;
            _shardLoss[s] = 0;
            if (m == 0)
                continue;
            _loader!.CopySamples(_batchFirst, lo, hi, _batchInputs, _batchLabels);
            float[] g = _shardGrads[s];
            Array.Clear(g);
            ws.Rng.Reseed(stepSeed ^ (0x9E3779B97F4A7C15UL * (ulong)(s + 1)));
            ws.UpdateBatchNormStatistics = s == 0; // running statistics move once a step, from shard 0 (as DataParallel keeps replica 0's)
            Model.ForwardTrain(ws, _batchInputs.AsSpan(lo * inSize, m * inSize), output, m);
            Span<float> dy = dOutput.AsSpan(0, m * outSize);
            _shardLoss[s] = LossFunctions.Sum(Options.Loss, output.AsSpan(0, m * outSize), _batchLabels.AsSpan(lo, m), m, outSize, dy);
            foreach (ref float v in dy)
                v *= invN; // d(mean over the whole batch) = d(sum) / n
            Model.Backward(ws, dy, g, Span<float>.Empty);
        }
    }

    /// <summary>
    /// Elements [start, start + length) of _gradient = Σ over non-empty shards, in shard order (vectorized, a block at
    /// a time so the block stays in cache); returns whether every one of them is finite.
    /// </summary>
    private bool ReduceGradients(int n, int start, int length)
    {
        bool finite = true;
        for (int b = start, end = start + length; b < end; b += ReduceBlock)
        {
            int len = Math.Min(ReduceBlock, end - b);
            Span<float> dst = _gradient.AsSpan(b, len);
            bool first = true;
            for (int s = 0; s < _shards; s++)
            {
                int lo = (int)((long)s * n / _shards), hi = (int)((long)(s + 1) * n / _shards);
                if (hi == lo)
                    continue;
                if (first)
                {
                    _shardGrads[s].AsSpan(b, len).CopyTo(dst);
                    first = false;
                }
                else
                {
                    Kernels.Ops.AddTo(dst, _shardGrads[s].AsSpan(b, len));
                }
            }
            finite &= AllFinite(dst);
        }
        return finite;
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        ref float d = ref MemoryMarshal.GetReference(values);
        int len = values.Length, i = 0;
        int w = Vector<float>.Count;
        Vector<float> acc = Vector<float>.Zero;
        for (; i <= len - w; i += w)
        {
            Vector<float> v = Vector.LoadUnsafe(ref d, (nuint)i);
            acc += v - v; // 0 for finite values, NaN for NaN or ±infinity
        }
        float tail = 0;
        for (; i < len; i++)
        {
            float v = System.Runtime.CompilerServices.Unsafe.Add(ref d, i);
            tail += v - v;
        }
        return Vector.EqualsAll(acc, Vector<float>.Zero) && tail == 0;
    }

    private void CheckData(LabeledData data, string name)
    {
        if (data.SampleSize != Model.InputSize)
            throw new ArgumentException($"The samples have {data.SampleSize} floats each, but the model's input has {Model.InputSize}.", name);
        if (data.ClassCount != Model.OutputSize)
            throw new ArgumentException($"The data has {data.ClassCount} classes, but the model outputs {Model.OutputSize} values.", name);
    }
}

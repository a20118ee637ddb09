using System;
using System.IO;

namespace CnnGen.Training;

/// <summary>When a <see cref="Trainer"/> advances its learning-rate scheduler.</summary>
public enum SchedulerInterval
{
    /// <summary>After every optimizer step (OneCycle, warm-up schedules).</summary>
    Batch,

    /// <summary>After every epoch (StepLR, cosine annealing over epochs).</summary>
    Epoch,
}

/// <summary>How a <see cref="Trainer"/> trains: epochs, batching, threads, logging and checkpoints.</summary>
public sealed class TrainerOptions
{
    /// <summary>
    /// <see cref="Shards"/> when it is 0 (the default): a mini-batch of n samples is split into n / 16 shards, at least 2
    /// (when n ≥ 2) and at most 8. Shards of about 16 samples keep the batched convolutions' GEMMs wide; the count depends
    /// only on the batch size, never on the machine, so results do not depend on the core count.
    /// </summary>
    public static int AutoShards(int batchSize) => Math.Clamp(batchSize / 16, Math.Min(2, batchSize), 8);

    /// <summary>The number of epochs to train (the last epoch number; a resumed run continues up to it).</summary>
    public int Epochs { get; set; } = 1;

    /// <summary>Samples per mini-batch (one optimizer step per batch).</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>
    /// Worker threads (each with its own training workspace); at most <see cref="Shards"/> are used.
    /// The result does not depend on it: the same seed gives bit-identical weights with any thread count.
    /// </summary>
    public int Threads { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// How many shards each mini-batch is split into, by sample index (shard s holds samples
    /// [s·n/Shards, (s+1)·n/Shards) of a batch of n); 0 (the default) chooses <see cref="AutoShards"/> from the batch size.
    /// Each shard's gradient goes into its own buffer and the buffers are summed in shard order, so the arithmetic is fixed
    /// by (seed, BatchSize, Shards) whatever the thread count; at most Shards threads work at once. Changing it changes the
    /// floating-point rounding (not the mathematics) of the gradient sums.
    /// </summary>
    public int Shards { get; set; }

    /// <summary><see cref="Shards"/>, or <see cref="AutoShards"/> of <see cref="BatchSize"/> when it is 0.</summary>
    public int EffectiveShards => Shards > 0 ? Shards : AutoShards(BatchSize);

    /// <summary>The seed of the shuffling order and the dropout masks.</summary>
    public ulong Seed { get; set; }

    /// <summary>Whether each epoch visits the training samples in a new seeded order.</summary>
    public bool Shuffle { get; set; } = true;

    /// <summary>The loss to minimize; it must match the model's last layer.</summary>
    public LossFunction Loss { get; set; } = LossFunction.CrossEntropy;

    /// <summary>When the scheduler (if any) advances.</summary>
    public SchedulerInterval SchedulerInterval { get; set; } = SchedulerInterval.Batch;

    /// <summary>A <c>Train Epoch: …</c> line every this many batches (as the PyTorch tutorial's <c>log_interval</c>); 0 for none.</summary>
    public int LogInterval { get; set; } = 10;

    /// <summary>Where the tutorial's log lines go (the <c>Train Epoch</c> and <c>[N] Test Loss</c> lines); null for silence.</summary>
    public TextWriter? Log { get; set; } = Console.Out;

    /// <summary>
    /// Where the progress display (percentage, speed, ETA) goes; null for none. When it is the console's error stream
    /// and that is a terminal, one line is redrawn in place; otherwise a line is written every 10% of an epoch.
    /// </summary>
    public TextWriter? Progress { get; set; } = Console.Error;

    /// <summary>The checkpoint written (atomically) after every epoch; null for none.</summary>
    public string? CheckpointPath { get; set; }

    /// <summary>Samples per chunk when evaluating (inference batches).</summary>
    public int EvaluationBatchSize { get; set; } = 250;

    internal void Validate()
    {
        if (Epochs < 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Must not be negative.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Must be at least 1.");
        if (Threads < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Must be at least 1.");
        if (Shards < 0) throw new ArgumentOutOfRangeException(nameof(Shards), Shards, "Must be at least 1 (or 0 for the automatic count).");
        if (LogInterval < 0) throw new ArgumentOutOfRangeException(nameof(LogInterval), LogInterval, "Must not be negative.");
        if (EvaluationBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(EvaluationBatchSize), EvaluationBatchSize, "Must be at least 1.");
    }
}

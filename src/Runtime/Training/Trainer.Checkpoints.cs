using System;
using System.IO;

namespace CnnGen.Training;

/// <summary>Checkpoints: saving the run's state and resuming from it.</summary>
public sealed partial class Trainer
{
    /// <summary>
    /// Writes a checkpoint (weights, optimizer state, completed epochs, step count, RNG state, scheduler position,
    /// history) atomically; <see cref="Fit"/> does this after every epoch when <see cref="TrainerOptions.CheckpointPath"/> is set.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    public void SaveCheckpoint(string path) => Checkpoint.Save(path, Model, Optimizer, CaptureState());

    internal Checkpoint CaptureState()
    {
        var rngState = new ulong[Rng.StateWords];
        _rng.GetState(rngState);
        return new Checkpoint
        {
            Epoch = CompletedEpochs,
            Step = Step,
            Seed = _seed,
            BatchSize = _batchSize,
            Shards = _shards,
            RngState = rngState,
            SchedulerStep = Scheduler?.LastStep,
            History = History.Epochs is { } h ? new System.Collections.Generic.List<EpochResult>(h) : Array.Empty<EpochResult>(),
        };
    }

    /// <summary>
    /// Resumes from a checkpoint: restores the weights, the optimizer state, the epoch and step counters, the RNG state,
    /// the scheduler position and the history; the next <see cref="Fit"/> continues with the following epoch and, with
    /// the same options, produces exactly the weights an uninterrupted run would have.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <returns>The checkpoint that was loaded.</returns>
    /// <exception cref="InvalidDataException">The checkpoint does not fit this model or optimizer, or its seed, batch size or shard count differ from the options (which would not continue the same run).</exception>
    public Checkpoint LoadCheckpoint(string path)
    {
        Checkpoint info = Checkpoint.ReadInfo(path);
        string name = Path.GetFileName(path);
        if (info.Seed != _seed || info.BatchSize != _batchSize || info.Shards != _shards)
            throw new InvalidDataException(
                $"{name} was written by a run with seed {info.Seed}, batch size {info.BatchSize} and {info.Shards} shards; this run has seed {_seed}, batch size {_batchSize} and {_shards} shards. Resume with the same settings (or start over).");
        if ((info.SchedulerStep is null) != (Scheduler is null))
            throw new InvalidDataException($"{name} was written by a run {(info.SchedulerStep is null ? "without" : "with")} a learning-rate scheduler, this one is {(Scheduler is null ? "without" : "with")}.");
        info = Checkpoint.Load(path, Model, Optimizer);
        _rng = Rng.FromState(info.RngState);
        CompletedEpochs = info.Epoch;
        Step = info.Step;
        if (Scheduler is not null && info.SchedulerStep is int s)
            Scheduler.LastStep = s; // the optimizer's learning rate itself is restored with its state
        History.Clear();
        foreach (EpochResult e in info.History)
            History.Add(e);
        return info;
    }
}

using System.Collections.Generic;
using CnnGen.Metrics;

namespace CnnGen.Training;

/// <summary>What one epoch achieved.</summary>
/// <param name="Epoch">The epoch number, from 1.</param>
/// <param name="TrainLoss">The mean training loss over the epoch's samples (dropout on, weights changing as it went).</param>
/// <param name="TestLoss">The mean loss on the evaluation set after the epoch (dropout off).</param>
/// <param name="TestAccuracy">The fraction of the evaluation set classified correctly, in [0, 1].</param>
/// <param name="LearningRate">The learning rate of the epoch's last step.</param>
/// <param name="Seconds">Wall-clock seconds of the epoch's training (evaluation excluded).</param>
/// <param name="EvaluationSeconds">Wall-clock seconds of the evaluation.</param>
public sealed record EpochResult(int Epoch, double TrainLoss, double TestLoss, double TestAccuracy, double LearningRate,
    double Seconds, double EvaluationSeconds)
{
    /// <summary>The evaluation's confusion matrix (rows: true labels); null for epochs restored from a checkpoint.</summary>
    public ConfusionMatrix? Confusion { get; init; }

    /// <summary>Whether this is the last epoch of the run.</summary>
    public bool IsLast { get; init; }

    /// <summary>The line printed after the epoch: <c>[3] Test Loss: 0.0412, Accuracy: 98.71%</c>.</summary>
    public string Line => TrainingLog.EpochLine(Epoch, TestLoss, TestAccuracy);
}

/// <summary>The per-epoch results of a training run so far (kept in checkpoints, so a resumed run has the whole curve).</summary>
public sealed class TrainingHistory
{
    private readonly List<EpochResult> _epochs = new();

    /// <summary>The epochs, in order.</summary>
    public IReadOnlyList<EpochResult> Epochs => _epochs;

    /// <summary>The last epoch, or null before the first.</summary>
    public EpochResult? Last => _epochs.Count == 0 ? null : _epochs[^1];

    internal void Add(EpochResult result) => _epochs.Add(result);

    internal void Clear() => _epochs.Clear();
}

using System;
using System.Globalization;

namespace CnnGen.Training;

/// <summary>The log lines of the PyTorch MNIST tutorial, and the progress text, formatted exactly.</summary>
public static class TrainingLog
{
    /// <summary>
    /// The tutorial's training line, <c>Train Epoch: 1 [12800/60000 (21%)]\tLoss: 0.345638</c>, as
    /// <c>'Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(epoch, batch_idx * len(data), len(dataset), 100. * batch_idx / len(loader), loss)</c>.
    /// </summary>
    /// <param name="epoch">The epoch, from 1.</param>
    /// <param name="batchIndex">The 0-based batch index within the epoch.</param>
    /// <param name="batchSize">The samples in this batch (<c>len(data)</c>).</param>
    /// <param name="datasetSize">The training set size.</param>
    /// <param name="batchesPerEpoch">Batches per epoch (<c>len(train_loader)</c>).</param>
    /// <param name="loss">The batch's mean loss.</param>
    /// <returns>The line, without a newline.</returns>
    public static string TrainLine(int epoch, int batchIndex, int batchSize, int datasetSize, int batchesPerEpoch, double loss)
    {
        double pct = 100.0 * batchIndex / batchesPerEpoch;
        return string.Create(CultureInfo.InvariantCulture,
            $"Train Epoch: {epoch} [{(long)batchIndex * batchSize}/{datasetSize} ({Math.Round(pct, MidpointRounding.ToEven):0}%)]\tLoss: {loss:F6}");
    }

    /// <summary>The line after each epoch, <c>[3] Test Loss: 0.0412, Accuracy: 98.71%</c> (accuracy given as a fraction).</summary>
    /// <param name="epoch">The epoch, from 1.</param>
    /// <param name="loss">The mean test loss.</param>
    /// <param name="accuracy">The test accuracy in [0, 1].</param>
    /// <returns>The line, without a newline.</returns>
    public static string EpochLine(int epoch, double loss, double accuracy) =>
        string.Create(CultureInfo.InvariantCulture, $"[{epoch}] Test Loss: {loss:F4}, Accuracy: {100 * accuracy:F2}%");

    /// <summary>A duration as <c>42s</c>, <c>3m07s</c> or <c>1h02m</c>.</summary>
    /// <param name="seconds">The duration in seconds.</param>
    /// <returns>The text.</returns>
    public static string Duration(double seconds)
    {
        if (double.IsNaN(seconds) || double.IsInfinity(seconds) || seconds < 0)
            return "?";
        long s = (long)Math.Round(seconds);
        if (s < 60) return string.Create(CultureInfo.InvariantCulture, $"{s}s");
        if (s < 3600) return string.Create(CultureInfo.InvariantCulture, $"{s / 60}m{s % 60:00}s");
        return string.Create(CultureInfo.InvariantCulture, $"{s / 3600}h{s / 60 % 60:00}m");
    }

    /// <summary>
    /// The progress text: <c>epoch 2/10  45% [#########-----------] 27136/60000  4120 img/s  loss 0.1234  ETA epoch 8s, run 1m12s</c>.
    /// </summary>
    /// <param name="epoch">The epoch in progress.</param>
    /// <param name="epochs">The last epoch of the run.</param>
    /// <param name="seen">Samples of this epoch done.</param>
    /// <param name="total">Samples per epoch.</param>
    /// <param name="samplesPerSecond">Training speed so far.</param>
    /// <param name="runningLoss">The mean loss of the epoch so far.</param>
    /// <param name="etaEpoch">Seconds until the epoch's training ends.</param>
    /// <param name="etaRun">Seconds until the run ends (evaluations included).</param>
    /// <returns>The text, without a newline.</returns>
    public static string ProgressLine(int epoch, int epochs, int seen, int total, double samplesPerSecond, double runningLoss,
        double etaEpoch, double etaRun)
    {
        const int Width = 20;
        double frac = total == 0 ? 1 : (double)seen / total;
        int filled = (int)Math.Clamp(Math.Floor(frac * Width), 0, Width);
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch}/{epochs} {100 * frac,3:0}% [{new string('#', filled)}{new string('-', Width - filled)}] {seen}/{total}  {samplesPerSecond:0} img/s  loss {runningLoss:F4}  ETA epoch {Duration(etaEpoch)}, run {Duration(etaRun)}");
    }
}

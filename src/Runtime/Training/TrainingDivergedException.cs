using System;

namespace CnnGen.Training;

/// <summary>Training stopped because the loss (or the gradient) became NaN or infinite.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="epoch">The epoch (from 1).</param>
    /// <param name="batch">The batch within the epoch (from 1).</param>
    /// <param name="loss">The offending loss value.</param>
    /// <param name="message">The full message.</param>
    public TrainingDivergedException(int epoch, int batch, double loss, string message)
        : base(message)
    {
        Epoch = epoch;
        Batch = batch;
        Loss = loss;
    }

    /// <summary>The epoch in which training diverged (from 1).</summary>
    public int Epoch { get; }

    /// <summary>The batch of that epoch at which it diverged (from 1).</summary>
    public int Batch { get; }

    /// <summary>The loss of that batch (NaN or infinite, or finite when the gradient was not).</summary>
    public double Loss { get; }
}

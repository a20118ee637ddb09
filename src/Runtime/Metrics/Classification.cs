using System;

namespace CnnGen.Metrics;

/// <summary>Batch helpers for classification outputs: arg-max predictions, correct counts, accuracy.</summary>
public static class Classification
{
    /// <summary>The index of the largest value (the first one on ties, as <c>torch.argmax</c> on CPU and NumPy do). NaN counts as largest.</summary>
    /// <param name="scores">One sample's logits or probabilities; must not be empty.</param>
    /// <returns>The predicted class.</returns>
    public static int ArgMax(ReadOnlySpan<float> scores)
    {
        if (scores.IsEmpty)
            throw new ArgumentException("Cannot take the arg-max of no scores.", nameof(scores));
        int best = 0;
        float max = scores[0];
        if (float.IsNaN(max))
            return 0;
        for (int i = 1; i < scores.Length; i++)
        {
            float v = scores[i];
            if (float.IsNaN(v))
                return i;
            if (v > max)
            {
                max = v;
                best = i;
            }
        }
        return best;
    }

    /// <summary>Arg-max of each row of a batch of scores.</summary>
    /// <param name="scores">batch x numClasses values, row-major.</param>
    /// <param name="numClasses">Values per row.</param>
    /// <param name="predictions">One prediction per row is written here.</param>
    public static void ArgMax(ReadOnlySpan<float> scores, int numClasses, Span<int> predictions)
    {
        int batch = Rows(scores.Length, numClasses);
        if (predictions.Length < batch)
            throw new ArgumentException($"{batch} rows need {batch} predictions.", nameof(predictions));
        for (int b = 0; b < batch; b++)
            predictions[b] = ArgMax(scores.Slice(b * numClasses, numClasses));
    }

    /// <summary>How many rows of <paramref name="scores"/> have their arg-max equal to the label (<c>(output.argmax(1) == target).sum()</c>).</summary>
    /// <param name="scores">batch x numClasses values, row-major.</param>
    /// <param name="numClasses">Values per row.</param>
    /// <param name="labels">One label per row.</param>
    /// <returns>The number of correct predictions.</returns>
    public static int CountCorrect(ReadOnlySpan<float> scores, int numClasses, ReadOnlySpan<int> labels)
    {
        int batch = Rows(scores.Length, numClasses);
        if (labels.Length != batch)
            throw new ArgumentException($"{batch} rows of scores but {labels.Length} labels.", nameof(labels));
        int correct = 0;
        for (int b = 0; b < batch; b++)
        {
            if (ArgMax(scores.Slice(b * numClasses, numClasses)) == labels[b])
                correct++;
        }
        return correct;
    }

    /// <summary>The fraction of predictions equal to their labels (sklearn's <c>accuracy_score</c>); 0 for no samples.</summary>
    /// <param name="predicted">Predicted classes.</param>
    /// <param name="labels">True classes, as many as <paramref name="predicted"/>.</param>
    /// <returns>A value in [0, 1].</returns>
    public static double Accuracy(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        if (predicted.Length != labels.Length)
            throw new ArgumentException($"{predicted.Length} predictions but {labels.Length} labels.", nameof(labels));
        if (predicted.IsEmpty)
            return 0;
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++)
        {
            if (predicted[i] == labels[i])
                correct++;
        }
        return (double)correct / predicted.Length;
    }

    /// <summary>The fraction of rows whose arg-max equals the label.</summary>
    /// <param name="scores">batch x numClasses values, row-major.</param>
    /// <param name="numClasses">Values per row.</param>
    /// <param name="labels">One label per row.</param>
    /// <returns>A value in [0, 1]; 0 for an empty batch.</returns>
    public static double Accuracy(ReadOnlySpan<float> scores, int numClasses, ReadOnlySpan<int> labels) =>
        labels.IsEmpty ? 0 : (double)CountCorrect(scores, numClasses, labels) / labels.Length;

    private static int Rows(int length, int numClasses)
    {
        if (numClasses <= 0)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "Must be positive.");
        if (length % numClasses != 0)
            throw new ArgumentException($"{length} scores are not a whole number of rows of {numClasses}.");
        return length / numClasses;
    }
}

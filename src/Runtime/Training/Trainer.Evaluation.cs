using System;
using System.Threading.Tasks;
using CnnGen.Metrics;

namespace CnnGen.Training;

/// <summary>The result of evaluating a model on a labeled set.</summary>
/// <param name="Loss">The mean loss per sample.</param>
/// <param name="Accuracy">The fraction classified correctly.</param>
/// <param name="Confusion">The confusion matrix (rows: true labels, columns: predictions).</param>
public sealed record EvaluationResult(double Loss, double Accuracy, ConfusionMatrix Confusion);

/// <summary>Evaluation: loss, accuracy and confusion matrix of a model on labeled data.</summary>
public sealed partial class Trainer
{
    /// <summary>
    /// Evaluates the model (inference mode, dropout off) on <paramref name="data"/>: mean loss, accuracy and confusion
    /// matrix. Parallel over fixed chunks, combined in chunk order, so the numbers do not depend on the thread count.
    /// </summary>
    /// <param name="data">The samples.</param>
    /// <returns>The result.</returns>
    public EvaluationResult Evaluate(LabeledData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckData(data, nameof(data));
        return Evaluate(Model, data, Options.Loss, _threads, Options.EvaluationBatchSize);
    }

    /// <summary>Evaluates any model on labeled data (see <see cref="Evaluate(LabeledData)"/>).</summary>
    /// <param name="model">The model.</param>
    /// <param name="data">The samples.</param>
    /// <param name="loss">The loss matching the model's output.</param>
    /// <param name="threads">Threads to use.</param>
    /// <param name="chunkSize">Samples per inference batch.</param>
    /// <returns>The result.</returns>
    public static EvaluationResult Evaluate(ICnnModel model, LabeledData data, LossFunction loss, int threads = 1, int chunkSize = 250)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        int classes = model.OutputSize;
        int chunks = (data.Count + chunkSize - 1) / chunkSize;
        var chunkLoss = new double[chunks];
        var predictions = new int[data.Count];
        int inSize = model.InputSize;
        void RunChunks(int first, int stride)
        {
            var output = new float[chunkSize * classes];
            for (int c = first; c < chunks; c += stride)
            {
                int start = c * chunkSize;
                int m = Math.Min(chunkSize, data.Count - start);
                model.Forward(data.Inputs.AsSpan(start * inSize, m * inSize), output, m);
                chunkLoss[c] = LossFunctions.Sum(loss, output, data.Labels.AsSpan(start, m), m, classes, Span<float>.Empty);
                Classification.ArgMax(output.AsSpan(0, m * classes), classes, predictions.AsSpan(start, m));
            }
        }
        int t = Math.Min(threads, Math.Max(chunks, 1));
        if (t <= 1)
            RunChunks(0, 1);
        else
            Parallel.For(0, t, new ParallelOptions { MaxDegreeOfParallelism = t }, w => RunChunks(w, t));
        double total = 0;
        foreach (double l in chunkLoss)
            total += l;
        var confusion = new ConfusionMatrix(data.ClassCount, data.ClassNames);
        confusion.Add(predictions, data.Labels);
        return new EvaluationResult(data.Count == 0 ? double.NaN : total / data.Count, confusion.Accuracy, confusion);
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace CnnGen.Metrics;

/// <summary>
/// Counts of (true label, predicted class) pairs, and the per-class and averaged scores derived from them with
/// scikit-learn's semantics: precision = TP / (TP + FP), recall = TP / (TP + FN),
/// F-beta = (1 + β²) TP / ((1 + β²) TP + β² FN + FP), each 0 when its denominator is 0 (<c>zero_division=0</c>);
/// macro and weighted averages run over the classes that occur as a label or a prediction (sklearn's default <c>labels</c>).
/// Rows are true labels, columns predictions, as in <c>sklearn.metrics.confusion_matrix</c>.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    /// <summary>Creates an empty matrix.</summary>
    /// <param name="numClasses">The number of classes; labels and predictions must be in [0, numClasses).</param>
    /// <param name="classNames">Optional names used by <see cref="ToTable"/> and <see cref="Report"/> when none are passed there.</param>
    public ConfusionMatrix(int numClasses, IReadOnlyList<string>? classNames = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        if (classNames is not null && classNames.Count != numClasses)
            throw new ArgumentException($"{classNames.Count} class names for {numClasses} classes.", nameof(classNames));
        NumClasses = numClasses;
        ClassNames = classNames;
        _counts = new long[checked(numClasses * numClasses)];
    }

    /// <summary>The number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>The default class names, or null for the class indices.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The number of samples with true label <paramref name="label"/> predicted as <paramref name="predicted"/>.</summary>
    /// <param name="label">The true class (row).</param>
    /// <param name="predicted">The predicted class (column).</param>
    public long this[int label, int predicted] => _counts[Index(label, predicted)];

    /// <summary>The number of samples counted.</summary>
    public long Total { get; private set; }

    /// <summary>The number of correct predictions (the diagonal).</summary>
    public long Correct { get; private set; }

    /// <summary>Correct / Total; 0 when empty.</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>Counts one sample.</summary>
    /// <param name="predicted">The predicted class.</param>
    /// <param name="label">The true class.</param>
    public void Add(int predicted, int label)
    {
        _counts[Index(label, predicted)]++;
        Total++;
        if (predicted == label)
            Correct++;
    }

    /// <summary>Counts a batch of samples.</summary>
    /// <param name="predicted">Predicted classes.</param>
    /// <param name="labels">True classes, as many as <paramref name="predicted"/>.</param>
    public void Add(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        if (predicted.Length != labels.Length)
            throw new ArgumentException($"{predicted.Length} predictions but {labels.Length} labels.", nameof(labels));
        for (int i = 0; i < predicted.Length; i++)
            Add(predicted[i], labels[i]);
    }

    /// <summary>Counts a batch given as scores (batch x NumClasses logits or probabilities), predicting each row's arg-max.</summary>
    /// <param name="scores">batch x NumClasses values, row-major.</param>
    /// <param name="labels">One true class per row.</param>
    public void AddScores(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels)
    {
        if (scores.Length != labels.Length * NumClasses)
            throw new ArgumentException($"{labels.Length} labels need {labels.Length * NumClasses} scores, got {scores.Length}.", nameof(scores));
        for (int i = 0; i < labels.Length; i++)
            Add(Classification.ArgMax(scores.Slice(i * NumClasses, NumClasses)), labels[i]);
    }

    /// <summary>Adds another matrix's counts (e.g. from another thread).</summary>
    /// <param name="other">A matrix with the same number of classes.</param>
    public void Merge(ConfusionMatrix other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.NumClasses != NumClasses)
            throw new ArgumentException($"Cannot merge a {other.NumClasses}-class matrix into a {NumClasses}-class one.", nameof(other));
        for (int i = 0; i < _counts.Length; i++)
            _counts[i] += other._counts[i];
        Total += other.Total;
        Correct += other.Correct;
    }

    /// <summary>Clears all counts.</summary>
    public void Reset()
    {
        Array.Clear(_counts);
        Total = 0;
        Correct = 0;
    }

    /// <summary>Samples of class <paramref name="c"/> predicted as <paramref name="c"/>.</summary>
    /// <param name="c">The class.</param>
    /// <returns>The count.</returns>
    public long TruePositives(int c) => this[c, c];

    /// <summary>Samples of other classes predicted as <paramref name="c"/> (column sum minus diagonal).</summary>
    /// <param name="c">The class.</param>
    /// <returns>The count.</returns>
    public long FalsePositives(int c) => Predicted(c) - TruePositives(c);

    /// <summary>Samples of class <paramref name="c"/> predicted as something else (row sum minus diagonal).</summary>
    /// <param name="c">The class.</param>
    /// <returns>The count.</returns>
    public long FalseNegatives(int c) => Support(c) - TruePositives(c);

    /// <summary>Samples whose true label is <paramref name="c"/> (the row sum).</summary>
    /// <param name="c">The class.</param>
    /// <returns>The count.</returns>
    public long Support(int c)
    {
        CheckClass(c);
        long s = 0;
        for (int p = 0; p < NumClasses; p++)
            s += _counts[c * NumClasses + p];
        return s;
    }

    /// <summary>Samples predicted as <paramref name="c"/> (the column sum).</summary>
    /// <param name="c">The class.</param>
    /// <returns>The count.</returns>
    public long Predicted(int c)
    {
        CheckClass(c);
        long s = 0;
        for (int t = 0; t < NumClasses; t++)
            s += _counts[t * NumClasses + c];
        return s;
    }

    /// <summary>TP / (TP + FP) for class <paramref name="c"/>; 0 when the class is never predicted.</summary>
    /// <param name="c">The class.</param>
    /// <returns>A value in [0, 1].</returns>
    public double Precision(int c) => Ratio(TruePositives(c), Predicted(c));

    /// <summary>TP / (TP + FN) for class <paramref name="c"/>; 0 when the class never occurs.</summary>
    /// <param name="c">The class.</param>
    /// <returns>A value in [0, 1].</returns>
    public double Recall(int c) => Ratio(TruePositives(c), Support(c));

    /// <summary>The harmonic mean of precision and recall for class <paramref name="c"/>; 0 when undefined.</summary>
    /// <param name="c">The class.</param>
    /// <returns>A value in [0, 1].</returns>
    public double F1(int c) => FBeta(c, 1.0);

    /// <summary>(1 + β²) TP / ((1 + β²) TP + β² FN + FP) for class <paramref name="c"/>; 0 when undefined.</summary>
    /// <param name="c">The class.</param>
    /// <param name="beta">The weight of recall relative to precision (β &gt; 1 favours recall); must be positive.</param>
    /// <returns>A value in [0, 1].</returns>
    public double FBeta(int c, double beta)
    {
        if (!(beta > 0) || double.IsInfinity(beta))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "Must be positive and finite.");
        double b2 = beta * beta;
        double tp = TruePositives(c);
        double denominator = (1 + b2) * tp + b2 * FalseNegatives(c) + FalsePositives(c);
        return denominator == 0 ? 0 : (1 + b2) * tp / denominator;
    }

    /// <summary>Whether class <paramref name="c"/> occurs as a label or a prediction (the classes sklearn averages over).</summary>
    /// <param name="c">The class.</param>
    /// <returns>True when it occurs.</returns>
    public bool IsPresent(int c) => Support(c) > 0 || Predicted(c) > 0;

    /// <summary>The unweighted mean of per-class precision over the present classes.</summary>
    public double MacroPrecision => Macro(Precision);

    /// <summary>The unweighted mean of per-class recall over the present classes.</summary>
    public double MacroRecall => Macro(Recall);

    /// <summary>The unweighted mean of per-class F1 over the present classes (sklearn <c>f1_score(average='macro')</c>).</summary>
    public double MacroF1 => Macro(F1);

    /// <summary>The unweighted mean of per-class F-beta over the present classes.</summary>
    /// <param name="beta">The weight of recall relative to precision.</param>
    /// <returns>A value in [0, 1].</returns>
    public double MacroFBeta(double beta) => Macro(c => FBeta(c, beta));

    /// <summary>The support-weighted mean of per-class precision (sklearn <c>average='weighted'</c>).</summary>
    public double WeightedPrecision => Weighted(Precision);

    /// <summary>The support-weighted mean of per-class recall.</summary>
    public double WeightedRecall => Weighted(Recall);

    /// <summary>The support-weighted mean of per-class F1.</summary>
    public double WeightedF1 => Weighted(F1);

    /// <summary>The support-weighted mean of per-class F-beta.</summary>
    /// <param name="beta">The weight of recall relative to precision.</param>
    /// <returns>A value in [0, 1].</returns>
    public double WeightedFBeta(double beta) => Weighted(c => FBeta(c, beta));

    /// <summary>
    /// The matrix as an aligned text table: rows are true labels, columns predictions, each headed by the class name.
    /// </summary>
    /// <param name="classNames">Names for the classes; defaults to <see cref="ClassNames"/>, then the indices.</param>
    /// <returns>The table, one line per class after a header line, lines ending in '\n'.</returns>
    public string ToTable(IReadOnlyList<string>? classNames = null)
    {
        IReadOnlyList<string> names = Names(classNames);
        const string corner = "true \\ pred";
        int labelWidth = corner.Length;
        int cellWidth = 1;
        for (int c = 0; c < NumClasses; c++)
        {
            labelWidth = Math.Max(labelWidth, names[c].Length);
            cellWidth = Math.Max(cellWidth, names[c].Length);
        }
        foreach (long v in _counts)
            cellWidth = Math.Max(cellWidth, v.ToString(CultureInfo.InvariantCulture).Length);

        var sb = new StringBuilder();
        sb.Append(corner.PadLeft(labelWidth));
        for (int p = 0; p < NumClasses; p++)
            sb.Append("  ").Append(names[p].PadLeft(cellWidth));
        sb.Append('\n');
        for (int t = 0; t < NumClasses; t++)
        {
            sb.Append(names[t].PadLeft(labelWidth));
            for (int p = 0; p < NumClasses; p++)
                sb.Append("  ").Append(this[t, p].ToString(CultureInfo.InvariantCulture).PadLeft(cellWidth));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// A per-class precision / recall / F1 / support report in the layout of sklearn's <c>classification_report</c>
    /// (present classes only; accuracy, macro and weighted averages at the end).
    /// </summary>
    /// <param name="classNames">Names for the classes; defaults to <see cref="ClassNames"/>, then the indices.</param>
    /// <param name="digits">Digits after the decimal point (sklearn's default is 2).</param>
    /// <returns>The report.</returns>
    public string Report(IReadOnlyList<string>? classNames = null, int digits = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(digits);
        IReadOnlyList<string> names = Names(classNames);
        const string lastHeading = "weighted avg";
        int width = Math.Max(lastHeading.Length, digits);
        for (int c = 0; c < NumClasses; c++)
        {
            if (IsPresent(c))
                width = Math.Max(width, names[c].Length);
        }
        string F(double v) => v.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture).PadLeft(9);
        string N(long v) => v.ToString(CultureInfo.InvariantCulture).PadLeft(9);

        var sb = new StringBuilder();
        sb.Append(new string(' ', width)).Append(' ');
        foreach (string h in new[] { "precision", "recall", "f1-score", "support" })
            sb.Append(' ').Append(h.PadLeft(9));
        sb.Append("\n\n");
        for (int c = 0; c < NumClasses; c++)
        {
            if (!IsPresent(c))
                continue;
            sb.Append(names[c].PadLeft(width)).Append(' ')
              .Append(' ').Append(F(Precision(c))).Append(' ').Append(F(Recall(c))).Append(' ').Append(F(F1(c)))
              .Append(' ').Append(N(Support(c))).Append('\n');
        }
        sb.Append('\n');
        sb.Append("accuracy".PadLeft(width)).Append(' ')
          .Append(' ').Append(new string(' ', 9)).Append(' ').Append(new string(' ', 9))
          .Append(' ').Append(F(Accuracy)).Append(' ').Append(N(Total)).Append('\n');
        sb.Append("macro avg".PadLeft(width)).Append(' ')
          .Append(' ').Append(F(MacroPrecision)).Append(' ').Append(F(MacroRecall)).Append(' ').Append(F(MacroF1))
          .Append(' ').Append(N(Total)).Append('\n');
        sb.Append(lastHeading.PadLeft(width)).Append(' ')
          .Append(' ').Append(F(WeightedPrecision)).Append(' ').Append(F(WeightedRecall)).Append(' ').Append(F(WeightedF1))
          .Append(' ').Append(N(Total)).Append('\n');
        return sb.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => ToTable();

    private double Macro(Func<int, double> metric)
    {
        double sum = 0;
        int n = 0;
        for (int c = 0; c < NumClasses; c++)
        {
            if (!IsPresent(c))
                continue;
            sum += metric(c);
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }

    private double Weighted(Func<int, double> metric)
    {
        double sum = 0;
        for (int c = 0; c < NumClasses; c++)
        {
            long support = Support(c);
            if (support > 0)
                sum += support * metric(c);
        }
        return Total == 0 ? 0 : sum / Total;
    }

    private static double Ratio(long numerator, long denominator) => denominator == 0 ? 0 : (double)numerator / denominator;

    private IReadOnlyList<string> Names(IReadOnlyList<string>? classNames)
    {
        IReadOnlyList<string>? names = classNames ?? ClassNames;
        if (names is null)
        {
            var indices = new string[NumClasses];
            for (int c = 0; c < NumClasses; c++)
                indices[c] = c.ToString(CultureInfo.InvariantCulture);
            return indices;
        }
        if (names.Count != NumClasses)
            throw new ArgumentException($"{names.Count} class names for {NumClasses} classes.", nameof(classNames));
        return names;
    }

    private int Index(int label, int predicted)
    {
        if ((uint)label >= (uint)NumClasses)
            throw new ArgumentOutOfRangeException(nameof(label), label, $"Labels must be in [0, {NumClasses}).");
        if ((uint)predicted >= (uint)NumClasses)
            throw new ArgumentOutOfRangeException(nameof(predicted), predicted, $"Predictions must be in [0, {NumClasses}).");
        return label * NumClasses + predicted;
    }

    private void CheckClass(int c)
    {
        if ((uint)c >= (uint)NumClasses)
            throw new ArgumentOutOfRangeException(nameof(c), c, $"Classes are in [0, {NumClasses}).");
    }
}

using System;
using System.Collections.Generic;
using CnnGen.Data;

namespace CnnGen.Training;

/// <summary>
/// Samples to train or evaluate on: inputs (NCHW floats, <see cref="SampleSize"/> per sample, sample after sample)
/// with one class label each. Subsets and splits copy, so the original stays as it was.
/// </summary>
public sealed class LabeledData
{
    /// <summary>Wraps arrays of samples (not copied).</summary>
    /// <param name="inputs">All inputs, <paramref name="sampleSize"/> floats per sample.</param>
    /// <param name="labels">One label per sample, each in [0, <paramref name="classNames"/>.Count).</param>
    /// <param name="sampleSize">Floats per sample.</param>
    /// <param name="classNames">The class names, indexed by label.</param>
    public LabeledData(float[] inputs, int[] labels, int sampleSize, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleSize);
        if ((long)labels.Length * sampleSize != inputs.Length)
            throw new ArgumentException($"{labels.Length} labels need {(long)labels.Length * sampleSize} input floats ({sampleSize} per sample), but there are {inputs.Length}.", nameof(inputs));
        if (classNames.Count == 0)
            throw new ArgumentException("At least one class is needed.", nameof(classNames));
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"Label of sample {i} is {labels[i]}, outside [0, {classNames.Count}).");
        }
        Inputs = inputs;
        Labels = labels;
        SampleSize = sampleSize;
        ClassNames = classNames;
    }

    /// <summary>All inputs, sample after sample.</summary>
    public float[] Inputs { get; }

    /// <summary>One label per sample.</summary>
    public int[] Labels { get; }

    /// <summary>Floats per sample.</summary>
    public int SampleSize { get; }

    /// <summary>The class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The number of classes.</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>The number of samples.</summary>
    public int Count => Labels.Length;

    /// <summary>Wraps an MNIST-layout data set (its arrays are shared, not copied).</summary>
    /// <param name="dataset">The data set.</param>
    /// <returns>The samples.</returns>
    public static LabeledData From(MnistDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return new LabeledData(dataset.Images, dataset.Labels, dataset.SampleSize, dataset.ClassNames);
    }

    /// <summary>A copy of the samples [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>).</summary>
    /// <param name="start">The first sample.</param>
    /// <param name="count">How many samples.</param>
    /// <returns>The subset.</returns>
    public LabeledData Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start > Count - count)
            throw new ArgumentOutOfRangeException(nameof(count), $"[{start}, {start}+{count}) is outside the {Count} samples.");
        return new LabeledData(
            Inputs.AsSpan(start * SampleSize, count * SampleSize).ToArray(),
            Labels.AsSpan(start, count).ToArray(), SampleSize, ClassNames);
    }

    /// <summary>The first <paramref name="count"/> samples (all of them when there are fewer).</summary>
    /// <param name="count">How many samples.</param>
    /// <returns>The subset.</returns>
    public LabeledData Take(int count) => count >= Count ? this : Slice(0, count);

    /// <summary>
    /// Splits off a hold-out set for validation: the last <paramref name="holdout"/> samples of a seeded permutation
    /// become the second set, the rest (in their original order) the first.
    /// </summary>
    /// <param name="holdout">How many samples to hold out.</param>
    /// <param name="seed">The permutation seed.</param>
    /// <returns>The training part and the held-out part.</returns>
    public (LabeledData Train, LabeledData Holdout) Split(int holdout, ulong seed)
    {
        if (holdout <= 0 || holdout >= Count)
            throw new ArgumentOutOfRangeException(nameof(holdout), holdout, $"Must be between 1 and {Count - 1}.");
        var order = new int[Count];
        for (int i = 0; i < order.Length; i++)
            order[i] = i;
        new Rng(seed).Shuffle(order.AsSpan());
        var isHeld = new bool[Count];
        for (int i = Count - holdout; i < Count; i++)
            isHeld[order[i]] = true;
        var trainIdx = new List<int>(Count - holdout);
        var heldIdx = new List<int>(holdout);
        for (int i = 0; i < Count; i++)
            (isHeld[i] ? heldIdx : trainIdx).Add(i);
        return (Gather(trainIdx), Gather(heldIdx));
    }

    private LabeledData Gather(List<int> indices)
    {
        var inputs = new float[indices.Count * SampleSize];
        var labels = new int[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            Inputs.AsSpan(indices[k] * SampleSize, SampleSize).CopyTo(inputs.AsSpan(k * SampleSize));
            labels[k] = Labels[indices[k]];
        }
        return new LabeledData(inputs, labels, SampleSize, ClassNames);
    }
}

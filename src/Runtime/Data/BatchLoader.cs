using System;

namespace CnnGen.Data;

/// <summary>
/// Serves mini-batches of (input, label) samples, like PyTorch's <c>DataLoader(dataset, batch_size, shuffle, drop_last)</c>:
/// each epoch visits every sample once, in an order shuffled from (seed, epoch) (so the same seed gives the same order,
/// and an epoch can be replayed after a restart), copying the batch into reusable buffers. No allocation per batch or epoch.
/// </summary>
/// <example>
/// One training step per batch, as README.md's "Training a model" shows in full (<c>model</c> a generated model,
/// <c>ws</c> its <c>CreateWorkspace(64)</c>, <c>logits</c>/<c>dLogits</c> 64 × 10 floats, <c>grads</c> its
/// <c>ParameterCount</c> floats, <c>adam</c> an <see cref="CnnGen.Optim.Adam"/>):
/// <code>
/// var loader = new BatchLoader(MnistDataset.Load("mnist", train: true), batchSize: 64, shuffle: true, seed: 1);
/// for (int epoch = 1; epoch &lt;= 10; epoch++)
///     foreach (Batch b in loader.Epoch(epoch))
///     {
///         model.ForwardTrain(ws, b.Inputs, logits, b.Count);
///         Loss.CrossEntropy(logits, b.Labels, b.Count, 10, dLogits);
///         Array.Clear(grads);
///         model.Backward(ws, dLogits, grads, Span&lt;float&gt;.Empty);
///         adam.Step(model.Parameters, grads);
///     }
/// </code>
/// The <see cref="CnnGen.Training.Trainer"/> runs this loop (data-parallel, with evaluation and checkpoints) for you.
/// </example>
public sealed class BatchLoader
{
    private readonly float[] _inputs;
    private readonly int[] _labels;
    private readonly int[] _order;
    private readonly float[] _batchInputs;
    private readonly int[] _batchLabels;
    private readonly Rng _rng = new(0UL);
    private int _cursor;

    /// <summary>Creates a loader over arrays of samples.</summary>
    /// <param name="inputs">All inputs, sample after sample, <paramref name="sampleSize"/> floats each.</param>
    /// <param name="labels">One label per sample.</param>
    /// <param name="sampleSize">Floats per sample (e.g. 1*28*28).</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="shuffle">Whether each epoch visits the samples in a new random order (else in index order).</param>
    /// <param name="seed">The shuffling seed.</param>
    /// <param name="dropLast">Whether to skip the last batch when it is smaller than <paramref name="batchSize"/>.</param>
    public BatchLoader(float[] inputs, int[] labels, int sampleSize, int batchSize, bool shuffle = true, ulong seed = 0, bool dropLast = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if ((long)labels.Length * sampleSize != inputs.Length)
            throw new ArgumentException($"{labels.Length} labels need {(long)labels.Length * sampleSize} input floats ({sampleSize} per sample), but there are {inputs.Length}.", nameof(inputs));
        _inputs = inputs;
        _labels = labels;
        SampleSize = sampleSize;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        _order = new int[labels.Length];
        _batchInputs = new float[checked(batchSize * sampleSize)];
        _batchLabels = new int[batchSize];
        StartEpoch(0);
    }

    /// <summary>Creates a loader over a data set.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="shuffle">Whether each epoch visits the samples in a new random order.</param>
    /// <param name="seed">The shuffling seed.</param>
    /// <param name="dropLast">Whether to skip a last, smaller batch.</param>
    public BatchLoader(MnistDataset dataset, int batchSize, bool shuffle = true, ulong seed = 0, bool dropLast = false)
        : this((dataset ?? throw new ArgumentNullException(nameof(dataset))).Images, dataset.Labels, dataset.SampleSize, batchSize, shuffle, seed, dropLast)
    {
    }

    /// <summary>The number of samples.</summary>
    public int Count => _labels.Length;

    /// <summary>Floats per sample.</summary>
    public int SampleSize { get; }

    /// <summary>Samples per full batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether epochs are shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>The shuffling seed.</summary>
    public ulong Seed { get; }

    /// <summary>Whether a last, smaller batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>The epoch in progress (set by <see cref="StartEpoch"/>).</summary>
    public int CurrentEpoch { get; private set; }

    /// <summary>Batches per epoch: ceil(Count / BatchSize), or floor with <see cref="DropLast"/> (as <c>len(DataLoader)</c>).</summary>
    public int BatchesPerEpoch => DropLast ? Count / BatchSize : (Count + BatchSize - 1) / BatchSize;

    /// <summary>The loader's input buffer (BatchSize * SampleSize floats), filled by <see cref="TryNextBatch(out int)"/>.</summary>
    public float[] InputBuffer => _batchInputs;

    /// <summary>The loader's label buffer (BatchSize ints), filled by <see cref="TryNextBatch(out int)"/>.</summary>
    public int[] LabelBuffer => _batchLabels;

    /// <summary>The sample order of the current epoch.</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>Starts epoch <paramref name="epoch"/>: its order depends only on (<see cref="Seed"/>, epoch).</summary>
    /// <param name="epoch">The epoch number (any value; typically 1, 2, ...).</param>
    public void StartEpoch(int epoch)
    {
        CurrentEpoch = epoch;
        _cursor = 0;
        for (int i = 0; i < _order.Length; i++)
            _order[i] = i;
        if (Shuffle)
        {
            _rng.Reseed(Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(uint)epoch + 0xD1B54A32D192ED03UL));
            _rng.Shuffle(_order.AsSpan());
        }
    }

    /// <summary>Fills <see cref="InputBuffer"/> and <see cref="LabelBuffer"/> with the next batch of the current epoch.</summary>
    /// <param name="count">The number of samples in the batch (BatchSize, or fewer for a last partial batch).</param>
    /// <returns>False when the epoch is over.</returns>
    public bool TryNextBatch(out int count) => TryNextBatch(_batchInputs, _batchLabels, out count);

    /// <summary>Fills caller-provided buffers with the next batch of the current epoch.</summary>
    /// <param name="inputs">At least BatchSize * SampleSize floats; the first count * SampleSize are written.</param>
    /// <param name="labels">At least BatchSize ints; the first count are written.</param>
    /// <param name="count">The number of samples in the batch.</param>
    /// <returns>False when the epoch is over.</returns>
    public bool TryNextBatch(Span<float> inputs, Span<int> labels, out int count)
    {
        if (inputs.Length < _batchInputs.Length || labels.Length < BatchSize)
            throw new ArgumentException($"Batch buffers need {_batchInputs.Length} input floats and {BatchSize} labels.");
        if (!TryNextBatchPosition(out int first, out count))
            return false;
        CopySamples(first, 0, count, inputs, labels);
        return true;
    }

    /// <summary>
    /// Takes the next batch of the current epoch without copying it: it is the <paramref name="count"/> samples at
    /// positions [<paramref name="first"/>, first + count) of <see cref="Order"/>, for <see cref="CopySamples"/>
    /// (which several threads may call at once for disjoint parts of the batch).
    /// </summary>
    internal bool TryNextBatchPosition(out int first, out int count)
    {
        first = _cursor;
        count = Math.Min(BatchSize, _order.Length - _cursor);
        if (count <= 0 || (DropLast && count < BatchSize))
        {
            count = 0;
            return false;
        }
        _cursor += count;
        return true;
    }

    /// <summary>
    /// Copies samples [<paramref name="lo"/>, <paramref name="hi"/>) of the batch that starts at position
    /// <paramref name="first"/> of <see cref="Order"/> to the same places of <paramref name="inputs"/> and
    /// <paramref name="labels"/> (sample b of the batch goes to inputs[b·SampleSize..] and labels[b]).
    /// </summary>
    internal void CopySamples(int first, int lo, int hi, Span<float> inputs, Span<int> labels)
    {
        int n = SampleSize;
        for (int b = lo; b < hi; b++)
        {
            int index = _order[first + b];
            _inputs.AsSpan(index * n, n).CopyTo(inputs.Slice(b * n, n));
            labels[b] = _labels[index];
        }
    }

    /// <summary>Starts epoch <paramref name="epoch"/> and enumerates its batches (allocation-free <c>foreach</c>).</summary>
    /// <param name="epoch">The epoch number.</param>
    /// <returns>The batches; each is valid until the next one is fetched.</returns>
    public EpochBatches Epoch(int epoch)
    {
        StartEpoch(epoch);
        return new EpochBatches(this);
    }

    /// <summary>The batches of one epoch, for <c>foreach</c>.</summary>
    public readonly struct EpochBatches
    {
        private readonly BatchLoader _loader;

        internal EpochBatches(BatchLoader loader) => _loader = loader;

        /// <summary>The enumerator.</summary>
        /// <returns>An enumerator over the epoch's batches.</returns>
        public Enumerator GetEnumerator() => new(_loader);

        /// <summary>Fetches batches from the loader.</summary>
        public struct Enumerator
        {
            private readonly BatchLoader _loader;
            private int _count;

            internal Enumerator(BatchLoader loader)
            {
                _loader = loader;
                _count = 0;
            }

            /// <summary>The current batch (views into the loader's buffers).</summary>
            public readonly Batch Current => new(_loader._batchInputs.AsMemory(0, _count * _loader.SampleSize), _loader._batchLabels.AsMemory(0, _count), _count);

            /// <summary>Fetches the next batch.</summary>
            /// <returns>False when the epoch is over.</returns>
            public bool MoveNext() => _loader.TryNextBatch(out _count);
        }
    }
}

/// <summary>One mini-batch: the first <see cref="Count"/> samples of the loader's buffers.</summary>
/// <param name="InputMemory">Count * SampleSize input floats.</param>
/// <param name="LabelMemory">Count labels.</param>
/// <param name="Count">The number of samples.</param>
public readonly record struct Batch(Memory<float> InputMemory, Memory<int> LabelMemory, int Count)
{
    /// <summary>The inputs, Count * SampleSize floats (NCHW).</summary>
    public Span<float> Inputs => InputMemory.Span;

    /// <summary>The labels.</summary>
    public Span<int> Labels => LabelMemory.Span;
}

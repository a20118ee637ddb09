using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Losses
{
    /// <summary>How a loss combines the per-sample (or per-element) losses of a batch.</summary>
    public enum Reduction
    {
        /// <summary>The mean over the batch (PyTorch's <c>reduction='mean'</c>, the default).</summary>
        Mean,

        /// <summary>The sum over the batch (PyTorch's <c>reduction='sum'</c>).</summary>
        Sum,
    }

    /// <summary>
    /// Loss functions over row-major <c>[batch, classes]</c> float tensors. Each returns the loss and writes the
    /// gradient of the loss with respect to the model output into a caller-owned span (no allocation); pass an empty
    /// span as the gradient to compute only the loss (for evaluation). Sums are accumulated in double precision.
    /// </summary>
    public static class Loss
    {
        /// <summary>The clipping epsilon Keras uses for probabilities (<c>keras.backend.epsilon()</c>).</summary>
        public const float KerasEpsilon = 1e-7f;

        private const int MaxStackClasses = 512;

        /// <summary>
        /// Cross entropy from raw logits, as PyTorch's <c>F.cross_entropy(logits, labels, reduction, label_smoothing)</c>
        /// (1.13 semantics): a numerically stable fused log-softmax followed by the negative log-likelihood, with the
        /// target distribution <c>(1 - labelSmoothing) * onehot(label) + labelSmoothing / classes</c>.
        /// The gradient is <c>softmax(logits) - target</c>, divided by <paramref name="batch"/> for <see cref="Reduction.Mean"/>.
        /// </summary>
        /// <param name="logits">Model output, <c>[batch, classes]</c> row-major.</param>
        /// <param name="labels">Class index of each sample, in <c>[0, classes)</c>.</param>
        /// <param name="batch">Number of samples.</param>
        /// <param name="classes">Number of classes.</param>
        /// <param name="grad">Receives d loss / d logits (<c>batch * classes</c>), or empty to skip the gradient.</param>
        /// <param name="reduction">Mean (default) or sum over the batch.</param>
        /// <param name="labelSmoothing">Label smoothing in <c>[0, 1]</c> (PyTorch's <c>label_smoothing</c>).</param>
        /// <returns>The loss.</returns>
        public static float CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int batch, int classes,
            Span<float> grad, Reduction reduction = Reduction.Mean, float labelSmoothing = 0f)
        {
            Validate(logits.Length, labels, batch, classes, grad.Length, nameof(logits));
            if (!(labelSmoothing >= 0f && labelSmoothing <= 1f))
                throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must be in [0, 1].");

            double eps = labelSmoothing;
            double onTarget = 1.0 - eps;        // weight of the label's -log p
            double uniform = eps / classes;     // weight of every class's -log p
            double scale = reduction == Reduction.Mean ? 1.0 / batch : 1.0;
            bool withGrad = !grad.IsEmpty;
            double total = 0;
            // exp(x - max) of one row, kept for the gradient; very wide rows recompute it instead (no heap allocation)
            Span<double> exps = withGrad && classes <= MaxStackClasses ? stackalloc double[classes] : default;

            for (int b = 0; b < batch; b++)
            {
                ReadOnlySpan<float> row = logits.Slice(b * classes, classes);
                int label = labels[b];
                float max = Max(row);
                double sumExp = 0;
                for (int c = 0; c < classes; c++)
                {
                    double e = Math.Exp((double)row[c] - max);
                    if (!exps.IsEmpty)
                        exps[c] = e;
                    sumExp += e;
                }
                double logSumExp = max + Math.Log(sumExp);

                // -log p[c] = logSumExp - x[c]
                double loss = onTarget * (logSumExp - row[label]);
                if (eps != 0)
                {
                    double sumX = 0;
                    for (int c = 0; c < classes; c++)
                        sumX += row[c];
                    loss += uniform * (classes * logSumExp - sumX);
                }
                total += loss;

                if (withGrad)
                {
                    Span<float> g = grad.Slice(b * classes, classes);
                    double inv = 1.0 / sumExp;
                    for (int c = 0; c < classes; c++)
                    {
                        double p = (exps.IsEmpty ? Math.Exp((double)row[c] - max) : exps[c]) * inv;
                        double t = uniform + (c == label ? onTarget : 0.0);
                        g[c] = (float)((p - t) * scale);
                    }
                }
            }
            return (float)(total * scale);
        }

        /// <summary>
        /// Negative log-likelihood for models that end in <c>LogSoftmax</c>, as PyTorch's
        /// <c>F.nll_loss(logProbs, labels, reduction)</c>: <c>-logProbs[b, label[b]]</c>, mean or sum over the batch.
        /// The gradient is <c>-1</c> (or <c>-1 / batch</c> for mean) at each label and zero elsewhere.
        /// </summary>
        /// <param name="logProbs">Log-probabilities, <c>[batch, classes]</c> row-major.</param>
        /// <param name="labels">Class index of each sample, in <c>[0, classes)</c>.</param>
        /// <param name="batch">Number of samples.</param>
        /// <param name="classes">Number of classes.</param>
        /// <param name="grad">Receives d loss / d logProbs (<c>batch * classes</c>), or empty to skip the gradient.</param>
        /// <param name="reduction">Mean (default) or sum over the batch.</param>
        /// <returns>The loss.</returns>
        public static float NllLoss(ReadOnlySpan<float> logProbs, ReadOnlySpan<int> labels, int batch, int classes,
            Span<float> grad, Reduction reduction = Reduction.Mean)
        {
            Validate(logProbs.Length, labels, batch, classes, grad.Length, nameof(logProbs));
            double scale = reduction == Reduction.Mean ? 1.0 / batch : 1.0;
            double total = 0;
            for (int b = 0; b < batch; b++)
                total -= logProbs[b * classes + labels[b]];
            if (!grad.IsEmpty)
            {
                grad.Slice(0, batch * classes).Clear();
                float g = (float)-scale;
                for (int b = 0; b < batch; b++)
                    grad[b * classes + labels[b]] = g;
            }
            return (float)(total * scale);
        }

        /// <summary>
        /// Keras' sparse categorical cross entropy for models that end in <c>Softmax</c> (<c>from_logits=False</c>):
        /// the probabilities are clipped to <c>[epsilon, 1 - epsilon]</c> (epsilon = <see cref="KerasEpsilon"/>), the
        /// loss is <c>-log p[b, label[b]]</c>, mean or sum over the batch. The gradient is with respect to the
        /// probabilities: <c>-1 / clip(p)</c> at the label (divided by <paramref name="batch"/> for mean) where p is inside
        /// the clipping range, zero where the clip is active and at every other class.
        /// (Keras' TensorFlow backend also renormalizes the clipped row, <c>-log(clip(p)[label] / sum(clip(p)))</c>; for
        /// softmax outputs the sum is 1 up to the clipping, so the losses agree to about 1e-6, and the extra gradient
        /// term is the same on every class, which the softmax backward pass cancels.)
        /// </summary>
        /// <param name="probs">Probabilities, <c>[batch, classes]</c> row-major.</param>
        /// <param name="labels">Class index of each sample, in <c>[0, classes)</c>.</param>
        /// <param name="batch">Number of samples.</param>
        /// <param name="classes">Number of classes.</param>
        /// <param name="grad">Receives d loss / d probs (<c>batch * classes</c>), or empty to skip the gradient.</param>
        /// <param name="reduction">Mean (default) or sum over the batch.</param>
        /// <returns>The loss.</returns>
        public static float SparseCategoricalCrossEntropy(ReadOnlySpan<float> probs, ReadOnlySpan<int> labels, int batch,
            int classes, Span<float> grad, Reduction reduction = Reduction.Mean)
        {
            Validate(probs.Length, labels, batch, classes, grad.Length, nameof(probs));
            const float lo = KerasEpsilon;
            const float hi = 1f - KerasEpsilon;
            double scale = reduction == Reduction.Mean ? 1.0 / batch : 1.0;
            bool withGrad = !grad.IsEmpty;
            if (withGrad)
                grad.Slice(0, batch * classes).Clear();
            double total = 0;
            for (int b = 0; b < batch; b++)
            {
                int i = b * classes + labels[b];
                float p = probs[i];
                float clipped = Math.Clamp(p, lo, hi); // NaN stays NaN
                total -= Math.Log(clipped);
                if (withGrad && p >= lo && p <= hi)     // the clip passes no gradient where it is active
                    grad[i] = (float)(-scale / clipped);
            }
            return (float)(total * scale);
        }

        /// <summary>
        /// Mean squared error, as PyTorch's <c>F.mse_loss(pred, target, reduction)</c>: the mean (over all elements, not
        /// just the batch) or the sum of <c>(pred - target)^2</c>. The gradient is <c>2 (pred - target)</c>, divided by the
        /// element count for <see cref="Reduction.Mean"/>.
        /// </summary>
        /// <param name="pred">Model output.</param>
        /// <param name="target">Target values, same length as <paramref name="pred"/>.</param>
        /// <param name="grad">Receives d loss / d pred (same length), or empty to skip the gradient.</param>
        /// <param name="reduction">Mean (default) or sum.</param>
        /// <returns>The loss.</returns>
        public static float Mse(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, Span<float> grad,
            Reduction reduction = Reduction.Mean)
        {
            int n = pred.Length;
            if (target.Length != n)
                throw new ArgumentException($"target has {target.Length} elements, but pred has {n}.", nameof(target));
            if (!grad.IsEmpty && grad.Length < n)
                throw new ArgumentException($"grad has {grad.Length} elements, but needs {n}.", nameof(grad));
            if (n == 0)
                return reduction == Reduction.Mean ? float.NaN : 0f; // as torch: mean of nothing is nan

            double scale = reduction == Reduction.Mean ? 1.0 / n : 1.0;
            float gscale = (float)(2.0 * scale);
            bool withGrad = !grad.IsEmpty;
            ref float p = ref MemoryMarshal.GetReference(pred);
            ref float t = ref MemoryMarshal.GetReference(target);
            ref float g = ref MemoryMarshal.GetReference(grad);
            double total = 0;
            int i = 0;
            if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
            {
                int w = Vector<float>.Count;
                var vg = new Vector<float>(gscale);
                // float partial sums per lane, flushed to double every block to keep float32 error small
                const int Block = 64;
                while (i <= n - w)
                {
                    Vector<float> acc = Vector<float>.Zero;
                    int end = Math.Min(n - w, i + Block * w);
                    for (; i <= end; i += w)
                    {
                        Vector<float> d = Vector.LoadUnsafe(ref p, (nuint)i) - Vector.LoadUnsafe(ref t, (nuint)i);
                        acc += d * d;
                        if (withGrad)
                            Vector.StoreUnsafe(d * vg, ref g, (nuint)i);
                    }
                    for (int k = 0; k < w; k++)
                        total += acc[k];
                }
            }
            for (; i < n; i++)
            {
                float d = Unsafe.Add(ref p, i) - Unsafe.Add(ref t, i);
                total += (double)d * d;
                if (withGrad)
                    Unsafe.Add(ref g, i) = d * gscale;
            }
            return (float)(total * scale);
        }

        private static float Max(ReadOnlySpan<float> row)
        {
            float m = row[0];
            for (int c = 1; c < row.Length; c++)
            {
                float v = row[c];
                if (v > m || float.IsNaN(v))
                    m = v;
            }
            return m;
        }

        private static void Validate(int inputLength, ReadOnlySpan<int> labels, int batch, int classes, int gradLength, string inputName)
        {
            if (batch <= 0)
                throw new ArgumentOutOfRangeException(nameof(batch), batch, "Batch size must be positive.");
            if (classes <= 0)
                throw new ArgumentOutOfRangeException(nameof(classes), classes, "Class count must be positive.");
            long need = (long)batch * classes;
            if (inputLength < need)
                throw new ArgumentException($"{inputName} has {inputLength} elements, but [batch={batch}, classes={classes}] needs {need}.", inputName);
            if (labels.Length < batch)
                throw new ArgumentException($"labels has {labels.Length} elements, but batch is {batch}.", nameof(labels));
            if (gradLength != 0 && gradLength < need)
                throw new ArgumentException($"grad has {gradLength} elements, but [batch={batch}, classes={classes}] needs {need}.", "grad");
            for (int b = 0; b < batch; b++)
            {
                if ((uint)labels[b] >= (uint)classes)
                    throw new ArgumentOutOfRangeException(nameof(labels), labels[b], $"Label of sample {b} is {labels[b]}, outside [0, {classes}).");
            }
        }
    }
}

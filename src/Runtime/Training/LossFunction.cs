using System;
using CnnGen.Losses;

namespace CnnGen.Training;

/// <summary>The loss a <see cref="Trainer"/> minimizes, chosen by what the model's last layer outputs.</summary>
public enum LossFunction
{
    /// <summary>Raw logits (no final activation): <see cref="Loss.CrossEntropy"/> (PyTorch's <c>F.cross_entropy</c>).</summary>
    CrossEntropy,

    /// <summary>Log-probabilities (a final <c>LogSoftmax</c>): <see cref="Loss.NllLoss"/> (PyTorch's <c>F.nll_loss</c>).</summary>
    NllLoss,

    /// <summary>Probabilities (a final <c>Softmax</c>): <see cref="Loss.SparseCategoricalCrossEntropy"/> (Keras' loss of that name).</summary>
    SparseCategoricalCrossEntropy,
}

internal static class LossFunctions
{
    /// <summary>The summed loss of <paramref name="batch"/> samples; the gradient (when wanted) is that of the sum.</summary>
    public static double Sum(LossFunction kind, ReadOnlySpan<float> output, ReadOnlySpan<int> labels, int batch, int classes, Span<float> grad) => kind switch
    {
        LossFunction.CrossEntropy => Loss.CrossEntropy(output, labels, batch, classes, grad, Reduction.Sum),
        LossFunction.NllLoss => Loss.NllLoss(output, labels, batch, classes, grad, Reduction.Sum),
        LossFunction.SparseCategoricalCrossEntropy => Loss.SparseCategoricalCrossEntropy(output, labels, batch, classes, grad, Reduction.Sum),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown loss function."),
    };
}

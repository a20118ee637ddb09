using System;
using System.Diagnostics;
using CnnGen.Losses;
using CnnGen.Optim;
using CnnGen.Training;

namespace CnnGen.Samples.ResNet
{
    /// <summary>
    /// A short training run of any 10-class model on real images (Fashion-MNIST or MNIST, 1×28×28): <paramref name="steps"/>
    /// steps of Adam (lr 2e-3) on mini-batches of 32 samples drawn at random from the training set, cross-entropy; the mean
    /// loss of every 20 steps is logged; then the accuracy in inference mode (batch norm with its running statistics,
    /// folded into the convolutions) on the first <paramref name="testSamples"/> test samples.
    /// </summary>
    public static class ImageTraining
    {
        public const int Batch = 32, Window = 20;

        public static (float First, float Final, double Accuracy) Run(ICnnModel model, LabeledData train, LabeledData test, int steps,
            System.IO.TextWriter? log, int testSamples = 1000, int seed = 1)
        {
            if (train.SampleSize != model.InputSize || test.SampleSize != model.InputSize)
                throw new ArgumentException($"the model takes {model.InputSize} floats per sample, the data has {train.SampleSize}");
            int classes = model.OutputSize;
            var rng = new Random(seed);
            var ws = model.CreateWorkspace(Batch, (ulong)seed);
            var adam = new Adam(model.ParameterCount, lr: 2e-3f);
            var x = new float[Batch * model.InputSize];
            var labels = new int[Batch];
            var logits = new float[Batch * classes];
            var dLogits = new float[logits.Length];
            var grads = new float[model.ParameterCount];
            float first = float.NaN, last = float.NaN, window = 0;
            var sw = Stopwatch.StartNew();
            for (int step = 1; step <= steps; step++)
            {
                for (int i = 0; i < Batch; i++)
                {
                    int k = rng.Next(train.Count);
                    labels[i] = train.Labels[k];
                    Array.Copy(train.Inputs, (long)k * model.InputSize, x, (long)i * model.InputSize, model.InputSize);
                }
                model.ForwardTrain(ws, x, logits, Batch);
                float loss = Loss.CrossEntropy(logits, labels, Batch, classes, dLogits);
                Array.Clear(grads);
                model.Backward(ws, dLogits, grads, Span<float>.Empty);
                adam.Step(model.Parameters, grads);
                window += loss;
                if (step % Window == 0)
                {
                    last = window / Window;
                    if (float.IsNaN(first)) first = last;
                    log?.WriteLine($"step {step,4}: mean loss of the last {Window} steps {last:F4} ({sw.Elapsed.TotalSeconds:F1} s)");
                    window = 0;
                }
            }

            int n = Math.Min(testSamples, test.Count), correct = 0;
            var outputs = new float[n * classes];
            model.Forward(test.Inputs.AsSpan(0, n * model.InputSize), outputs, n);
            for (int i = 0; i < n; i++)
            {
                int arg = 0;
                for (int c = 1; c < classes; c++) if (outputs[i * classes + c] > outputs[i * classes + arg]) arg = c;
                correct += arg == test.Labels[i] ? 1 : 0;
            }
            return (first, last, (double)correct / n);
        }
    }
}

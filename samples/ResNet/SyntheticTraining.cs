using System;
using System.Diagnostics;
using CnnGen.Losses;
using CnnGen.Optim;

namespace CnnGen.Samples.ResNet
{
    /// <summary>
    /// Trains <see cref="CifarResNet"/> on synthetic data: each of 10 classes is a fixed random 3×32×32 pattern, a
    /// sample is its class's pattern plus Gaussian noise (σ = 1.5). Adam 1e-3, batch 32, cross-entropy.
    /// </summary>
    public static class SyntheticTraining
    {
        public const int Classes = 10, Batch = 32;

        public static (float Final, float First, double Accuracy) Run(int steps, System.IO.TextWriter? log, int seed = 1)
        {
            var rng = new Random(seed);
            var patterns = new float[Classes][];
            for (int c = 0; c < Classes; c++)
            {
                patterns[c] = new float[CifarResNet.InputSize];
                for (int i = 0; i < patterns[c].Length; i++) patterns[c][i] = (float)Gaussian(rng);
            }
            var model = new CifarResNet(seed);
            var ws = model.CreateWorkspace(Batch);
            var adam = new Adam(CifarResNet.ParameterCount, lr: 1e-3f);
            var x = new float[Batch * CifarResNet.InputSize];
            var labels = new int[Batch];
            var logits = new float[Batch * Classes];
            var dLogits = new float[logits.Length];
            var grads = new float[CifarResNet.ParameterCount];
            float first = 0, window = 0;
            const int Window = 20;
            var sw = Stopwatch.StartNew();
            for (int step = 1; step <= steps; step++)
            {
                Fill(x, labels, patterns, rng);
                model.ForwardTrain(ws, x, logits, Batch);
                float loss = Loss.CrossEntropy(logits, labels, Batch, Classes, dLogits);
                Array.Clear(grads);
                model.Backward(ws, dLogits, grads, Span<float>.Empty);
                adam.Step(model.Parameters, grads);
                window += loss;
                if (step % Window == 0)
                {
                    float mean = window / Window;
                    if (first == 0) first = mean;
                    log?.WriteLine($"step {step,4}: mean loss of the last {Window} steps {mean:F4} ({sw.Elapsed.TotalSeconds:F1} s)");
                    window = 0;
                }
            }
            float final = 0;
            // The last window's mean (or the running sum when steps is not a multiple of the window).
            final = steps % Window == 0 ? LastMean(model, ws, patterns, rng) : window / (steps % Window);
            int correct = 0, total = 0;
            var outputs = new float[Batch * Classes];
            for (int b = 0; b < 4; b++)
            {
                Fill(x, labels, patterns, rng);
                model.Forward(x, outputs, Batch);
                for (int i = 0; i < Batch; i++)
                {
                    int arg = 0;
                    for (int c = 1; c < Classes; c++) if (outputs[i * Classes + c] > outputs[i * Classes + arg]) arg = c;
                    correct += arg == labels[i] ? 1 : 0;
                    total++;
                }
            }
            return (final, first, (double)correct / total);
        }

        /// <summary>The training-mode loss on one fresh batch (no update).</summary>
        private static float LastMean(CifarResNet model, CnnGen.TrainingWorkspace ws, float[][] patterns, Random rng)
        {
            var x = new float[Batch * CifarResNet.InputSize];
            var labels = new int[Batch];
            var logits = new float[Batch * Classes];
            bool update = ws.UpdateBatchNormStatistics;
            ws.UpdateBatchNormStatistics = false;
            Fill(x, labels, patterns, rng);
            model.ForwardTrain(ws, x, logits, Batch);
            ws.UpdateBatchNormStatistics = update;
            return Loss.CrossEntropy(logits, labels, Batch, Classes, Span<float>.Empty);
        }

        private static void Fill(float[] x, int[] labels, float[][] patterns, Random rng)
        {
            for (int i = 0; i < labels.Length; i++)
            {
                int c = rng.Next(Classes);
                labels[i] = c;
                var dst = x.AsSpan(i * CifarResNet.InputSize, CifarResNet.InputSize);
                for (int j = 0; j < dst.Length; j++) dst[j] = patterns[c][j] + 1.5f * (float)Gaussian(rng);
            }
        }

        private static double Gaussian(Random rng) =>
            Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
    }
}

using System;
using CnnGen.Optim;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    /// <summary>
    /// <see cref="KerasAdam"/> against a naive float64 transcription of keras.optimizers.Adam's update
    /// (Keras 3 / TF 2 <c>update_step</c>: <c>alpha = lr·sqrt(1-β2^t)/(1-β1^t)</c>, <c>m += (g-m)(1-β1)</c>,
    /// <c>v += (g²-v)(1-β2)</c>, <c>p -= alpha·m/(sqrt(v)+eps)</c>; with amsgrad <c>v̂ = max(v̂, v)</c> replaces v).
    /// </summary>
    public sealed class KerasAdamTests
    {
        private const int N = 1037; // vector body and scalar tail

        private static double[] Reference(float[] p0, Func<int, float[]> grads, int steps, double lr, double b1, double b2, double eps, bool amsgrad)
        {
            var p = Array.ConvertAll(p0, x => (double)x);
            var m = new double[p.Length];
            var v = new double[p.Length];
            var vhat = new double[p.Length];
            for (int t = 1; t <= steps; t++)
            {
                float[] g = grads(t);
                double alpha = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
                for (int i = 0; i < p.Length; i++)
                {
                    m[i] += (g[i] - m[i]) * (1 - b1);
                    v[i] += ((double)g[i] * g[i] - v[i]) * (1 - b2);
                    double denomV = v[i];
                    if (amsgrad)
                    {
                        vhat[i] = Math.Max(vhat[i], v[i]);
                        denomV = vhat[i];
                    }
                    p[i] -= alpha * m[i] / (Math.Sqrt(denomV) + eps);
                }
            }
            return p;
        }

        private static float[] Values(int seed, float scale)
        {
            var rng = new Random(seed);
            var a = new float[N];
            for (int i = 0; i < N; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
            return a;
        }

        [Theory]
        [InlineData(1e-2f, false)] // ordinary gradients
        [InlineData(1e-6f, false)] // gradients near epsilon: where Keras' and PyTorch's epsilon placements differ most
        [InlineData(1e-6f, true)]
        public void Matches_keras_update_rule(float gradScale, bool amsgrad)
        {
            const int steps = 40;
            float[] p0 = Values(1, 1f);
            Func<int, float[]> grads = t => Values(100 + t, gradScale * (t % 3 == 0 ? 0.25f : 1f));
            var opt = new KerasAdam(N, lr: 1e-3f, amsgrad: amsgrad);
            Assert.Equal(1e-7f, opt.Epsilon);
            Assert.Equal("KerasAdam", opt.Kind);
            float[] p = (float[])p0.Clone();
            for (int t = 1; t <= steps; t++)
                opt.Step(p, grads(t));

            double[] expected = Reference(p0, grads, steps, 1e-3f, 0.9f, 0.999f, 1e-7f, amsgrad);
            double maxMove = 0, maxErr = 0;
            for (int i = 0; i < N; i++)
            {
                maxMove = Math.Max(maxMove, Math.Abs(expected[i] - p0[i]));
                maxErr = Math.Max(maxErr, Math.Abs(p[i] - expected[i]));
            }
            Assert.True(maxMove > 1e-3, $"the parameters barely moved ({maxMove}): the test would check nothing");
            // float32 parameters near 1 carry ~6e-8 rounding per step
            Assert.True(maxErr < 2e-6, $"max |p - keras| = {maxErr} (moved up to {maxMove})");

            if (gradScale < 1e-4f)
            {
                // PyTorch's Adam with the same epsilon is measurably different here, so the comparison above can fail.
                var torch = new Adam(N, lr: 1e-3f, eps: 1e-7f, amsgrad: amsgrad);
                float[] q = (float[])p0.Clone();
                for (int t = 1; t <= steps; t++)
                    torch.Step(q, grads(t));
                double diff = 0;
                for (int i = 0; i < N; i++) diff = Math.Max(diff, Math.Abs(q[i] - expected[i]));
                Assert.True(diff > 100 * maxErr && diff > 1e-5, $"torch-style epsilon differs by only {diff}");
            }
        }

        [Fact]
        public void Rejects_what_Adam_rejects()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new KerasAdam(3, eps: -1f));
            Assert.Throws<ArgumentOutOfRangeException>(() => new KerasAdam(3, beta1: 1f));
            Assert.Throws<ArgumentOutOfRangeException>(() => new KerasAdam(3, beta2: -0.1f));
        }
    }
}

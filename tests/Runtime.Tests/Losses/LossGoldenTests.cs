using System;
using System.Text.Json;
using CnnGen.Losses;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests
{
    /// <summary>
    /// Losses and their gradients against PyTorch 1.13 (Fixtures/losses/losses.json, made by
    /// tools/golden/make_optim_loss_golden.py). Expected values come from the PyTorch call named in each case's
    /// "call" field, gradients from torch autograd (loss.backward()). Tolerance: |diff| &lt;= 1e-5 * |expected| + 1e-8.
    /// </summary>
    public sealed class LossGoldenTests
    {
        private const double Rtol = 1e-5;
        private const double Atol = 1e-8;
        private readonly ITestOutputHelper _out;

        public LossGoldenTests(ITestOutputHelper output) => _out = output;

        // F.cross_entropy(x, y, reduction='mean'|'sum', label_smoothing=0|0.1|0.25), grads from autograd
        [Theory]
        [InlineData("ce_mean")]
        [InlineData("ce_sum")]
        [InlineData("ce_mean_ls0.1")]
        [InlineData("ce_sum_ls0.1")]
        [InlineData("ce_mean_large_logits")]
        [InlineData("ce_mean_ls0.25_large_logits")]
        // F.nll_loss(log_softmax(z), y, reduction='mean'|'sum')
        [InlineData("nll_mean")]
        [InlineData("nll_sum")]
        // -torch.log(torch.clamp(p, 1e-7, 1 - 1e-7).gather(1, y[:, None])).mean()|.sum()
        [InlineData("scce_mean")]
        [InlineData("scce_sum_clipped")]
        [InlineData("scce_mean_clipped")]
        // F.mse_loss(x, t, reduction='mean'|'sum')
        [InlineData("mse_mean")]
        [InlineData("mse_sum")]
        [InlineData("mse_mean_37")]
        public void MatchesPyTorch(string name)
        {
            using JsonDocument doc = GoldenFixture.Load("losses", "losses.json");
            JsonElement c = GoldenFixture.Case(doc, name);
            string kind = c.GetProperty("kind").GetString()!;
            int batch = c.GetProperty("batch").GetInt32();
            int classes = c.GetProperty("classes").GetInt32();
            Reduction reduction = c.GetProperty("reduction").GetString() == "sum" ? Reduction.Sum : Reduction.Mean;
            float smoothing = (float)c.GetProperty("labelSmoothing").GetDouble();
            float[] input = GoldenFixture.Floats(c.GetProperty("input"));
            float expectedLoss = (float)c.GetProperty("loss").GetDouble();
            float[] expectedGrad = GoldenFixture.Floats(c.GetProperty("grad"));
            var grad = new float[input.Length];
            grad.AsSpan().Fill(float.NaN); // every element must be written

            float loss;
            if (kind == "Mse")
            {
                float[] target = GoldenFixture.Floats(c.GetProperty("target"));
                loss = Loss.Mse(input, target, grad, reduction);
            }
            else
            {
                int[] labels = GoldenFixture.Ints(c.GetProperty("labels"));
                loss = kind switch
                {
                    "CrossEntropy" => Loss.CrossEntropy(input, labels, batch, classes, grad, reduction, smoothing),
                    "NllLoss" => Loss.NllLoss(input, labels, batch, classes, grad, reduction),
                    "SparseCategoricalCrossEntropy" => Loss.SparseCategoricalCrossEntropy(input, labels, batch, classes, grad, reduction),
                    _ => throw new InvalidOperationException(kind),
                };

                // the loss alone (empty gradient span) is the same number
                float lossOnly = kind switch
                {
                    "CrossEntropy" => Loss.CrossEntropy(input, labels, batch, classes, default, reduction, smoothing),
                    "NllLoss" => Loss.NllLoss(input, labels, batch, classes, default, reduction),
                    _ => Loss.SparseCategoricalCrossEntropy(input, labels, batch, classes, default, reduction),
                };
                Assert.Equal(loss, lossOnly);
            }

            double lossDiff = Math.Abs((double)loss - expectedLoss);
            Assert.True(lossDiff <= Rtol * Math.Abs(expectedLoss) + Atol,
                $"{name}: loss {loss:R}, PyTorch {expectedLoss:R} ({c.GetProperty("call").GetString()})");
            double gradDiff = GoldenFixture.AssertClose(expectedGrad, grad, Atol, Rtol, name + " grad");
            _out.WriteLine($"{name}: loss diff {lossDiff:E2} (rel {lossDiff / Math.Max(Math.Abs(expectedLoss), 1e-30):E2}), max grad diff {gradDiff:E2}");
        }

        [Fact]
        public void CrossEntropyIsStableForHugeLogits()
        {
            // log_softmax([1000, 0, -1000]) = [0, -1000, -2000]; F.cross_entropy(x, [1], reduction='sum') == 1000
            float[] x = { 1000f, 0f, -1000f };
            var g = new float[3];
            float loss = Loss.CrossEntropy(x, new[] { 1 }, 1, 3, g, Reduction.Sum);
            Assert.Equal(1000f, loss);
            Assert.Equal(new[] { 1f, -1f, 0f }, g);
        }

        [Theory]
        [InlineData(0f)]
        [InlineData(0.1f)]
        public void CrossEntropyWideRowsMatchDoubleReference(float smoothing)
        {
            // 700 classes is past the stack buffer for exp values (512), so the recomputing path runs; reference:
            // loss = mean_b[(1-e)(lse - x_y) + e/C * sum_c(lse - x_c)], grad = (softmax - target) / B in double
            int batch = 3, classes = 700;
            var rng = new Random(11);
            var x = new float[batch * classes];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 20 - 10);
            int[] y = { 5, 699, 0 };
            var g = new float[x.Length];
            float loss = Loss.CrossEntropy(x, y, batch, classes, g, Reduction.Mean, smoothing);
            double expect = 0;
            for (int b = 0; b < batch; b++)
            {
                double max = double.NegativeInfinity;
                for (int c = 0; c < classes; c++) max = Math.Max(max, x[b * classes + c]);
                double s = 0;
                for (int c = 0; c < classes; c++) s += Math.Exp(x[b * classes + c] - max);
                double lse = max + Math.Log(s);
                double smooth = 0;
                for (int c = 0; c < classes; c++)
                {
                    smooth += lse - x[b * classes + c];
                    double target = (double)smoothing / classes + (c == y[b] ? 1 - (double)smoothing : 0);
                    double eg = (Math.Exp(x[b * classes + c] - max) / s - target) / batch;
                    Assert.True(Math.Abs(g[b * classes + c] - eg) <= 1e-7 * Math.Abs(eg) + 1e-12, $"grad[{b},{c}] {g[b * classes + c]} vs {eg}");
                }
                expect += (1 - (double)smoothing) * (lse - x[b * classes + y[b]]) + (double)smoothing / classes * smooth;
            }
            expect /= batch;
            Assert.True(Math.Abs(loss - expect) <= 1e-6 * Math.Abs(expect), $"{loss} vs {expect}");
        }

        [Fact]
        public void RejectsBadLabelsAndShapes()
        {
            var x = new float[6];
            var g = new float[6];
            Assert.Throws<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(x, new[] { 0, 3 }, 2, 3, g));
            Assert.Throws<ArgumentOutOfRangeException>(() => Loss.NllLoss(x, new[] { -1, 0 }, 2, 3, g));
            Assert.Throws<ArgumentException>(() => Loss.SparseCategoricalCrossEntropy(x, new[] { 0, 1 }, 3, 3, g));
            Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(x, new[] { 0, 1 }, 2, 3, new float[5]));
            Assert.Throws<ArgumentException>(() => Loss.Mse(x, new float[5], g));
            Assert.Throws<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(x, new[] { 0, 1 }, 2, 3, g, labelSmoothing: 1.5f));
        }

        [Fact]
        public void MseVectorPathMatchesScalarDefinition()
        {
            // long input (vector body + tail, several accumulation blocks): compare with a plain double loop
            var rng = new Random(7);
            int n = 64 * 8 * 3 + 5;
            var p = new float[n];
            var t = new float[n];
            for (int i = 0; i < n; i++) { p[i] = (float)(rng.NextDouble() * 4 - 2); t[i] = (float)(rng.NextDouble() * 4 - 2); }
            var g = new float[n];
            float loss = Loss.Mse(p, t, g, Reduction.Sum);
            double expect = 0;
            for (int i = 0; i < n; i++) { double d = (double)(p[i] - t[i]); expect += d * d; }
            Assert.True(Math.Abs(loss - expect) <= 1e-6 * expect, $"{loss} vs {expect}");
            for (int i = 0; i < n; i++)
                Assert.Equal(2f * (p[i] - t[i]), g[i]);
        }
    }
}

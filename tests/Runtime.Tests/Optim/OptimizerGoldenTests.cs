using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using CnnGen.Optim;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests
{
    /// <summary>
    /// Optimizers against torch.optim 1.13 (Fixtures/optim/optimizers.json, made by tools/golden/make_optim_loss_golden.py):
    /// a 37-element parameter vector (not a multiple of the vector width, so the scalar tail runs) updated with five fixed
    /// gradient vectors; the parameters after every step are compared. Each case's "call" field is the torch.optim call
    /// (single-tensor path, foreach=False) that produced its values.
    /// Tolerance: |diff| &lt;= 1e-6 + 1e-6 * |expected| (parameters are of order 1, so this is a few float32 ulps).
    /// </summary>
    public sealed class OptimizerGoldenTests
    {
        private const double Atol = 1e-6;
        private const double Rtol = 1e-6;
        private readonly ITestOutputHelper _out;

        public OptimizerGoldenTests(ITestOutputHelper output) => _out = output;

        private static Optimizer Create(JsonElement c, int n)
        {
            JsonElement o = c.GetProperty("options");
            string kind = c.GetProperty("kind").GetString()!;
            return kind switch
            {
                "Sgd" => new Sgd(n, GoldenFixture.F(o, "lr", float.NaN), GoldenFixture.F(o, "momentum", 0f),
                    GoldenFixture.F(o, "dampening", 0f), GoldenFixture.B(o, "nesterov"), GoldenFixture.F(o, "weight_decay", 0f)),
                "Adam" => new Adam(n, GoldenFixture.F(o, "lr", 1e-3f), GoldenFixture.F(o, "beta1", 0.9f), GoldenFixture.F(o, "beta2", 0.999f),
                    GoldenFixture.F(o, "eps", 1e-8f), GoldenFixture.F(o, "weight_decay", 0f), GoldenFixture.B(o, "amsgrad")),
                "AdamW" => new AdamW(n, GoldenFixture.F(o, "lr", 1e-3f), GoldenFixture.F(o, "beta1", 0.9f), GoldenFixture.F(o, "beta2", 0.999f),
                    GoldenFixture.F(o, "eps", 1e-8f), GoldenFixture.F(o, "weight_decay", 1e-2f), GoldenFixture.B(o, "amsgrad")),
                _ => throw new InvalidOperationException(kind),
            };
        }

        // sgd_*: torch.optim.SGD([p], lr, momentum, dampening, nesterov, weight_decay, foreach=False)
        // adam_*: torch.optim.Adam([p], lr, betas, eps, weight_decay, amsgrad, foreach=False)
        // adamw_*: torch.optim.AdamW([p], lr, betas, eps, weight_decay, amsgrad, foreach=False)
        [Theory]
        [InlineData("sgd_plain")]
        [InlineData("sgd_momentum")]
        [InlineData("sgd_nesterov")]
        [InlineData("sgd_weight_decay")]
        [InlineData("sgd_dampening")]
        [InlineData("sgd_all")]
        [InlineData("adam_default")]
        [InlineData("adam")]
        [InlineData("adam_weight_decay")]
        [InlineData("adam_amsgrad")]
        [InlineData("adam_betas_eps")]
        [InlineData("adamw_default")]
        [InlineData("adamw")]
        [InlineData("adamw_amsgrad")]
        public void MatchesTorchOptim(string name)
        {
            using JsonDocument doc = GoldenFixture.Load("optim", "optimizers.json");
            JsonElement c = GoldenFixture.Case(doc, name);
            float[] p = GoldenFixture.Floats(doc.RootElement.GetProperty("parameters"));
            float[][] grads = doc.RootElement.GetProperty("gradients").EnumerateArray().Select(GoldenFixture.Floats).ToArray();
            float[][] after = c.GetProperty("after").EnumerateArray().Select(GoldenFixture.Floats).ToArray();
            Assert.Equal(37, p.Length);

            Optimizer opt = Create(c, p.Length);
            double max = 0;
            for (int k = 0; k < after.Length; k++)
            {
                opt.Step(p, grads[k]);
                Assert.Equal(k + 1, opt.StepCount);
                max = Math.Max(max, GoldenFixture.AssertClose(after[k], p, Atol, Rtol, $"{name} step {k + 1}"));
            }
            _out.WriteLine($"{name}: max |param diff| over {after.Length} steps = {max:E2}");
        }

        // torch.optim.SGD([p], lr=0.1, momentum=0.9) + StepLR(opt, step_size=2, gamma=0.5), sched.step() after each opt.step()
        [Fact]
        public void SgdWithStepLRMatchesTorch()
        {
            using JsonDocument doc = GoldenFixture.Load("optim", "optimizers.json");
            JsonElement c = GoldenFixture.Case(doc, "sgd_momentum_steplr");
            float[] p = GoldenFixture.Floats(doc.RootElement.GetProperty("parameters"));
            float[][] grads = doc.RootElement.GetProperty("gradients").EnumerateArray().Select(GoldenFixture.Floats).ToArray();
            float[][] after = c.GetProperty("after").EnumerateArray().Select(GoldenFixture.Floats).ToArray();
            var opt = new Sgd(p.Length, 0.1f, momentum: 0.9f);
            var sched = new StepLR(opt, stepSize: 2, gamma: 0.5f);
            for (int k = 0; k < after.Length; k++)
            {
                opt.Step(p, grads[k]);
                sched.Step(opt);
                GoldenFixture.AssertClose(after[k], p, Atol, Rtol, $"sgd_momentum_steplr step {k + 1}");
            }
        }

        // torch.optim.Adam([p], lr=0.01) + OneCycleLR(opt, max_lr=0.05, total_steps=5, cycle_momentum=False)
        [Fact]
        public void AdamWithOneCycleMatchesTorch()
        {
            using JsonDocument doc = GoldenFixture.Load("optim", "optimizers.json");
            JsonElement c = GoldenFixture.Case(doc, "adam_onecycle");
            float[] p = GoldenFixture.Floats(doc.RootElement.GetProperty("parameters"));
            float[][] grads = doc.RootElement.GetProperty("gradients").EnumerateArray().Select(GoldenFixture.Floats).ToArray();
            float[][] after = c.GetProperty("after").EnumerateArray().Select(GoldenFixture.Floats).ToArray();
            var opt = new Adam(p.Length, lr: 0.01f);
            var sched = new OneCycleLR(opt, maxLr: 0.05f, totalSteps: 5);
            Assert.Equal(0.05f / 25, opt.LearningRate, 7);
            for (int k = 0; k < after.Length; k++)
            {
                opt.Step(p, grads[k]);
                sched.Step(opt);
                GoldenFixture.AssertClose(after[k], p, Atol, Rtol, $"adam_onecycle step {k + 1}");
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => sched.Step(opt)); // torch: "Tried to step 6 times..."
        }

        [Theory]
        [InlineData("sgd_momentum")]
        [InlineData("sgd_nesterov")]
        [InlineData("adam_amsgrad")]
        [InlineData("adamw")]
        public void SaveLoadMidSequenceContinuesIdentically(string name)
        {
            using JsonDocument doc = GoldenFixture.Load("optim", "optimizers.json");
            JsonElement c = GoldenFixture.Case(doc, name);
            float[] p0 = GoldenFixture.Floats(doc.RootElement.GetProperty("parameters"));
            float[][] grads = doc.RootElement.GetProperty("gradients").EnumerateArray().Select(GoldenFixture.Floats).ToArray();

            float[] straight = (float[])p0.Clone();
            Optimizer a = Create(c, p0.Length);
            foreach (float[] g in grads)
                a.Step(straight, g);

            float[] resumed = (float[])p0.Clone();
            Optimizer first = Create(c, p0.Length);
            first.Step(resumed, grads[0]);
            first.Step(resumed, grads[1]);
            var ms = new MemoryStream();
            first.SaveState(ms);
            ms.Position = 0;

            Optimizer second = Create(c, p0.Length); // a fresh optimizer, as after a process restart
            second.LoadState(ms);
            Assert.Equal(ms.Length, ms.Position);
            Assert.Equal(2, second.StepCount);
            for (int k = 2; k < grads.Length; k++)
                second.Step(resumed, grads[k]);

            Assert.Equal(straight, resumed); // bit for bit
            Assert.Equal(a.StepCount, second.StepCount);

            // without the restored state the continuation differs, so the comparison above can fail
            float[] fresh = (float[])p0.Clone();
            Optimizer third = Create(c, p0.Length);
            third.Step(fresh, grads[0]);
            third.Step(fresh, grads[1]);
            Optimizer restarted = Create(c, p0.Length);
            for (int k = 2; k < grads.Length; k++)
                restarted.Step(fresh, grads[k]);
            Assert.NotEqual(straight, fresh);
        }

        [Fact]
        public void SaveLoadRestoresScheduledLearningRate()
        {
            var opt = new Sgd(3, 0.1f);
            var sched = new CosineAnnealingLR(opt, tMax: 10);
            for (int i = 0; i < 3; i++)
                sched.Step(opt);
            var ms = new MemoryStream();
            opt.SaveState(ms);
            ms.Position = 0;
            var other = new Sgd(3, 0.5f);
            other.LoadState(ms);
            Assert.Equal(opt.LearningRate, other.LearningRate);
            Assert.Equal(sched.LearningRateAt(3), other.LearningRate);
        }

        [Fact]
        public void LoadStateRejectsMismatches()
        {
            var ms = new MemoryStream();
            var adam = new Adam(37);
            adam.Step(new float[37], Enumerable.Repeat(1f, 37).ToArray());
            adam.SaveState(ms);
            byte[] bytes = ms.ToArray();

            var sgd = new Sgd(37, 0.1f, momentum: 0.9f);
            var e1 = Assert.Throws<InvalidDataException>(() => sgd.LoadState(new MemoryStream(bytes)));
            Assert.Contains("Adam", e1.Message);
            Assert.Contains("Sgd", e1.Message);

            var adamW = new AdamW(37);
            var e2 = Assert.Throws<InvalidDataException>(() => adamW.LoadState(new MemoryStream(bytes)));
            Assert.Contains("AdamW", e2.Message);

            var small = new Adam(36);
            var e3 = Assert.Throws<InvalidDataException>(() => small.LoadState(new MemoryStream(bytes)));
            Assert.Contains("37", e3.Message);
            Assert.Contains("36", e3.Message);

            var ams = new Adam(37, amsgrad: true);
            var e4 = Assert.Throws<InvalidDataException>(() => ams.LoadState(new MemoryStream(bytes)));
            Assert.Contains("buffers", e4.Message);

            var target = new Adam(37);
            var e5 = Assert.Throws<InvalidDataException>(() => target.LoadState(new MemoryStream(bytes, 0, bytes.Length - 1)));
            Assert.Contains("truncated", e5.Message);
            Assert.Equal(0, target.StepCount); // unchanged after a failed load

            Assert.Throws<InvalidDataException>(() => target.LoadState(new MemoryStream(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 })));

            target.LoadState(new MemoryStream(bytes));
            Assert.Equal(1, target.StepCount);
        }

        [Fact]
        public void StepValidatesLengthsAndOptions()
        {
            var opt = new Sgd(5, 0.1f);
            Assert.Throws<ArgumentException>(() => opt.Step(new float[4], new float[5]));
            Assert.Throws<ArgumentException>(() => opt.Step(new float[5], new float[6]));
            Assert.Throws<ArgumentException>(() => new Sgd(5, 0.1f, nesterov: true));
            Assert.Throws<ArgumentException>(() => new Sgd(5, 0.1f, momentum: 0.9f, dampening: 0.1f, nesterov: true));
            Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(5, beta1: 1f));
            Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(5, lr: -1f));
            Assert.Equal("Sgd", opt.Kind);
        }

        [Fact]
        public void ResetStateForgetsMomentum()
        {
            float[] g = Enumerable.Range(0, 19).Select(i => (float)Math.Sin(i)).ToArray();
            var opt = new Adam(19, 0.01f);
            float[] p1 = new float[19];
            opt.Step(p1, g);
            opt.Step(p1, g);
            opt.ResetState();
            Assert.Equal(0, opt.StepCount);
            float[] p2 = new float[19];
            opt.Step(p2, g);
            var fresh = new Adam(19, 0.01f);
            float[] p3 = new float[19];
            fresh.Step(p3, g);
            Assert.Equal(p3, p2);
        }

        [Fact]
        public void LongVectorAgreesWithShortVectorElementwise()
        {
            // the vector body and the scalar tail compute the same thing: element i of a 1003-long run equals the
            // same element updated alone in a 1-long run
            int n = 1003;
            var rng = new Random(3);
            float[] p = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[][] gs = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
            Func<int, Optimizer>[] makers =
            {
                k => new Sgd(k, 0.05f, momentum: 0.9f, nesterov: true, weightDecay: 0.01f),
                k => new Adam(k, 0.01f, weightDecay: 0.1f, amsgrad: true),
                k => new AdamW(k, 0.01f),
            };
            foreach (Func<int, Optimizer> make in makers)
            {
                float[] all = (float[])p.Clone();
                Optimizer big = make(n);
                foreach (float[] g in gs)
                    big.Step(all, g);
                foreach (int i in new[] { 0, 7, 8, 500, 1002 })
                {
                    float[] one = { p[i] };
                    Optimizer small = make(1);
                    foreach (float[] g in gs)
                        small.Step(one, new[] { g[i] });
                    Assert.Equal(one[0], all[i]);
                }
            }
        }
    }
}

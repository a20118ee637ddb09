using System;
using System.Linq;
using System.Text.Json;
using CnnGen.Optim;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests
{
    /// <summary>
    /// LR schedulers and gradient clipping against PyTorch 1.13 (Fixtures/optim/schedulers.json and gradclip.json, made
    /// by tools/golden/make_optim_loss_golden.py). Schedules: torch.optim.lr_scheduler.* stepped 30/31 times after an
    /// SGD step, recording optimizer.param_groups[0]['lr'] at steps 0..N. Tolerance 1e-6 relative (lr values are float32).
    /// </summary>
    public sealed class SchedulerAndClipGoldenTests
    {
        private readonly ITestOutputHelper _out;

        public SchedulerAndClipGoldenTests(ITestOutputHelper output) => _out = output;

        private static LRScheduler Create(JsonElement c, Optimizer? opt)
        {
            JsonElement a = c.GetProperty("args");
            float baseLr = (float)c.GetProperty("baseLr").GetDouble();
            switch (c.GetProperty("kind").GetString())
            {
                case "StepLR":
                    return opt is null
                        ? new StepLR(baseLr, a.GetProperty("stepSize").GetInt32(), (float)a.GetProperty("gamma").GetDouble())
                        : new StepLR(opt, a.GetProperty("stepSize").GetInt32(), (float)a.GetProperty("gamma").GetDouble());
                case "CosineAnnealingLR":
                    return opt is null
                        ? new CosineAnnealingLR(baseLr, a.GetProperty("tMax").GetInt32(), (float)a.GetProperty("etaMin").GetDouble())
                        : new CosineAnnealingLR(opt, a.GetProperty("tMax").GetInt32(), (float)a.GetProperty("etaMin").GetDouble());
                case "OneCycleLR":
                    float maxLr = (float)a.GetProperty("maxLr").GetDouble();
                    int total = a.GetProperty("totalSteps").GetInt32();
                    double pct = a.GetProperty("pctStart").GetDouble();
                    double div = a.GetProperty("divFactor").GetDouble();
                    double fin = a.GetProperty("finalDivFactor").GetDouble();
                    var anneal = a.GetProperty("anneal").GetString() == "linear" ? AnnealStrategy.Linear : AnnealStrategy.Cos;
                    bool three = a.GetProperty("threePhase").GetBoolean();
                    return opt is null
                        ? new OneCycleLR(maxLr, total, pct, div, fin, anneal, three)
                        : new OneCycleLR(opt, maxLr, total, pct, div, fin, anneal, three);
                default:
                    throw new InvalidOperationException();
            }
        }

        // steplr: StepLR(opt, step_size=7, gamma=0.5); steplr_default_gamma: StepLR(opt, step_size=3)
        // cosine: CosineAnnealingLR(opt, T_max=30); cosine_wrap_etamin: CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
        // onecycle*: OneCycleLR(opt, max_lr, total_steps, pct_start, div_factor, final_div_factor, anneal_strategy,
        //            three_phase, cycle_momentum=False)
        [Theory]
        [InlineData("steplr")]
        [InlineData("steplr_default_gamma")]
        [InlineData("cosine")]
        [InlineData("cosine_wrap_etamin")]
        [InlineData("onecycle")]
        [InlineData("onecycle_linear")]
        [InlineData("onecycle_three_phase")]
        public void MatchesTorchScheduler(string name)
        {
            using JsonDocument doc = GoldenFixture.Load("optim", "schedulers.json");
            JsonElement c = GoldenFixture.Case(doc, name);
            double[] lrs = c.GetProperty("lrs").EnumerateArray().Select(x => x.GetDouble()).ToArray();

            // closed form
            LRScheduler s = Create(c, null);
            double max = 0;
            for (int t = 0; t < lrs.Length; t++)
            {
                double d = Math.Abs(s.LearningRateAt(t) - lrs[t]);
                max = Math.Max(max, d / Math.Max(Math.Abs(lrs[t]), 1e-12));
                Assert.True(d <= 1e-6 * Math.Abs(lrs[t]) + 1e-12, $"{name} step {t}: {s.LearningRateAt(t):R} vs torch {lrs[t]:R}");
            }

            // driving an optimizer: construction applies step 0, each Step(opt) the next
            var opt = new Sgd(3, (float)c.GetProperty("baseLr").GetDouble());
            LRScheduler driven = Create(c, opt);
            Assert.Equal((float)lrs[0], opt.LearningRate);
            for (int t = 1; t < lrs.Length; t++)
            {
                driven.Step(opt);
                Assert.Equal(t, driven.LastStep);
                Assert.Equal((float)lrs[t], opt.LearningRate, (float)(1e-6 * Math.Abs(lrs[t]) + 1e-12));
            }
            _out.WriteLine($"{name}: max relative lr diff {max:E2}");
        }

        // torch.nn.utils.clip_grad_norm_([p], max_norm): returns the total norm, scales p.grad in place
        [Theory]
        [InlineData("clips")]
        [InlineData("no_clip")]
        [InlineData("clips_long")]
        public void ClipByNormMatchesTorch(string name)
        {
            using JsonDocument doc = GoldenFixture.Load("optim", "gradclip.json");
            JsonElement c = GoldenFixture.Case(doc, name);
            float[] g = GoldenFixture.Floats(c.GetProperty("grads"));
            float[] expected = GoldenFixture.Floats(c.GetProperty("clipped"));
            float total = GradClip.ClipByNorm(g, (float)c.GetProperty("maxNorm").GetDouble());
            double expectedNorm = c.GetProperty("totalNorm").GetDouble();
            Assert.True(Math.Abs(total - expectedNorm) <= 1e-6 * expectedNorm, $"norm {total:R} vs torch {expectedNorm:R}");
            double max = GoldenFixture.AssertClose(expected, g, 1e-7, 1e-6, name);
            _out.WriteLine($"{name}: norm diff {Math.Abs(total - expectedNorm):E2}, max grad diff {max:E2}");
        }
    }
}

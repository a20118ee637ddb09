using System;
using System.Linq;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Inference of a convolution whose weights outnumber its outputs, followed by batch norm: the batch norm is applied
    /// as a per-channel scale and shift in the convolution's store (DirectConv / Gemm.Conv1x1 scaled runs) or in one pass
    /// after it (LayerOps.ChannelScaleShift*), with the activation after it. The reference is the same model with an
    /// [Identity] between the convolution and the batch norm, so nothing pairs them: the convolution's plain forward,
    /// then LayerOps.BatchNormInference, then the activation, as declared.
    /// </summary>
    public class ScaledBatchNormTests
    {
        private const string Usings = "using CnnGen;\nnamespace T\n{\n";

        /// <summary>Runs <paramref name="source"/> (class T.M) and its Identity-separated twin (T.R) on the same random parameters and statistics, batch sizes 1 and 3.</summary>
        private static void AssertMatchesUnpaired(string source, string[] expectedLines, float tolerance = 2e-5f)
        {
            var r = GeneratorHarness.Run(Usings + source + "}\n");
            Assert.Empty(r.Errors);
            foreach (var line in expectedLines) Assert.Contains(line, r.GeneratedSource);
            // The twin: every "[BatchNorm2d" preceded by an [Identity] (the declared, unfused order of kernels).
            string twin = source.Replace("[BatchNorm2d(", "[Identity]\n[BatchNorm2d(").Replace("class M", "class R").Replace("class B ", "class BR ").Replace("typeof(B)", "typeof(BR)");
            var rr = GeneratorHarness.Run(Usings + twin + "}\n");
            Assert.Empty(rr.Errors);
            Assert.DoesNotContain("ScaleShift", rr.GeneratedSource);
            var model = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(r).GetType("T.M")!, 1)!;
            var reference = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(rr).GetType("T.R")!, 1)!;
            Assert.Equal(reference.ParameterCount, model.ParameterCount);
            var rng = new Random(7);
            for (int i = 0; i < model.Parameters.Length; i++) model.Parameters[i] = (float)(rng.NextDouble() - 0.5) * 0.4f;
            // Running statistics away from (0, 1): means around ±0.3, variances in [0.2, 2.2).
            for (int i = 0; i < model.Buffers.Length; i++) model.Buffers[i] = (float)rng.NextDouble() * 2f + 0.2f;
            foreach (var slot in model.BufferSlots.Where(s => s.Key.EndsWith("running_mean")))
                for (int i = 0; i < slot.Shape[0]; i++) model.Buffers[slot.Offset + i] = (float)(rng.NextDouble() - 0.5) * 0.6f;
            model.Parameters.CopyTo(reference.Parameters, 0);
            model.Buffers.CopyTo(reference.Buffers, 0);
            foreach (int batch in new[] { 1, 3 })
            {
                var x = Enumerable.Range(0, batch * model.InputSize).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
                var y = new float[batch * model.OutputSize];
                var want = new float[y.Length];
                model.Forward(x, y, batch);
                reference.Forward(x, want, batch);
                float scale = want.Max(v => Math.Abs(v));
                Assert.True(scale > 1e-3f, "a reference output of all zeros would prove nothing");
                for (int i = 0; i < y.Length; i++)
                    Assert.True(Math.Abs(y[i] - want[i]) <= tolerance * Math.Max(1f, scale), $"batch {batch}, output {i}: {y[i]} vs {want[i]}");
            }
        }

        [Fact]
        public void SmallImagesScaleInAPassAfterTheBatchedConvolution()
        {
            // Conv2d-5 (16 -> 32, 3×3 at 4×4): 4,608 weights, 512 outputs: no folded copy of its weights; Conv2d-1 (432
            // weights, 1,024 outputs) keeps its folded W', b'.
            AssertMatchesUnpaired(
                "[Model]\n[Input(3, 8, 8)]\n[Conv2d(3, 16, 3, Padding = 1, Bias = false)]\n[BatchNorm2d(16)]\n[ReLU]\n[MaxPool2d(2)]\n" +
                "[Conv2d(16, 32, 3, Padding = 1, Bias = false)]\n[BatchNorm2d(32)]\n[Flatten]\n[Linear(512, 3)]\npublic partial class M { }\n",
                new[]
                {
                    "global::CnnGen.Kernels.LayerOps.FoldBatchNorm(p + 0, null, p + 432, p + 448, rb, rb + 16, 1E-05f, 16, 27, fp, fp + 432);",
                    "global::CnnGen.Kernels.LayerOps.BatchNormScaleShift(null, p + 5072, p + 5104, rb + 33, rb + 65, 1E-05f, 32, fp + 448, fp + 480);",
                    "private const int FoldedCount = 512;",
                    "global::CnnGen.Kernels.LayerOps.ChannelScaleShift(pa, fp + 448, fp + 480, n, 32, 16); // BatchNorm2d-6: scale, shift",
                });
        }

        [Fact]
        public void AConvolutionsOwnBiasIsAddedBeforeTheScale()
        {
            // With Bias = true the batched convolution adds b itself; the shift then leaves it out.
            AssertMatchesUnpaired(
                "[Model]\n[Input(16, 4, 4)]\n[Conv2d(16, 32, 3, Padding = 1)]\n[BatchNorm2d(32)]\n[Flatten]\n[Linear(512, 3)]\npublic partial class M { }\n",
                new[] { "global::CnnGen.Kernels.LayerOps.BatchNormScaleShift(null, " });
        }

        [Fact]
        public void DirectAndPointwiseConvolutionsScaleInTheirStores()
        {
            // 64 -> 320, 3×3 at 16×16 (184,320 weights, 81,920 outputs) runs direct, with a bias of its own that the shift
            // carries; the 1×1 320 -> 64 (20,480 weights, 16,384 outputs) is a pointwise product: both scale in their stores.
            AssertMatchesUnpaired(
                "[Model]\n[Input(64, 16, 16)]\n[Conv2d(64, 320, 3, Padding = 1)]\n[BatchNorm2d(320)]\n[ReLU]\n" +
                "[Conv2d(320, 64, 1, Bias = false)]\n[BatchNorm2d(64)]\n[AdaptiveAvgPool2d(1)]\n[Flatten]\n[Linear(64, 4)]\npublic partial class M { }\n",
                new[]
                {
                    "global::CnnGen.Kernels.LayerOps.BatchNormScaleShift(p + 184320, ",
                    "Conv2d_1_RunScaled(",
                    "Conv2d_4_RunScaled(",
                    "global::CnnGen.Kernels.DirectConv.Forward(x, y, w, s, t, n, 64, 16, 16, 320, 3, 3, 1, 1, 1, 1, act);",
                    "global::CnnGen.Kernels.Gemm.Conv1x1(n, 64, 256, 320, w, x, y, s, t, act);",
                });
        }

        [Fact]
        public void ResidualBlocksFuseTheActivationIntoTheScale()
        {
            // A branching model: the ReLU after the first batch norm runs in the scaled store (act 1), the block's own
            // ReLU after the join as before.
            AssertMatchesUnpaired(
                "[Block]\n[Conv2d(64, 64, 3, Padding = 1, Bias = false)]\n[BatchNorm2d(64)]\n[ReLU]\n[Conv2d(64, 64, 3, Padding = 1, Bias = false)]\n[BatchNorm2d(64)]\n" +
                "public partial class B { }\n" +
                "[Model]\n[Input(64, 16, 16)]\n[Residual(typeof(B), ReLU = true)]\n[Residual(typeof(B), ReLU = true)]\n[AdaptiveAvgPool2d(1)]\n[Flatten]\n[Linear(64, 3)]\npublic partial class M { }\n",
                new[] { " applied in its store: scale, shift, then the ReLU" });
        }
    }
}

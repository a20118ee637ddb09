using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using CnnGen.Optim;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    /// <summary>
    /// <see cref="Optimizer.StepRange"/>: updating disjoint ranges that cover the parameters (in any order, on any
    /// threads) and then <see cref="Optimizer.CompleteRangeStep"/> equals one <see cref="Optimizer.Step"/> bit for bit —
    /// parameters, state buffers and step count — which the trainer's parallel optimizer step relies on.
    /// </summary>
    public sealed class OptimizerRangeStepTests
    {
        private const int N = 1037; // not a multiple of the vector width: ranges end in scalar tails

        public static TheoryData<string> Optimizers => new()
        {
            "sgd", "sgd_momentum", "sgd_nesterov", "sgd_dampening_wd", "adam", "adam_wd", "adam_amsgrad", "adamw", "adamw_amsgrad", "keras_adam",
        };

        private static Optimizer Create(string name) => name switch
        {
            "sgd" => new Sgd(N, 0.1f),
            "sgd_momentum" => new Sgd(N, 0.05f, momentum: 0.9f),
            "sgd_nesterov" => new Sgd(N, 0.05f, momentum: 0.9f, nesterov: true, weightDecay: 1e-3f),
            "sgd_dampening_wd" => new Sgd(N, 0.05f, momentum: 0.8f, dampening: 0.3f, weightDecay: 1e-2f),
            "adam" => new Adam(N, 1e-2f),
            "adam_wd" => new Adam(N, 1e-2f, beta1: 0.8f, beta2: 0.99f, eps: 1e-6f, weightDecay: 1e-2f),
            "adam_amsgrad" => new Adam(N, 1e-2f, weightDecay: 1e-3f, amsgrad: true),
            "adamw" => new AdamW(N, 1e-2f),
            "adamw_amsgrad" => new AdamW(N, 1e-2f, weightDecay: 0.1f, amsgrad: true),
            "keras_adam" => new KerasAdam(N, 1e-2f, amsgrad: true),
            _ => throw new ArgumentException(name),
        };

        private static float[] Values(int seed, float scale)
        {
            var rng = new Random(seed);
            var v = new float[N];
            for (int i = 0; i < v.Length; i++)
                v[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
            return v;
        }

        private static byte[] State(Optimizer o)
        {
            using var ms = new MemoryStream();
            o.SaveState(ms);
            return ms.ToArray();
        }

        // Range boundaries: unaligned and of uneven lengths (one empty), an aligned 4-way split, and a single range.
        public static TheoryData<string, int[]> Cases()
        {
            var data = new TheoryData<string, int[]>();
            int[][] splits = { new[] { 0, 1, 17, 17, 500, 1000, N }, new[] { 0, 256, 512, 768, N }, new[] { 0, N } };
            foreach (string name in Optimizers)
                foreach (int[] split in splits)
                    data.Add(name, split);
            return data;
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void RangesCoveringTheParameters_EqualOneStep_BitForBit(string name, int[] bounds)
        {
            Optimizer whole = Create(name), ranged = Create(name);
            float[] p1 = Values(1, 1f), p2 = (float[])p1.Clone();
            for (int step = 1; step <= 4; step++)
            {
                float[] g = Values(100 + step, 0.5f);
                if (step == 3)
                    whole.LearningRate = ranged.LearningRate = whole.LearningRate * 0.5f; // a scheduler's change between steps
                whole.Step(p1, g);

                long next = ranged.StepCount + 1;
                // the ranges in reverse order, the middle ones on other threads
                Parallel.For(0, bounds.Length - 1, new ParallelOptions { MaxDegreeOfParallelism = 3 }, k =>
                {
                    int r = bounds.Length - 2 - k;
                    ranged.StepRange(p2, g, bounds[r], bounds[r + 1] - bounds[r], next);
                });
                ranged.CompleteRangeStep(next);

                Assert.Equal(whole.StepCount, ranged.StepCount);
                Assert.Equal(MemoryMarshal.AsBytes(p1.AsSpan()).ToArray(), MemoryMarshal.AsBytes(p2.AsSpan()).ToArray());
                Assert.Equal(State(whole), State(ranged));
            }
        }

        [Fact]
        public void StepRange_ChecksTheRangeAndTheStepNumber()
        {
            var adam = new Adam(N);
            float[] p = new float[N], g = new float[N];
            Assert.Throws<ArgumentOutOfRangeException>(() => adam.StepRange(p, g, 0, 10, step: 2));
            Assert.Throws<ArgumentOutOfRangeException>(() => adam.StepRange(p, g, N - 5, 10, step: 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => adam.StepRange(p, g, -1, 10, step: 1));
            Assert.Throws<ArgumentException>(() => adam.StepRange(p.AsSpan(1), g, 0, 10, step: 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => adam.CompleteRangeStep(2));
            adam.StepRange(p, g, 0, N, step: 1);
            Assert.Equal(0, adam.StepCount);
            adam.CompleteRangeStep(1);
            Assert.Equal(1, adam.StepCount);
        }
    }
}

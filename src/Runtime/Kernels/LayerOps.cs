using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Kernels of the layers beyond the sequential set (issue 6): batch normalization, global average pooling,
    /// ReLU6, SiLU and the depthwise convolution's row helpers. Forward and backward side by side; layouts are
    /// NCHW, a "plane" is one channel of one sample (hw floats). Scalar references live in the tests.
    /// </summary>
    public static unsafe class LayerOps
    {
        private const int V = 8;

        // ---- row helpers (depthwise convolution) ------------------------------------------------------
        /// <summary>dst[i] += a·src[i] for i &lt; n.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Axpy(float* dst, float* src, float a, int n)
        {
            int i = 0;
            var va = Vector256.Create(a);
            for (; i + V <= n; i += V) Vector256.FusedMultiplyAdd(Vector256.Load(src + i), va, Vector256.Load(dst + i)).Store(dst + i);
            for (; i < n; i++) dst[i] = MathF.FusedMultiplyAdd(src[i], a, dst[i]);
        }

        private static float Sum(float* x, int n)
        {
            int i = 0;
            Vector256<float> s = default;
            for (; i + V <= n; i += V) s += Vector256.Load(x + i);
            float r = Vector256.Sum(s);
            for (; i < n; i++) r += x[i];
            return r;
        }

        // ---- ReLU6, SiLU ------------------------------------------------------------------------------
        /// <summary>y = min(max(x, 0), 6); x and y may alias.</summary>
        public static void Relu6(float* x, float* y, int n)
        {
            int i = 0;
            var six = Vector256.Create(6f);
            for (; i + V <= n; i += V) Vector256.Min(Vector256.Max(Vector256.Load(x + i), Vector256<float>.Zero), six).Store(y + i);
            for (; i < n; i++) y[i] = MathF.Min(MathF.Max(x[i], 0f), 6f);
        }

        /// <summary>dx = 0 &lt; y &lt; 6 ? dy : 0 (PyTorch's hardtanh backward: no gradient at the kinks).</summary>
        public static void Relu6Backward(float* y, float* dy, float* dx, int n)
        {
            for (int i = 0; i < n; i++) dx[i] = y[i] > 0f && y[i] < 6f ? dy[i] : 0f;
        }

        /// <summary>y = x·sigmoid(x); x and y may alias. Vectorized: <see cref="ActivationOps.Silu(float*, float*, int)"/>.</summary>
        public static void Silu(float* x, float* y, int n) => ActivationOps.Silu(x, y, n);

        /// <summary>dx = dy·s·(1 + x·(1 − s)), s = sigmoid(x); dx may alias dy. Vectorized: <see cref="ActivationOps.SiluBackward(float*, float*, float*, int)"/>.</summary>
        public static void SiluBackward(float* x, float* dy, float* dx, int n) => ActivationOps.SiluBackward(x, dy, dx, n);

        // ---- global average pooling ---------------------------------------------------------------------
        /// <summary>y[p] = mean of plane p of x, for <paramref name="planes"/> planes of <paramref name="hw"/> floats.</summary>
        public static void GlobalAvgPool(float* x, float* y, int planes, int hw)
        {
            float inv = 1f / hw;
            for (int p = 0; p < planes; p++) y[p] = Sum(x + (long)p * hw, hw) * inv;
        }

        /// <summary>dx[p, i] = dy[p] / hw.</summary>
        public static void GlobalAvgPoolBackward(float* dy, float* dx, int planes, int hw)
        {
            float inv = 1f / hw;
            for (int p = 0; p < planes; p++) new Span<float>(dx + (long)p * hw, hw).Fill(dy[p] * inv);
        }

        // ---- batch normalization ------------------------------------------------------------------------
        /// <summary>y = x·scale + shift over one plane; x and y may alias.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ScaleShift(float* x, float* y, float scale, float shift, int hw)
        {
            int i = 0;
            var vs = Vector256.Create(scale);
            var vb = Vector256.Create(shift);
            for (; i + V <= hw; i += V) Vector256.FusedMultiplyAdd(Vector256.Load(x + i), vs, vb).Store(y + i);
            for (; i < hw; i++) y[i] = MathF.FusedMultiplyAdd(x[i], scale, shift);
        }

        /// <summary>
        /// Inference: y = (x − running_mean)/√(running_var + eps)·γ + β per channel, as x·scale + shift.
        /// <paramref name="gamma"/>/<paramref name="beta"/> are null without affine parameters. x and y may alias.
        /// </summary>
        public static void BatchNormInference(float* x, float* y, float* gamma, float* beta, float* runningMean, float* runningVar,
            int n, int channels, int hw, float eps)
        {
            for (int c = 0; c < channels; c++)
            {
                float invStd = 1f / MathF.Sqrt(runningVar[c] + eps);
                float scale = gamma != null ? gamma[c] * invStd : invStd;
                float shift = (beta != null ? beta[c] : 0f) - runningMean[c] * scale;
                for (int b = 0; b < n; b++)
                {
                    long at = ((long)b * channels + c) * hw;
                    ScaleShift(x + at, y + at, scale, shift, hw);
                }
            }
        }

        /// <summary>
        /// Inference-mode batch norm as a per-channel affine map to apply in the convolution's store (instead of a folded copy
        /// of its weights): scale[c] = γ[c]/√(running_var[c] + eps), shift[c] = b[c]·scale + β[c] − running_mean[c]·scale,
        /// the same values <see cref="FoldBatchNorm"/> computes, so that batchnorm(conv(x; W, b)) = conv(x; W)·scale + shift.
        /// <paramref name="bias"/> (null: none, or the convolution adds its own bias before the scale), <paramref name="gamma"/>
        /// and <paramref name="beta"/> (null without affine parameters) as for <see cref="FoldBatchNorm"/>.
        /// </summary>
        public static void BatchNormScaleShift(float* bias, float* gamma, float* beta, float* runningMean, float* runningVar,
            float eps, int channels, float* scale, float* shift)
        {
            for (int c = 0; c < channels; c++)
            {
                float invStd = 1f / MathF.Sqrt(runningVar[c] + eps);
                float s = gamma != null ? gamma[c] * invStd : invStd;
                float t = (beta != null ? beta[c] : 0f) - runningMean[c] * s;
                scale[c] = s;
                shift[c] = bias != null ? MathF.FusedMultiplyAdd(bias[c], s, t) : t;
            }
        }

        /// <summary>y[b, c, ·] = y[b, c, ·]·scale[c] + shift[c] (one fused multiply-add) for <paramref name="n"/> samples of [channels, hw]: a batch norm after a convolution, in one pass.</summary>
        public static void ChannelScaleShift(float* y, float* scale, float* shift, int n, int channels, int hw) => BiasPass(y, shift, n, channels, hw, BiasOnly, scale);

        /// <summary><see cref="ChannelScaleShift"/>, then max(·, 0).</summary>
        public static void ChannelScaleShiftRelu(float* y, float* scale, float* shift, int n, int channels, int hw) => BiasPass(y, shift, n, channels, hw, BiasRelu, scale);

        /// <summary><see cref="ChannelScaleShift"/>, then x·σ(x).</summary>
        public static void ChannelScaleShiftSilu(float* y, float* scale, float* shift, int n, int channels, int hw) => BiasPass(y, shift, n, channels, hw, BiasSilu, scale);

        /// <summary>
        /// Folds inference-mode batch norm into the convolution before it: per output channel c, with
        /// scale = γ[c]/√(running_var[c] + eps) and shift = β[c] − running_mean[c]·scale (as <see cref="BatchNormInference"/>
        /// computes them), W'[c, ·] = W[c, ·]·scale and b'[c] = b[c]·scale + shift (= (b − mean)·scale + β), so that
        /// conv(x; W', b') = batchnorm(conv(x; W, b)). <paramref name="perChannel"/> weights per output channel
        /// (in/groups × kernel height × kernel width). <paramref name="bias"/> is null for a convolution without bias,
        /// <paramref name="gamma"/>/<paramref name="beta"/> are null without affine parameters.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // one call per Forward over every folded weight: never worth running unoptimized
        public static void FoldBatchNorm(float* weight, float* bias, float* gamma, float* beta, float* runningMean, float* runningVar,
            float eps, int channels, int perChannel, float* foldedWeight, float* foldedBias)
        {
            for (int c = 0; c < channels; c++)
            {
                float invStd = 1f / MathF.Sqrt(runningVar[c] + eps);
                float scale = gamma != null ? gamma[c] * invStd : invStd;
                float shift = (beta != null ? beta[c] : 0f) - runningMean[c] * scale;
                foldedBias[c] = bias != null ? MathF.FusedMultiplyAdd(bias[c], scale, shift) : shift;
                float* src = weight + (long)c * perChannel, dst = foldedWeight + (long)c * perChannel;
                int i = 0;
                var vs = Vector256.Create(scale);
                for (; i + V <= perChannel; i += V) (Vector256.Load(src + i) * vs).Store(dst + i);
                for (; i < perChannel; i++) dst[i] = src[i] * scale;
            }
        }

        /// <summary>y[b, c, ·] = max(y[b, c, ·] + bias[c], 0): a folded convolution's bias and the ReLU after it in one pass.</summary>
        public static void AddChannelBiasRelu(float* y, float* bias, int n, int channels, int hw) => BiasPass(y, bias, n, channels, hw, BiasRelu);

        /// <summary>y[b, c, ·] = SiLU(y[b, c, ·] + bias[c]): a folded convolution's bias and the SiLU after it in one pass.</summary>
        public static void AddChannelBiasSilu(float* y, float* bias, int n, int channels, int hw) => BiasPass(y, bias, n, channels, hw, BiasSilu);

        /// <summary>y[b, c, ·] += bias[c] for <paramref name="n"/> samples of [channels, hw] (a folded convolution's bias).</summary>
        public static void AddChannelBias(float* y, float* bias, int n, int channels, int hw) => BiasPass(y, bias, n, channels, hw, BiasOnly);

        private const int BiasOnly = 0, BiasRelu = 1, BiasSilu = 2;

        /// <summary>Floats below which a bias pass stays on one thread (≈ 64K floats, some 10 µs of memory traffic).</summary>
        internal const long ParallelThreshold = 1L << 16;

        private struct BiasJob
        {
            public float* Y, Bias, Scale;
            public int Planes, Channels, Hw, Kind;
        }

        /// <summary>
        /// The bias (+ activation) pass over the (sample, channel) planes; with Parallelism.IntraOpThreads = 2 a large one runs
        /// as two halves of its planes on the caller and the helper thread. Element-wise: the same bits either way.
        /// </summary>
        private static void BiasPass(float* y, float* bias, int n, int channels, int hw, int kind, float* scale = null)
        {
            if (scale != null && (bias == null || scale == bias)) throw new ArgumentException("a scale needs its own shift", nameof(bias));
            var job = new BiasJob { Y = y, Bias = bias, Scale = scale, Planes = n * channels, Channels = channels, Hw = hw, Kind = kind };
            if (Parallelism.IntraOpThreads > 1 && job.Planes >= 2 && (long)job.Planes * hw >= ParallelThreshold
                && PairWorker.TryRun(&RunBiasHalf, &job)) return;
            RunBiasPlanes(ref job, 0, job.Planes);
        }

        private static void RunBiasHalf(void* args, int half)
        {
            ref BiasJob j = ref *(BiasJob*)args;
            if (half == 0) RunBiasPlanes(ref j, 0, j.Planes / 2);
            else RunBiasPlanes(ref j, j.Planes / 2, j.Planes);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void RunBiasPlanes(ref BiasJob j, int from, int to)
        {
            for (int q = from; q < to; q++)
            {
                float* row = j.Y + (long)q * j.Hw;
                float* b = j.Bias + q % j.Channels;
                if (j.Scale != null) DirectConv.Epilogue(row, j.Hw, row, 1, j.Hw, *b, j.Kind, j.Scale[q % j.Channels]);
                else if (j.Kind == BiasSilu) ActivationOps.AddBiasSilu(row, *b, j.Hw);
                else Ops.CopyRowsBiasRelu(row, j.Hw, row, j.Hw, 1, j.Hw, b, relu: j.Kind == BiasRelu);
            }
        }

        /// <summary>
        /// Training: normalizes with the batch's mean and biased variance over (n, h, w), saves mean and 1/√(var + eps)
        /// per channel in <paramref name="stats"/> [2·channels] for the backward pass, and, when
        /// <paramref name="updateRunning"/>, moves the running statistics toward the batch's (unbiased variance) with
        /// <paramref name="momentum"/> and adds 1 to <paramref name="numBatchesTracked"/>[0], as PyTorch does.
        /// </summary>
        public static void BatchNormTrainForward(float* x, float* y, float* gamma, float* beta, float* runningMean, float* runningVar,
            float* numBatchesTracked, float* stats, int n, int channels, int hw, float eps, float momentum, bool updateRunning)
        {
            long m = (long)n * hw;
            if (m < 2)
                throw new InvalidOperationException($"BatchNorm2d in training needs more than one value per channel, but gets a batch of {n} with {hw} value(s) per channel (PyTorch: \"Expected more than 1 value per channel when training\")");
            for (int c = 0; c < channels; c++)
            {
                double sum = 0;
                for (int b = 0; b < n; b++) sum += Sum(x + ((long)b * channels + c) * hw, hw);
                double mean = sum / m;
                double sq = 0;
                float fm = (float)mean;
                for (int b = 0; b < n; b++)
                {
                    float* xp = x + ((long)b * channels + c) * hw;
                    int i = 0;
                    var vm = Vector256.Create(fm);
                    Vector256<float> s = default;
                    for (; i + V <= hw; i += V)
                    {
                        var d = Vector256.Load(xp + i) - vm;
                        s = Vector256.FusedMultiplyAdd(d, d, s);
                    }
                    double part = Vector256.Sum(s);
                    for (; i < hw; i++)
                    {
                        double d = xp[i] - mean;
                        part += d * d;
                    }
                    sq += part;
                }
                double variance = sq / m;
                float invStd = (float)(1.0 / Math.Sqrt(variance + eps));
                stats[c] = fm;
                stats[channels + c] = invStd;
                if (updateRunning)
                {
                    runningMean[c] = (1f - momentum) * runningMean[c] + momentum * fm;
                    runningVar[c] = (1f - momentum) * runningVar[c] + momentum * (float)(variance * m / (m - 1));
                }
                float scale = gamma != null ? gamma[c] * invStd : invStd;
                float shift = (beta != null ? beta[c] : 0f) - fm * scale;
                for (int b = 0; b < n; b++)
                {
                    long at = ((long)b * channels + c) * hw;
                    ScaleShift(x + at, y + at, scale, shift, hw);
                }
            }
            if (updateRunning) numBatchesTracked[0] += 1f;
        }

        /// <summary>
        /// Backward of <see cref="BatchNormTrainForward"/>: with x̂ = (x − mean)·invstd and M = n·h·w values per channel,
        /// dγ += Σ dy·x̂, dβ += Σ dy (when <paramref name="dGamma"/> is not null) and, when <paramref name="needDx"/>,
        /// dx = γ·invstd/M · (M·dy − Σ dy − x̂·Σ dy·x̂).
        /// </summary>
        public static void BatchNormTrainBackward(float* x, float* dy, float* dx, float* gamma, float* dGamma, float* dBeta, float* stats,
            int n, int channels, int hw, bool needDx)
        {
            long m = (long)n * hw;
            for (int c = 0; c < channels; c++)
            {
                float mean = stats[c], invStd = stats[channels + c];
                double sumDy = 0, sumDyX = 0;
                for (int b = 0; b < n; b++)
                {
                    long at = ((long)b * channels + c) * hw;
                    sumDy += Sum(dy + at, hw);
                    // Σ dy·(x − mean) = Σ dy·x − mean·Σ dy, in double across planes
                    sumDyX += Gemm.Dot(dy + at, x + at, hw);
                }
                double sumDyXhat = (sumDyX - mean * sumDy) * invStd;
                if (dGamma != null)
                {
                    dGamma[c] += (float)sumDyXhat;
                    dBeta[c] += (float)sumDy;
                }
                if (!needDx) continue;
                float g = gamma != null ? gamma[c] : 1f;
                // dx = k·dy + k2·x + k3, with k = γ·invstd, k2 = −k·invstd·Σdyx̂/M, k3 = −k·Σdy/M − k2·mean
                float k = g * invStd;
                float k2 = (float)(-k * invStd * sumDyXhat / m);
                float k3 = (float)(-k * sumDy / m) - k2 * mean;
                var vk = Vector256.Create(k);
                var vk2 = Vector256.Create(k2);
                var vk3 = Vector256.Create(k3);
                for (int b = 0; b < n; b++)
                {
                    long at = ((long)b * channels + c) * hw;
                    float* xp = x + at, dyp = dy + at, dxp = dx + at;
                    int i = 0;
                    for (; i + V <= hw; i += V)
                        Vector256.FusedMultiplyAdd(Vector256.Load(dyp + i), vk, Vector256.FusedMultiplyAdd(Vector256.Load(xp + i), vk2, vk3)).Store(dxp + i);
                    for (; i < hw; i++) dxp[i] = k * dyp[i] + (k2 * xp[i] + k3);
                }
            }
        }

        // ---- residual add, channel scaling (squeeze-excitation) -----------------------------------------
        /// <summary>y = a + b; y may alias a or b.</summary>
        public static void Add(float* a, float* b, float* y, int n)
        {
            int i = 0;
            for (; i + V <= n; i += V) (Vector256.Load(a + i) + Vector256.Load(b + i)).Store(y + i);
            for (; i < n; i++) y[i] = a[i] + b[i];
        }

        /// <summary>y = max(a + b, 0): a residual add and the ReLU after it in one pass; y may alias a or b.</summary>
        public static void AddRelu(float* a, float* b, float* y, int n)
        {
            int i = 0;
            for (; i + V <= n; i += V) Vector256.Max(Vector256.Load(a + i) + Vector256.Load(b + i), Vector256<float>.Zero).Store(y + i);
            for (; i < n; i++) y[i] = MathF.Max(a[i] + b[i], 0f);
        }

        /// <summary>y[p, i] = x[p, i]·s[p] over <paramref name="planes"/> planes of <paramref name="hw"/>; y may alias x.</summary>
        public static void ScaleChannels(float* x, float* s, float* y, int planes, int hw)
        {
            for (int p = 0; p < planes; p++) ScaleShift(x + (long)p * hw, y + (long)p * hw, s[p], 0f, hw);
        }

        /// <summary>Backward of <see cref="ScaleChannels"/>: dx[p, i] = dy[p, i]·s[p], ds[p] = Σ_i dy[p, i]·x[p, i].</summary>
        public static void ScaleChannelsBackward(float* x, float* s, float* dy, float* dx, float* ds, int planes, int hw)
        {
            for (int p = 0; p < planes; p++)
            {
                long at = (long)p * hw;
                ds[p] = Gemm.Dot(dy + at, x + at, hw);
                ScaleShift(dy + at, dx + at, s[p], 0f, hw);
            }
        }
    }
}

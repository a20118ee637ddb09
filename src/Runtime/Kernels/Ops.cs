using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Element-wise and reduction kernels used by generated layers, forward and backward side by side.
    /// Pointers may alias when a comment says so (in-place activations). Scalar references live in the tests.
    /// </summary>
    public static unsafe class Ops
    {
        private const int V = 8;

        /// <summary>dst[i] += src[i] over <paramref name="src"/>'s length (e.g. summing per-thread gradients).</summary>
        public static void AddTo(Span<float> dst, ReadOnlySpan<float> src)
        {
            if (dst.Length < src.Length) throw new ArgumentException($"destination holds {dst.Length} floats, source {src.Length}", nameof(dst));
            fixed (float* d = dst, s = src) AddTo(d, s, src.Length);
        }

        /// <summary>dst[i] += src[i].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void AddTo(float* dst, float* src, int n)
        {
            int i = 0;
            for (; i + V <= n; i += V) Vector256.Add(Vector256.Load(dst + i), Vector256.Load(src + i)).Store(dst + i);
            for (; i < n; i++) dst[i] += src[i];
        }

        /// <summary>Copies a block of <paramref name="rows"/> rows of <paramref name="cols"/> floats between row strides.</summary>
        public static void CopyRows(float* src, int srcStride, float* dst, int dstStride, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
                System.Runtime.CompilerServices.Unsafe.CopyBlockUnaligned(dst + (long)r * dstStride, src + (long)r * srcStride, (uint)cols * 4);
        }

        /// <summary>
        /// dst[r, c] = src[r, c] + bias[r], then max(·, 0) when <paramref name="relu"/>: a convolution's staged output
        /// copied out with its bias and a fused ReLU in one pass (<paramref name="bias"/> may be null; dst may be src).
        /// </summary>
        public static void CopyRowsBiasRelu(float* src, int srcStride, float* dst, int dstStride, int rows, int cols, float* bias, bool relu)
        {
            for (int r = 0; r < rows; r++)
            {
                float* s = src + (long)r * srcStride, d = dst + (long)r * dstStride;
                float br = bias == null ? 0f : bias[r];
                var b = Vector256.Create(br);
                int i = 0;
                if (relu)
                {
                    for (; i + V <= cols; i += V) Vector256.Max(Vector256.Add(Vector256.Load(s + i), b), Vector256<float>.Zero).Store(d + i);
                    for (; i < cols; i++) d[i] = MathF.Max(s[i] + br, 0f);
                }
                else
                {
                    for (; i + V <= cols; i += V) Vector256.Add(Vector256.Load(s + i), b).Store(d + i);
                    for (; i < cols; i++) d[i] = s[i] + br;
                }
            }
        }

        /// <summary>
        /// dst[r, c] = y[r, c] &gt; 0 ? dy[r, c] : 0 between row strides (y and dy share <paramref name="srcStride"/>): the
        /// backward of a ReLU fused into a convolution, applied while gathering the convolution's output gradient.
        /// </summary>
        public static void CopyRowsReluBackward(float* dy, float* y, int srcStride, float* dst, int dstStride, int rows, int cols)
        {
            for (int r = 0; r < rows; r++) ReluBackward(y + (long)r * srcStride, dy + (long)r * srcStride, dst + (long)r * dstStride, cols);
        }

        /// <summary>Zeroes <paramref name="cols"/> floats at the start of each of <paramref name="rows"/> rows, <paramref name="stride"/> apart.</summary>
        public static void ClearColumns(float* x, int stride, int rows, int cols)
        {
            for (int r = 0; r < rows; r++) new Span<float>(x + (long)r * stride, cols).Clear();
        }

        /// <summary>y[r, c] += bias[r] for a [rows, cols] block (convolution bias per channel).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void AddRowBias(float* y, float* bias, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
            {
                var b = Vector256.Create(bias[r]);
                float* p = y + (long)r * cols;
                int i = 0;
                for (; i + V <= cols; i += V) Vector256.Add(Vector256.Load(p + i), b).Store(p + i);
                for (; i < cols; i++) p[i] += bias[r];
            }
        }

        /// <summary>y[r, c] = max(y[r, c] + bias[r], 0) for a [rows, cols] block: convolution bias and a fused ReLU (bias may be null).</summary>
        public static void AddRowBiasRelu(float* y, float* bias, int rows, int cols) => CopyRowsBiasRelu(y, cols, y, cols, rows, cols, bias, relu: true);

        /// <summary>y[r, c] += bias[c] for a [rows, cols] block (linear bias per feature).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void AddColumnBias(float* y, float* bias, int rows, int cols)
        {
            for (int r = 0; r < rows; r++) AddTo(y + (long)r * cols, bias, cols);
        }

        /// <summary>sums[r] += Σ_c x[r, c] (convolution bias gradient).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void AddRowSums(float* x, float* sums, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
            {
                float* p = x + (long)r * cols;
                Vector256<float> s = default;
                int i = 0;
                for (; i + V <= cols; i += V) s = Vector256.Add(s, Vector256.Load(p + i));
                float t = Vector256.Sum(s);
                for (; i < cols; i++) t += p[i];
                sums[r] += t;
            }
        }

        /// <summary>sums[c] += Σ_r x[r, c] (linear bias gradient).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void AddColumnSums(float* x, float* sums, int rows, int cols)
        {
            for (int r = 0; r < rows; r++) AddTo(sums, x + (long)r * cols, cols);
        }

        // ---- Max pooling, 2×2 and 3×3 windows with stride 2, inference -------------------------------------------
        /// <summary>
        /// Inference max pooling over 2×2 windows with stride 2 (no dilation; <paramref name="padH"/>, <paramref name="padW"/> ≤ 1),
        /// without argmax: see <see cref="MaxPoolStride2"/>.
        /// </summary>
        public static void MaxPool2x2(float* x, float* y, int planes, int H, int W, int OH, int OW, int padH, int padW) =>
            MaxPoolStride2(x, y, planes, H, W, OH, OW, 2, padH, padW);

        /// <summary>
        /// Inference max pooling over k × k windows (k = 2 or 3: ResNet's stem pool is 3×3, padding 1) with stride 2, no
        /// dilation, <paramref name="padH"/>, <paramref name="padW"/> ≤ 1, without argmax: per output row, the window's input
        /// rows' element-wise max goes to a row buffer bordered by −∞ (the padding, which is never selected unless the whole
        /// window is −∞, when the value is the same), then each output is the max of k neighbouring columns of that buffer,
        /// 8 at a time (even and odd columns split by a shuffle). NaN propagates, as in PyTorch.
        /// <paramref name="planes"/> = samples × channels.
        /// </summary>
        public static void MaxPoolStride2(float* x, float* y, int planes, int H, int W, int OH, int OW, int k, int padH, int padW)
        {
            if (k is < 2 or > 3 || padH is < 0 or > 1 || padW is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(k), "k is 2 or 3, padding 0 or 1");
            // t[1 + iw] = max over the window's rows at column iw; t[0] and t[W + 1 ...] = −∞. Output ow reads t[2·ow + s + j],
            // j < k, with s = 1 − padW. 24 floats of slack for the vector reads.
            Span<float> buffer = W + 26 <= 4096 ? stackalloc float[W + 26] : new float[W + 26];
            buffer.Fill(float.NegativeInfinity);
            fixed (float* t = buffer) MaxPoolRows(x, y, t, planes, H, W, OH, OW, k, padH, padW);
        }

        private static void MaxPoolRows(float* x, float* y, float* t, int planes, int H, int W, int OH, int OW, int k, int padH, int padW)
        {
            int s = 1 - padW;
            bool avx2 = System.Runtime.Intrinsics.X86.Avx2.IsSupported;
            for (int pl = 0; pl < planes; pl++)
            {
                float* xp = x + (long)pl * H * W, yp = y + (long)pl * OH * OW;
                for (int oh = 0; oh < OH; oh++)
                {
                    // The window's rows inside the input (at least one: the padding is below the window's size).
                    int r0 = Math.Max(0, 2 * oh - padH), r1 = Math.Min(H, 2 * oh - padH + k);
                    float* row = t + 1;
                    float* a = xp + (long)r0 * W;
                    if (r1 - r0 == 1) new Span<float>(a, W).CopyTo(new Span<float>(row, W));
                    else
                    {
                        float* b = a + W, c = r1 - r0 == 3 ? b + W : b;
                        int i = 0;
                        for (; i + 8 <= W; i += 8)
                            Vector256.Max(Vector256.Max(Vector256.Load(a + i), Vector256.Load(b + i)), Vector256.Load(c + i)).Store(row + i);
                        for (; i < W; i++) row[i] = MathF.Max(MathF.Max(a[i], b[i]), c[i]);
                    }
                    float* yr = yp + oh * OW;
                    int ow = 0;
                    if (avx2 && OW >= 8)
                    {
                        for (; ; ow += 8)
                        {
                            if (ow + 8 > OW) ow = OW - 8; // a last, overlapping group: recomputes equal values
                            float* q = t + 2 * ow + s;
                            var m = Vector256.Max(Even(q), Odd(q));
                            if (k == 3) m = Vector256.Max(m, Even(q + 2));
                            System.Runtime.Intrinsics.X86.Avx2.Permute4x64(m.AsDouble(), 0b11_01_10_00).AsSingle().Store(yr + ow);
                            if (ow + 8 >= OW) break;
                        }
                    }
                    else
                    {
                        for (; ow < OW; ow++)
                        {
                            float* q = t + 2 * ow + s;
                            yr[ow] = k == 3 ? MathF.Max(MathF.Max(q[0], q[1]), q[2]) : MathF.Max(q[0], q[1]);
                        }
                    }
                }
            }
        }

        // q0 q2 | q8 q10 | q4 q6 | q12 q14 (per 128-bit lane; the caller's Permute4x64 puts the lanes in order), odd columns alike.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Even(float* q) => System.Runtime.Intrinsics.X86.Avx.Shuffle(Vector256.Load(q), Vector256.Load(q + 8), 0b10_00_10_00);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Odd(float* q) => System.Runtime.Intrinsics.X86.Avx.Shuffle(Vector256.Load(q), Vector256.Load(q + 8), 0b11_01_11_01);

        // ---- ReLU ------------------------------------------------------------------------------------
        /// <summary>y = max(x, 0); y may alias x.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Relu(float* x, float* y, int n)
        {
            int i = 0;
            for (; i + V <= n; i += V) Vector256.Max(Vector256.Load(x + i), Vector256<float>.Zero).Store(y + i);
            // MathF.Max like Vector256.Max above: NaN stays NaN (as torch.relu) in the tail too, not 0.
            for (; i < n; i++) y[i] = MathF.Max(x[i], 0f);
        }

        /// <summary>dx = y &gt; 0 ? dy : 0 (from the output y); dx may alias dy.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void ReluBackward(float* y, float* dy, float* dx, int n)
        {
            int i = 0;
            for (; i + V <= n; i += V)
            {
                var mask = Vector256.GreaterThan(Vector256.Load(y + i), Vector256<float>.Zero);
                Vector256.BitwiseAnd(mask, Vector256.Load(dy + i)).Store(dx + i);
            }
            for (; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
        }

        // ---- LeakyReLU ---------------------------------------------------------------------------------
        /// <summary>y = x &gt; 0 ? x : slope·x; y may alias x.</summary>
        public static void LeakyRelu(float* x, float* y, int n, float slope)
        {
            var s = Vector256.Create(slope);
            int i = 0;
            for (; i + V <= n; i += V)
            {
                var v = Vector256.Load(x + i);
                Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, Vector256.Multiply(v, s)).Store(y + i);
            }
            for (; i < n; i++) y[i] = x[i] > 0 ? x[i] : slope * x[i];
        }

        /// <summary>dx = x &gt; 0 ? dy : slope·dy (from the input x); dx may alias dy.</summary>
        public static void LeakyReluBackward(float* x, float* dy, float* dx, int n, float slope)
        {
            var s = Vector256.Create(slope);
            int i = 0;
            for (; i + V <= n; i += V)
            {
                var g = Vector256.Load(dy + i);
                Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(x + i), Vector256<float>.Zero), g, Vector256.Multiply(g, s)).Store(dx + i);
            }
            for (; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : slope * dy[i];
        }

        // ---- ELU, Sigmoid, Tanh ------------------------------------------------------------------------
        /// <summary>y = x &gt; 0 ? x : alpha·(exp(x) − 1).</summary>
        public static void Elu(float* x, float* y, int n, float alpha)
        {
            for (int i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : alpha * (MathF.Exp(x[i]) - 1f);
        }

        /// <summary>dx = x &gt; 0 ? dy : dy·(y + alpha).</summary>
        public static void EluBackward(float* x, float* y, float* dy, float* dx, int n, float alpha)
        {
            for (int i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha);
        }

        /// <summary>y = 1 / (1 + exp(−x)).</summary>
        public static void Sigmoid(float* x, float* y, int n)
        {
            for (int i = 0; i < n; i++) y[i] = 1f / (1f + MathF.Exp(-x[i]));
        }

        /// <summary>dx = dy·y·(1 − y).</summary>
        public static void SigmoidBackward(float* y, float* dy, float* dx, int n)
        {
            for (int i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1f - y[i]);
        }

        /// <summary>y = tanh(x).</summary>
        public static void Tanh(float* x, float* y, int n)
        {
            for (int i = 0; i < n; i++) y[i] = MathF.Tanh(x[i]);
        }

        /// <summary>dx = dy·(1 − y²).</summary>
        public static void TanhBackward(float* y, float* dy, float* dx, int n)
        {
            for (int i = 0; i < n; i++) dx[i] = dy[i] * (1f - y[i] * y[i]);
        }

        // ---- Softmax, LogSoftmax over each row ---------------------------------------------------------
        /// <summary>Stable softmax of each row of a [rows, cols] block.</summary>
        public static void Softmax(float* x, float* y, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
            {
                float* xr = x + (long)r * cols, yr = y + (long)r * cols;
                float max = float.NegativeInfinity;
                for (int i = 0; i < cols; i++) max = MathF.Max(max, xr[i]);
                double sum = 0;
                for (int i = 0; i < cols; i++) { yr[i] = MathF.Exp(xr[i] - max); sum += yr[i]; }
                float inv = (float)(1.0 / sum);
                for (int i = 0; i < cols; i++) yr[i] *= inv;
            }
        }

        /// <summary>dx = y·(dy − Σ dy·y) per row.</summary>
        public static void SoftmaxBackward(float* y, float* dy, float* dx, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
            {
                float* yr = y + (long)r * cols, dyr = dy + (long)r * cols, dxr = dx + (long)r * cols;
                double dot = 0;
                for (int i = 0; i < cols; i++) dot += dyr[i] * yr[i];
                for (int i = 0; i < cols; i++) dxr[i] = yr[i] * (dyr[i] - (float)dot);
            }
        }

        /// <summary>Stable log-softmax of each row.</summary>
        public static void LogSoftmax(float* x, float* y, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
            {
                float* xr = x + (long)r * cols, yr = y + (long)r * cols;
                float max = float.NegativeInfinity;
                for (int i = 0; i < cols; i++) max = MathF.Max(max, xr[i]);
                double sum = 0;
                for (int i = 0; i < cols; i++) sum += Math.Exp(xr[i] - max);
                // (x − max) − log Σ as PyTorch computes it: forming max + log Σ first would round it to the ulp of
                // max and lose the result's precision for large logits (|x| ≈ 1000: errors of 3e-5; 1e30: log 2 lost).
                float logSum = (float)Math.Log(sum);
                for (int i = 0; i < cols; i++) yr[i] = (xr[i] - max) - logSum;
            }
        }

        /// <summary>dx = dy − exp(y)·Σ dy per row.</summary>
        public static void LogSoftmaxBackward(float* y, float* dy, float* dx, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
            {
                float* yr = y + (long)r * cols, dyr = dy + (long)r * cols, dxr = dx + (long)r * cols;
                double sum = 0;
                for (int i = 0; i < cols; i++) sum += dyr[i];
                for (int i = 0; i < cols; i++) dxr[i] = dyr[i] - MathF.Exp(yr[i]) * (float)sum;
            }
        }

        // ---- Dropout -----------------------------------------------------------------------------------
        /// <summary>
        /// Training-mode dropout: each of the n groups of <paramref name="groupSize"/> elements is kept with
        /// probability 1 − p and scaled by 1/(1 − p), or zeroed. mask[g] records the factor (0 or 1/(1−p)).
        /// groupSize 1 is nn.Dropout; H·W is nn.Dropout2d (whole channels).
        /// </summary>
        public static void DropoutForward(float* x, float* y, float* mask, int groups, int groupSize, float p, Rng rng)
        {
            float scale = 1f / (1f - p);
            for (int g = 0; g < groups; g++)
            {
                float f = rng.NextFloat() < p ? 0f : scale;
                mask[g] = f;
                float* xs = x + (long)g * groupSize, ys = y + (long)g * groupSize;
                for (int i = 0; i < groupSize; i++) ys[i] = xs[i] * f;
            }
        }

        /// <summary>dx = dy·mask (per group); dx may alias dy.</summary>
        public static void DropoutBackward(float* mask, float* dy, float* dx, int groups, int groupSize)
        {
            for (int g = 0; g < groups; g++)
            {
                float f = mask[g];
                float* d = dy + (long)g * groupSize, o = dx + (long)g * groupSize;
                for (int i = 0; i < groupSize; i++) o[i] = d[i] * f;
            }
        }
    }
}

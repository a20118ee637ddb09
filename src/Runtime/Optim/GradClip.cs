using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Optim
{
    /// <summary>Gradient clipping over the flat gradient array.</summary>
    public static class GradClip
    {
        /// <summary>
        /// Scales <paramref name="gradients"/> in place so their L2 norm is at most <paramref name="maxNorm"/>, as
        /// <c>torch.nn.utils.clip_grad_norm_(params, maxNorm)</c> (1.13): <c>coef = maxNorm / (norm + 1e-6)</c>, clamped to
        /// at most 1, multiplies every gradient. Returns the total norm before clipping.
        /// </summary>
        /// <param name="gradients">The gradients of all parameters (one flat array).</param>
        /// <param name="maxNorm">The largest allowed L2 norm.</param>
        /// <returns>The L2 norm of <paramref name="gradients"/> before clipping.</returns>
        public static float ClipByNorm(Span<float> gradients, float maxNorm)
        {
            if (float.IsNaN(maxNorm) || maxNorm < 0f)
                throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be >= 0.");
            float norm = L2Norm(gradients);
            // torch: max_norm / (total_norm + 1e-6) is a Python scalar over a float32 tensor: reciprocal() * max_norm
            float coef = 1f / (norm + 1e-6f) * maxNorm;
            if (!(coef >= 1f)) // clamp(max=1); a NaN coefficient (NaN/inf norm) propagates, as in torch
                Scale(gradients, coef);
            return norm;
        }

        /// <summary>The L2 norm of <paramref name="values"/>, accumulated in double precision.</summary>
        /// <param name="values">The values.</param>
        /// <returns>sqrt(sum of squares), rounded to float.</returns>
        public static float L2Norm(ReadOnlySpan<float> values)
        {
            ref float x = ref MemoryMarshal.GetReference(values);
            int n = values.Length;
            int i = 0;
            double sum = 0;
            if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
            {
                Vector<double> acc0 = Vector<double>.Zero, acc1 = Vector<double>.Zero;
                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                {
                    Vector.Widen(Vector.LoadUnsafe(ref x, (nuint)i), out Vector<double> lo, out Vector<double> hi);
                    acc0 += lo * lo;
                    acc1 += hi * hi;
                }
                sum = Vector.Sum(acc0 + acc1);
            }
            for (; i < n; i++)
            {
                double v = Unsafe.Add(ref x, i);
                sum += v * v;
            }
            return (float)Math.Sqrt(sum);
        }

        private static void Scale(Span<float> values, float factor)
        {
            ref float x = ref MemoryMarshal.GetReference(values);
            int n = values.Length;
            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var f = new Vector<float>(factor);
                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                    Vector.StoreUnsafe(Vector.LoadUnsafe(ref x, (nuint)i) * f, ref x, (nuint)i);
            }
            for (; i < n; i++)
                Unsafe.Add(ref x, i) *= factor;
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Element-wise kernels of the activations of issue 14: GELU (exact erf form and tanh approximation), Hardswish and
    /// Hardsigmoid, forward and backward, with the conventions of <see cref="LayerOps.Silu"/>: forward y = f(x), x and y
    /// may alias; backward dx = dy·f'(x) takes the forward INPUT x, and dx may alias dy.
    /// <para>
    /// Vector512 where <see cref="Gemm.UseVector512"/> says so (these kernels are compute-bound: exp, erf, a division),
    /// else Vector256. The last n mod 8 elements run through the same Vector256 code on a zero-padded copy, so every
    /// element gets the same bits wherever it sits, and both widths agree bit for bit.
    /// </para>
    /// <para>
    /// Semantics follow PyTorch 1.13's vectorized CPU kernels (the path every element of a tensor takes except the last
    /// n mod 16 floats, whose scalar path differs in two places, noted below): NaN inputs give NaN outputs; GELU's
    /// gradient at ±∞ is NaN (∞·0), as PyTorch's; Hardswish'(−3) = −0.5 and Hardswish'(3) = 1 (the right derivative),
    /// Hardsigmoid'(±3) = 0. Accuracy against float64 math: tests/Runtime.Tests/Kernels/ActivationOpsTests.cs.
    /// </para>
    /// </summary>
    public static unsafe class ActivationOps
    {
        private const int V = 8, W = 16;

        // GELU: x·Φ(x), Φ(x) = (1 + erf(x/√2))/2, Φ'(x) = φ(x) = e^(−x²/2)/√(2π).
        private const float SqrtHalf = 0.70710678118654752f, InvSqrt2Pi = 0.39894228040143268f;
        // GELU tanh: x·(1 + tanh(k/2))/2 = x·σ(k), k = x·(C1 + C2·x²), C1 = 2·√(2/π), C2 = C1·0.044715.
        private const float C1 = 1.5957691216057308f, C2 = 0.071354816272877f, C2x3 = 0.214064448818631f;

        // ---- GELU, exact ------------------------------------------------------------------------------------
        /// <summary>y = x·(1 + erf(x/√2))/2, as PyTorch's <c>nn.GELU()</c>; x and y may alias.</summary>
        public static void Gelu(float* x, float* y, int n) => Map<GeluOp>(x, y, n, Gemm.UseVector512);

        /// <summary>dx = dy·(Φ(x) + x·φ(x)) for the forward input x; dx may alias dy.</summary>
        public static void GeluBackward(float* x, float* dy, float* dx, int n) => Map2<GeluGradOp>(x, dy, dx, n, Gemm.UseVector512);

        // ---- GELU, tanh approximation -----------------------------------------------------------------------
        /// <summary>
        /// y = x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2, as PyTorch's <c>nn.GELU(approximate='tanh')</c>, computed as the
        /// equal x·σ(2·√(2/π)·(x + 0.044715·x³)) (no cancellation for negative x); x and y may alias.
        /// </summary>
        public static void GeluTanh(float* x, float* y, int n) => Map<GeluTanhOp>(x, y, n, Gemm.UseVector512);

        /// <summary>
        /// dx = dy·(σ(k) + x·σ(k)·(1 − σ(k))·k'), k = x·(C1 + C2·x²), k' = C1 + 3·C2·x², for the forward input x; dx may
        /// alias dy. For finite |x| ≥ 20 the gradient is exactly dy or 0; PyTorch's float32 kernel gives NaN there once x²
        /// overflows (|x| &gt; 1.8e19), its float64 kernel the same limits as this one.
        /// </summary>
        public static void GeluTanhBackward(float* x, float* dy, float* dx, int n) =>
            Map2<GeluTanhGradOp>(x, dy, dx, n, Gemm.UseVector512);

        // ---- Hardswish ----------------------------------------------------------------------------------------
        /// <summary>y = x·min(max(x + 3, 0), 6)/6, as PyTorch's <c>nn.Hardswish()</c> (−∞ gives NaN, as there); x and y may alias.</summary>
        public static void Hardswish(float* x, float* y, int n) => Map<HardswishOp>(x, y, n, Gemm.UseVector512);

        /// <summary>
        /// dx = 0 for x &lt; −3, dy for x ≥ 3, else dy·(x/3 + 0.5) (NaN for NaN x): PyTorch 1.13's vectorized
        /// hardswish_backward. (Its scalar tail path uses x ≤ 3, giving 1.5·dy at exactly 3, and dy for NaN x.)
        /// </summary>
        public static void HardswishBackward(float* x, float* dy, float* dx, int n) =>
            Map2<HardswishGradOp>(x, dy, dx, n, Gemm.UseVector512);

        // ---- Hardsigmoid --------------------------------------------------------------------------------------
        /// <summary>y = min(max(x + 3, 0), 6)/6, as PyTorch's <c>nn.Hardsigmoid()</c>; x and y may alias.</summary>
        public static void Hardsigmoid(float* x, float* y, int n) => Map<HardsigmoidOp>(x, y, n, Gemm.UseVector512);

        /// <summary>dx = −3 &lt; x &lt; 3 ? dy/6 : 0 (PyTorch's hardsigmoid_backward: no gradient at ±3, 0 for NaN x).</summary>
        public static void HardsigmoidBackward(float* x, float* dy, float* dx, int n) =>
            Map2<HardsigmoidGradOp>(x, dy, dx, n, Gemm.UseVector512);

        // ---- SiLU ---------------------------------------------------------------------------------------------
        /// <summary>y = x·σ(x) = x/(1 + e^(−x)), as PyTorch's <c>nn.SiLU()</c>; x and y may alias.</summary>
        public static void Silu(float* x, float* y, int n) => Map<SiluOp>(x, y, n, Gemm.UseVector512);

        /// <summary>dx = dy·s·(1 + x·(1 − s)), s = σ(x), for the forward input x; dx may alias dy.</summary>
        public static void SiluBackward(float* x, float* dy, float* dx, int n) => Map2<SiluGradOp>(x, dy, dx, n, Gemm.UseVector512);

        /// <summary>y[i] = SiLU(y[i] + bias): a folded convolution's bias and the SiLU after it in one pass, the same bits as the two passes.</summary>
        public static void AddBiasSilu(float* y, float bias, int n) => AddBiasSilu(y, bias, n, Gemm.UseVector512);

        // ---- explicit vector width (the tests run both in one process) ----------------------------------------
        internal static void AddBiasSilu(float* y, float bias, int n, bool wide)
        {
            int i = 0;
            if (wide)
            {
                var b16 = Vector512.Create(bias);
                for (; i + W <= n; i += W) SiluOp.F(Vector512.Load(y + i) + b16).Store(y + i);
            }
            var b8 = Vector256.Create(bias);
            for (; i + V <= n; i += V) SiluOp.F(Vector256.Load(y + i) + b8).Store(y + i);
            if (i < n) StoreTail(SiluOp.F(LoadTail(y + i, n - i) + b8), y + i, n - i);
        }

        internal static void Silu(float* x, float* y, int n, bool wide) => Map<SiluOp>(x, y, n, wide);
        internal static void SiluBackward(float* x, float* dy, float* dx, int n, bool wide) => Map2<SiluGradOp>(x, dy, dx, n, wide);
        internal static void Gelu(float* x, float* y, int n, bool wide) => Map<GeluOp>(x, y, n, wide);
        internal static void GeluBackward(float* x, float* dy, float* dx, int n, bool wide) => Map2<GeluGradOp>(x, dy, dx, n, wide);
        internal static void GeluTanh(float* x, float* y, int n, bool wide) => Map<GeluTanhOp>(x, y, n, wide);
        internal static void GeluTanhBackward(float* x, float* dy, float* dx, int n, bool wide) => Map2<GeluTanhGradOp>(x, dy, dx, n, wide);
        internal static void Hardswish(float* x, float* y, int n, bool wide) => Map<HardswishOp>(x, y, n, wide);
        internal static void HardswishBackward(float* x, float* dy, float* dx, int n, bool wide) => Map2<HardswishGradOp>(x, dy, dx, n, wide);
        internal static void Hardsigmoid(float* x, float* y, int n, bool wide) => Map<HardsigmoidOp>(x, y, n, wide);
        internal static void HardsigmoidBackward(float* x, float* dy, float* dx, int n, bool wide) =>
            Map2<HardsigmoidGradOp>(x, dy, dx, n, wide);
        /// <summary>y = erf(x) with the kernels' float erf.</summary>
        internal static void Erf(float* x, float* y, int n, bool wide) => Map<ErfOp>(x, y, n, wide);
        /// <summary>y = 1 + erf(x) with the kernels' float erf.</summary>
        internal static void OnePlusErf(float* x, float* y, int n, bool wide) => Map<OnePlusErfOp>(x, y, n, wide);
        /// <summary>y = e^x with the kernels' float exp.</summary>
        internal static void Exp(float* x, float* y, int n, bool wide) => Map<ExpOp>(x, y, n, wide);

        // ---- loops --------------------------------------------------------------------------------------------
        private interface IUnary
        {
            static abstract Vector256<float> F(Vector256<float> x);
            static abstract Vector512<float> F(Vector512<float> x);
        }

        private interface IBinary
        {
            static abstract Vector256<float> F(Vector256<float> x, Vector256<float> dy);
            static abstract Vector512<float> F(Vector512<float> x, Vector512<float> dy);
        }

        private static void Map<T>(float* x, float* y, int n, bool wide) where T : struct, IUnary
        {
            int i = 0;
            if (wide) for (; i + W <= n; i += W) T.F(Vector512.Load(x + i)).Store(y + i);
            for (; i + V <= n; i += V) T.F(Vector256.Load(x + i)).Store(y + i);
            if (i < n) StoreTail(T.F(LoadTail(x + i, n - i)), y + i, n - i);
        }

        private static void Map2<T>(float* x, float* dy, float* dx, int n, bool wide) where T : struct, IBinary
        {
            int i = 0;
            if (wide) for (; i + W <= n; i += W) T.F(Vector512.Load(x + i), Vector512.Load(dy + i)).Store(dx + i);
            for (; i + V <= n; i += V) T.F(Vector256.Load(x + i), Vector256.Load(dy + i)).Store(dx + i);
            if (i < n) StoreTail(T.F(LoadTail(x + i, n - i), LoadTail(dy + i, n - i)), dx + i, n - i);
        }

        /// <summary>The first <paramref name="count"/> (&lt; 8) floats at p, zero-padded; reads nothing beyond them.</summary>
        private static Vector256<float> LoadTail(float* p, int count)
        {
            Vector256<float> v = Vector256<float>.Zero;
            float* b = (float*)&v;
            for (int k = 0; k < count; k++) b[k] = p[k];
            return v;
        }

        private static void StoreTail(Vector256<float> v, float* p, int count)
        {
            float* b = (float*)&v;
            for (int k = 0; k < count; k++) p[k] = b[k];
        }

        // ---- per-lane functions -------------------------------------------------------------------------------
        private struct GeluOp : IUnary
        {
            public static Vector256<float> F(Vector256<float> x) =>
                Vector256.Create(0.5f) * x * ActivationMath.OnePlusErf(x * Vector256.Create(SqrtHalf));
            public static Vector512<float> F(Vector512<float> x) =>
                Vector512.Create(0.5f) * x * ActivationMath.OnePlusErf(x * Vector512.Create(SqrtHalf));
        }

        private struct GeluGradOp : IBinary
        {
            public static Vector256<float> F(Vector256<float> x, Vector256<float> dy)
            {
                Vector256<float> cdf = Vector256.Create(0.5f) * ActivationMath.OnePlusErf(x * Vector256.Create(SqrtHalf));
                Vector256<float> pdf = ActivationMath.Exp(Vector256.Create(-0.5f) * x * x) * Vector256.Create(InvSqrt2Pi);
                return dy * Vector256.FusedMultiplyAdd(x, pdf, cdf); // x·pdf is ∞·0 = NaN at ±∞, as PyTorch's
            }

            public static Vector512<float> F(Vector512<float> x, Vector512<float> dy)
            {
                Vector512<float> cdf = Vector512.Create(0.5f) * ActivationMath.OnePlusErf(x * Vector512.Create(SqrtHalf));
                Vector512<float> pdf = ActivationMath.Exp(Vector512.Create(-0.5f) * x * x) * Vector512.Create(InvSqrt2Pi);
                return dy * Vector512.FusedMultiplyAdd(x, pdf, cdf);
            }
        }

        private struct GeluTanhOp : IUnary
        {
            public static Vector256<float> F(Vector256<float> x)
            {
                Vector256<float> k = x * Vector256.FusedMultiplyAdd(Vector256.Create(C2), x * x, Vector256.Create(C1));
                return x / (Vector256<float>.One + ActivationMath.Exp(-k)); // −∞: −∞/∞ = NaN, as PyTorch's −∞·0
            }

            public static Vector512<float> F(Vector512<float> x)
            {
                Vector512<float> k = x * Vector512.FusedMultiplyAdd(Vector512.Create(C2), x * x, Vector512.Create(C1));
                return x / (Vector512<float>.One + ActivationMath.Exp(-k));
            }
        }

        private struct GeluTanhGradOp : IBinary
        {
            public static Vector256<float> F(Vector256<float> x, Vector256<float> dy)
            {
                Vector256<float> k = x * Vector256.FusedMultiplyAdd(Vector256.Create(C2), x * x, Vector256.Create(C1));
                // σ(1 − σ) = s·s·e; capping e keeps it 0 rather than 0·∞ where e overflows (s·s underflows to 0 long before).
                Vector256<float> e = ActivationMath.Exp(-k);
                Vector256<float> s = Vector256<float>.One / (Vector256<float>.One + e);
                Vector256<float> q = s * s * Vector256.Min(e, Vector256.Create(1e30f));
                // σ(1 − σ) is exactly 0 for |x| ≥ 20; clamping x in k' keeps it finite where x² would overflow.
                Vector256<float> xc = Vector256.Min(Vector256.Max(x, Vector256.Create(-20f)), Vector256.Create(20f));
                Vector256<float> kp = Vector256.FusedMultiplyAdd(Vector256.Create(C2x3), xc * xc, Vector256.Create(C1));
                return dy * Vector256.FusedMultiplyAdd(x * q, kp, s); // x·q is ∞·0 = NaN at ±∞, as PyTorch's
            }

            public static Vector512<float> F(Vector512<float> x, Vector512<float> dy)
            {
                Vector512<float> k = x * Vector512.FusedMultiplyAdd(Vector512.Create(C2), x * x, Vector512.Create(C1));
                Vector512<float> e = ActivationMath.Exp(-k);
                Vector512<float> s = Vector512<float>.One / (Vector512<float>.One + e);
                Vector512<float> q = s * s * Vector512.Min(e, Vector512.Create(1e30f));
                Vector512<float> xc = Vector512.Min(Vector512.Max(x, Vector512.Create(-20f)), Vector512.Create(20f));
                Vector512<float> kp = Vector512.FusedMultiplyAdd(Vector512.Create(C2x3), xc * xc, Vector512.Create(C1));
                return dy * Vector512.FusedMultiplyAdd(x * q, kp, s);
            }
        }

        // PyTorch divides by 6 and 3 (rather than multiplying by a rounded reciprocal); so do these, for the same bits.
        private struct HardswishOp : IUnary
        {
            public static Vector256<float> F(Vector256<float> x) =>
                x * Vector256.Min(Vector256.Max(x + Vector256.Create(3f), Vector256<float>.Zero), Vector256.Create(6f)) / Vector256.Create(6f);
            public static Vector512<float> F(Vector512<float> x) =>
                x * Vector512.Min(Vector512.Max(x + Vector512.Create(3f), Vector512<float>.Zero), Vector512.Create(6f)) / Vector512.Create(6f);
        }

        private struct HardswishGradOp : IBinary
        {
            public static Vector256<float> F(Vector256<float> x, Vector256<float> dy)
            {
                Vector256<float> mid = dy * (x / Vector256.Create(3f) + Vector256.Create(0.5f));
                Vector256<float> r = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256.Create(3f)), dy, mid);
                return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-3f)), Vector256<float>.Zero, r);
            }

            public static Vector512<float> F(Vector512<float> x, Vector512<float> dy)
            {
                Vector512<float> mid = dy * (x / Vector512.Create(3f) + Vector512.Create(0.5f));
                Vector512<float> r = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512.Create(3f)), dy, mid);
                return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-3f)), Vector512<float>.Zero, r);
            }
        }

        private struct HardsigmoidOp : IUnary
        {
            public static Vector256<float> F(Vector256<float> x) =>
                Vector256.Min(Vector256.Max(x + Vector256.Create(3f), Vector256<float>.Zero), Vector256.Create(6f)) / Vector256.Create(6f);
            public static Vector512<float> F(Vector512<float> x) =>
                Vector512.Min(Vector512.Max(x + Vector512.Create(3f), Vector512<float>.Zero), Vector512.Create(6f)) / Vector512.Create(6f);
        }

        private struct HardsigmoidGradOp : IBinary
        {
            public static Vector256<float> F(Vector256<float> x, Vector256<float> dy)
            {
                Vector256<float> inside = Vector256.GreaterThan(x, Vector256.Create(-3f)) & Vector256.LessThan(x, Vector256.Create(3f));
                return Vector256.ConditionalSelect(inside, dy * Vector256.Create(1f / 6f), Vector256<float>.Zero);
            }

            public static Vector512<float> F(Vector512<float> x, Vector512<float> dy)
            {
                Vector512<float> inside = Vector512.GreaterThan(x, Vector512.Create(-3f)) & Vector512.LessThan(x, Vector512.Create(3f));
                return Vector512.ConditionalSelect(inside, dy * Vector512.Create(1f / 6f), Vector512<float>.Zero);
            }
        }

        // x/(1 + e^(−x)): e^(−x) overflows to ∞ for x < −88.7, giving −0 (and NaN at x = −∞: ∞/∞), as the scalar form.
        internal struct SiluOp : IUnary
        {
            public static Vector256<float> F(Vector256<float> x) => x / (Vector256.Create(1f) + ActivationMath.Exp(-x));
            public static Vector512<float> F(Vector512<float> x) => x / (Vector512.Create(1f) + ActivationMath.Exp(-x));
        }

        private struct SiluGradOp : IBinary
        {
            public static Vector256<float> F(Vector256<float> x, Vector256<float> dy)
            {
                Vector256<float> one = Vector256.Create(1f), s = one / (one + ActivationMath.Exp(-x));
                return dy * s * Vector256.FusedMultiplyAdd(x, one - s, one);
            }

            public static Vector512<float> F(Vector512<float> x, Vector512<float> dy)
            {
                Vector512<float> one = Vector512.Create(1f), s = one / (one + ActivationMath.Exp(-x));
                return dy * s * Vector512.FusedMultiplyAdd(x, one - s, one);
            }
        }

        private struct ErfOp : IUnary
        {
            public static Vector256<float> F(Vector256<float> x) => ActivationMath.Erf(x);
            public static Vector512<float> F(Vector512<float> x) => ActivationMath.Erf(x);
        }

        private struct OnePlusErfOp : IUnary
        {
            public static Vector256<float> F(Vector256<float> x) => ActivationMath.OnePlusErf(x);
            public static Vector512<float> F(Vector512<float> x) => ActivationMath.OnePlusErf(x);
        }

        private struct ExpOp : IUnary
        {
            public static Vector256<float> F(Vector256<float> x) => ActivationMath.Exp(x);
            public static Vector512<float> F(Vector512<float> x) => ActivationMath.Exp(x);
        }
    }
}

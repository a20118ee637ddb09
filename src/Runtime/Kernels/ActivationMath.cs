using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Lane-wise float math for <see cref="ActivationOps"/>: exp and erf (and 1 + erf, without its cancellation), written
    /// once per vector width (Vector256, Vector512) with the same formulas and constants, so both widths give the same
    /// bits. NaN lanes stay NaN. tests/Runtime.Tests/Kernels/ActivationMathTests.cs measures every function against
    /// float64 (max errors measured there: exp 1 ulp, erf 7.7e-8 relative, 1 + erf 3.7e-7 relative down to 1e-38).
    /// </summary>
    internal static class ActivationMath
    {
        // ---- exp --------------------------------------------------------------------------------------------
        // exp(x) = 2^n · exp(r), n = round(x·log2 e), r = x − n·ln 2 in two parts (Cody–Waite: n·Ln2Hi is exact),
        // |r| ≤ ln 2 / 2; exp(r) = 1 + r + r²·p(r), p of degree 5: Cephes' expf polynomial (S. L. Moshier, Cephes Math
        // Library, expf.c). 2^n is applied as two factors 2^(n/2)·2^(n − n/2), so that n in [−150, 129] (x clamped to
        // [−104, 89]) gives subnormal results, 0 and +∞ correctly; with AVX-512 as one scalef (vscalefps), which rounds
        // the same exact product once: the same bits (ActivationMathTests.OneScalefEqualsTwoFactors), 8 fewer operations.
        private const float ExpMin = -104f, ExpMax = 89f;
        private const float Log2E = 1.44269504088896341f;
        private const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
        private const float Round = 12582912f; // 1.5·2^23: adding it rounds to an integer, held in the low mantissa bits
        private const float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f;
        private const float E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;

        // ---- erf --------------------------------------------------------------------------------------------
        // |x| < 1: erf(x) = x·P(x²), P of degree 6, a minimax fit of erf(x)/x with relative error 1.5e-9 in exact
        // arithmetic (tools/golden/fit_erf.py made the coefficients); P0 = 2/√π is carried as hi + lo and x·P0Hi is
        // the last fused multiply-add, so the result is rounded about once.
        // |x| ≥ 1: erfc(z) = t·exp(−z² + Q(t)), z = |x|, t = 1/(1 + z/2): W. H. Press et al., Numerical Recipes in C, 2nd
        // ed., §6.2, function erfcc (a Chebyshev fit; fractional error below 1.2e-7 for every z ≥ 0, measured 1.05e-7),
        // so erf = 1 − erfc has error ≤ 1.7e-8 there. −z² + Q(t) reaches −100; rounded to one float it would cost up to
        // half an ulp of 100 (4e-6) relative in erfc, so z² is split as zh² (exact: zh keeps 12 significant bits of z)
        // plus (z − zh)(z + zh), and exp takes the sum as hi + lo (ExpCore).
        private const float P0Hi = 1.128379225730896f, P0Lo = -5.8635382771399236e-08f;
        private const float P1 = -0.3761262893676758f, P2 = 0.11283603310585022f, P3 = -0.026854202151298523f;
        private const float P4 = 0.005188598297536373f, P5 = -0.0008009398588910699f, P6 = 7.842548802727833e-05f;
        private const float Q0 = -1.26551223f, Q1 = 1.00002368f, Q2 = 0.37409196f, Q3 = 0.09678418f, Q4 = -0.18628806f;
        private const float Q5 = 0.27886807f, Q6 = -1.13520398f, Q7 = 1.48851587f, Q8 = -0.82215223f, Q9 = 0.17087277f;
        private const float ErfcZMax = 10f; // erfc(10) = 2.1e-45, the smallest float subnormal: 0 beyond
        private const int Keep12Bits = unchecked((int)0xFFFFF000);

        // ================================================ Vector256 ================================================

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Poly(Vector256<float> x, float c0, float c1, float c2, float c3, float c4, float c5) =>
            Fma(Fma(Fma(Fma(Fma(Vector256.Create(c5), x, Vector256.Create(c4)), x, Vector256.Create(c3)), x,
                Vector256.Create(c2)), x, Vector256.Create(c1)), x, Vector256.Create(c0));

        /// <summary>e^x per lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Exp(Vector256<float> x) =>
            ExpCore(Vector256.Min(Vector256.Max(x, Vector256.Create(ExpMin)), Vector256.Create(ExpMax)), Vector256<float>.Zero); // NaN stays NaN

        /// <summary>e^(hi + lo) for hi + lo in [ExpMin, ExpMax] and small lo: r = hi − n·ln 2 is exact, lo joins it after.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> ExpCore(Vector256<float> hi, Vector256<float> lo)
        {
            Vector256<float> t = Fma(hi + lo, Vector256.Create(Log2E), Vector256.Create(Round));
            Vector256<float> n = t - Vector256.Create(Round);
            Vector256<int> ni = t.AsInt32() - Vector256.Create(Round).AsInt32();
            Vector256<float> r = Fma(n, Vector256.Create(-Ln2Hi), hi);
            r = Fma(n, Vector256.Create(-Ln2Lo), r) + lo;
            Vector256<float> p = Poly(r, E5, E4, E3, E2, E1, E0);
            Vector256<float> e = Fma(p, r * r, r) + Vector256<float>.One;
            if (Avx512F.IsSupported) return Avx512F.VL.Scale(e, n); // e·2^n rounded once: the same bits as the two factors below
            Vector256<int> half = Vector256.ShiftRightArithmetic(ni, 1);
            Vector256<float> s1 = Vector256.ShiftLeft(half + Vector256.Create(127), 23).AsSingle();
            Vector256<float> s2 = Vector256.ShiftLeft(ni - half + Vector256.Create(127), 23).AsSingle();
            return e * s1 * s2;
        }

        /// <summary>erfc(z) for z = |x| ≥ 0 (Numerical Recipes' erfcc; accurate for z ≥ 1, where it is used), 0 beyond 10.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Erfc(Vector256<float> z)
        {
            Vector256<float> zc = Vector256.Min(z, Vector256.Create(ErfcZMax));
            Vector256<float> t = Vector256<float>.One / Fma(zc, Vector256.Create(0.5f), Vector256<float>.One);
            Vector256<float> q = Poly(t, Q4, Q5, Q6, Q7, Q8, Q9);
            q = Fma(Fma(Fma(Fma(q, t, Vector256.Create(Q3)), t, Vector256.Create(Q2)), t, Vector256.Create(Q1)), t, Vector256.Create(Q0));
            Vector256<float> zh = (zc.AsInt32() & Vector256.Create(Keep12Bits)).AsSingle();
            Vector256<float> lo = Fma(zh - zc, zc + zh, q); // −z² + Q = −zh² + (zh − z)(z + zh) + Q
            Vector256<float> c = t * ExpCore(-(zh * zh), lo);
            return Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256.Create(ErfcZMax)), Vector256<float>.Zero, c);
        }

        /// <summary>x·P(x²): erf(x) for |x| &lt; 1.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> ErfSmall(Vector256<float> x)
        {
            Vector256<float> x2 = x * x;
            Vector256<float> p = Fma(Poly(x2, P1, P2, P3, P4, P5, P6), x2, Vector256.Create(P0Lo));
            return Vector256.CopySign(Fma(x, Vector256.Create(P0Hi), x * p), x); // erf(−0) = −0
        }

        /// <summary>erf(x) per lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Erf(Vector256<float> x)
        {
            Vector256<float> z = Vector256.Abs(x);
            Vector256<float> big = Vector256<float>.One - Erfc(z);
            big = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -big, big);
            return Vector256.ConditionalSelect(Vector256.LessThan(z, Vector256<float>.One), ErfSmall(x), big);
        }

        /// <summary>
        /// 1 + erf(x) per lane: erfc(|x|) itself for x ≤ −0.5 (no cancellation: small values keep their relative
        /// accuracy), x·P(x²) + 1 on (−0.5, 1), 2 − erfc(x) from 1 on.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> OnePlusErf(Vector256<float> x)
        {
            Vector256<float> z = Vector256.Abs(x);
            Vector256<float> c = Erfc(z);
            Vector256<float> big = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), c, Vector256.Create(2f) - c);
            Vector256<float> small = Vector256.LessThan(z, Vector256<float>.One) & Vector256.GreaterThan(x, Vector256.Create(-0.5f));
            return Vector256.ConditionalSelect(small, ErfSmall(x) + Vector256<float>.One, big);
        }

        // ================================================ Vector512 ================================================
        // The same formulas, lane for lane.

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Poly(Vector512<float> x, float c0, float c1, float c2, float c3, float c4, float c5) =>
            Fma(Fma(Fma(Fma(Fma(Vector512.Create(c5), x, Vector512.Create(c4)), x, Vector512.Create(c3)), x,
                Vector512.Create(c2)), x, Vector512.Create(c1)), x, Vector512.Create(c0));

        /// <summary>e^x per lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Exp(Vector512<float> x) =>
            ExpCore(Vector512.Min(Vector512.Max(x, Vector512.Create(ExpMin)), Vector512.Create(ExpMax)), Vector512<float>.Zero); // NaN stays NaN

        /// <summary>e^(hi + lo) for hi + lo in [ExpMin, ExpMax] and small lo: r = hi − n·ln 2 is exact, lo joins it after.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> ExpCore(Vector512<float> hi, Vector512<float> lo)
        {
            Vector512<float> t = Fma(hi + lo, Vector512.Create(Log2E), Vector512.Create(Round));
            Vector512<float> n = t - Vector512.Create(Round);
            Vector512<int> ni = t.AsInt32() - Vector512.Create(Round).AsInt32();
            Vector512<float> r = Fma(n, Vector512.Create(-Ln2Hi), hi);
            r = Fma(n, Vector512.Create(-Ln2Lo), r) + lo;
            Vector512<float> p = Poly(r, E5, E4, E3, E2, E1, E0);
            Vector512<float> e = Fma(p, r * r, r) + Vector512<float>.One;
            if (Avx512F.IsSupported) return Avx512F.Scale(e, n); // e·2^n rounded once: the same bits as the two factors below
            Vector512<int> half = Vector512.ShiftRightArithmetic(ni, 1);
            Vector512<float> s1 = Vector512.ShiftLeft(half + Vector512.Create(127), 23).AsSingle();
            Vector512<float> s2 = Vector512.ShiftLeft(ni - half + Vector512.Create(127), 23).AsSingle();
            return e * s1 * s2;
        }

        /// <summary>erfc(z) for z = |x| ≥ 0 (Numerical Recipes' erfcc; accurate for z ≥ 1, where it is used), 0 beyond 10.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Erfc(Vector512<float> z)
        {
            Vector512<float> zc = Vector512.Min(z, Vector512.Create(ErfcZMax));
            Vector512<float> t = Vector512<float>.One / Fma(zc, Vector512.Create(0.5f), Vector512<float>.One);
            Vector512<float> q = Poly(t, Q4, Q5, Q6, Q7, Q8, Q9);
            q = Fma(Fma(Fma(Fma(q, t, Vector512.Create(Q3)), t, Vector512.Create(Q2)), t, Vector512.Create(Q1)), t, Vector512.Create(Q0));
            Vector512<float> zh = (zc.AsInt32() & Vector512.Create(Keep12Bits)).AsSingle();
            Vector512<float> lo = Fma(zh - zc, zc + zh, q); // −z² + Q = −zh² + (zh − z)(z + zh) + Q
            Vector512<float> c = t * ExpCore(-(zh * zh), lo);
            return Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512.Create(ErfcZMax)), Vector512<float>.Zero, c);
        }

        /// <summary>x·P(x²): erf(x) for |x| &lt; 1.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> ErfSmall(Vector512<float> x)
        {
            Vector512<float> x2 = x * x;
            Vector512<float> p = Fma(Poly(x2, P1, P2, P3, P4, P5, P6), x2, Vector512.Create(P0Lo));
            return Vector512.CopySign(Fma(x, Vector512.Create(P0Hi), x * p), x); // erf(−0) = −0
        }

        /// <summary>erf(x) per lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Erf(Vector512<float> x)
        {
            Vector512<float> z = Vector512.Abs(x);
            Vector512<float> big = Vector512<float>.One - Erfc(z);
            big = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -big, big);
            return Vector512.ConditionalSelect(Vector512.LessThan(z, Vector512<float>.One), ErfSmall(x), big);
        }

        /// <summary>
        /// 1 + erf(x) per lane: erfc(|x|) itself for x ≤ −0.5 (no cancellation: small values keep their relative
        /// accuracy), x·P(x²) + 1 on (−0.5, 1), 2 − erfc(x) from 1 on.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> OnePlusErf(Vector512<float> x)
        {
            Vector512<float> z = Vector512.Abs(x);
            Vector512<float> c = Erfc(z);
            Vector512<float> big = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), c, Vector512.Create(2f) - c);
            Vector512<float> small = Vector512.LessThan(z, Vector512<float>.One) & Vector512.GreaterThan(x, Vector512.Create(-0.5f));
            return Vector512.ConditionalSelect(small, ErfSmall(x) + Vector512<float>.One, big);
        }
    }
}

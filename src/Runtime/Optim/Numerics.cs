using System;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Optim
{
    /// <summary>Arithmetic shared by the optimizer kernels, so the vector body and the scalar tail agree bit for bit.</summary>
    internal static class Numerics
    {
        /// <summary>Whether a*b+c is fused (one rounding) on this machine, as PyTorch's AVX2/NEON kernels do.</summary>
        public static bool FusedAvailable
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Fma.IsSupported || AdvSimd.IsSupported;
        }

        /// <summary>a * b + c, fused when the hardware has FMA (same choice as the vector overload).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float MulAdd(float a, float b, float c) => FusedAvailable ? MathF.FusedMultiplyAdd(a, b, c) : a * b + c;

        /// <summary>a * b + c lane-wise, fused when the hardware has FMA (same choice as the scalar overload).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> MulAdd(Vector<float> a, Vector<float> b, Vector<float> c)
            => FusedAvailable ? Vector.FusedMultiplyAdd(a, b, c) : a * b + c;

        /// <summary>
        /// The double a user means by a float hyperparameter: the shortest decimal that round-trips the float, read as a
        /// double (0.9f → 0.9, not 0.899999976...). PyTorch's hyperparameters are Python doubles, so derived scalars
        /// such as 1 - beta2 or 1 - beta2^t come out as PyTorch computes them.
        /// </summary>
        public static double Exact(float value)
        {
            if (!float.IsFinite(value))
                return value;
            return double.Parse(value.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
        }
    }
}

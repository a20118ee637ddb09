using System;
using Xunit;

namespace CnnGen.Runtime.Tests.Reference;

/// <summary>Comparison of float32 results with a float64 reference.</summary>
internal static class RefAssert
{
    /// <summary>The largest absolute difference, relative to the largest reference magnitude, is at most <paramref name="tol"/>.</summary>
    public static void Close(string what, float[] actual, double[] expected, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxErr = 0, scale = 1e-6;
        for (int i = 0; i < expected.Length; i++)
        {
            maxErr = Math.Max(maxErr, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        Assert.True(maxErr / scale <= tol, $"{what}: relative error {maxErr / scale:E2} > {tol:E0}");
    }
}

using System;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>
/// build.sh test runs the kernel and generated-model tests twice: once as the machine allows (Vector512 tiles where
/// AVX-512 is accelerated) and once with CNNGEN_DISABLE_VECTOR512=1. This pins that the switch really selects the path.
/// </summary>
public class VectorWidthTests
{
    [Fact]
    public void Vector512TilesFollowHardwareAndSwitch()
    {
        bool disabled = Environment.GetEnvironmentVariable("CNNGEN_DISABLE_VECTOR512") == "1";
        Assert.Equal(Vector512.IsHardwareAccelerated && !disabled, Gemm.UseVector512);
    }
}

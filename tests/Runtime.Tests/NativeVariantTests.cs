using System;
using System.Runtime.Intrinsics.X86;
using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>
/// When <see cref="NativeVariant.RunBestVariant"/> switches a Native AOT binary to its AVX-512 copy, and when not.
/// (The switch itself, execve included, runs in Package.Tests' AotPublishTests against a real publish.)
/// </summary>
public class NativeVariantTests
{
    private const string Exe = "/opt/app/predict";

    private static string? Decide(bool nativeAot = true, bool unix = true, bool vector512 = false, bool cpu = true, string? path = Exe,
                                  string? disabled = null, string? started = null, bool copyExists = true) =>
        NativeVariant.VariantToRun(nativeAot, unix, vector512, cpu, path, disabled, started, p => copyExists && p == Exe + "-avx512");

    [Fact]
    public void SwitchesAnAvx2BinaryOnAnAvx512CpuToTheCopyBesideIt() => Assert.Equal(Exe + "-avx512", Decide());

    [Fact]
    public void StaysWhenNotNativeAot() => Assert.Null(Decide(nativeAot: false));

    [Fact]
    public void StaysWithoutExec() => Assert.Null(Decide(unix: false));

    [Fact]
    public void StaysWhenAlreadyUsingAvx512() => Assert.Null(Decide(vector512: true));

    [Fact]
    public void StaysWhenTheCpuLacksAvx512() => Assert.Null(Decide(cpu: false));

    [Fact]
    public void StaysWhenTheCopyIsMissing() => Assert.Null(Decide(copyExists: false));

    [Fact]
    public void StaysWhenDisabled() => Assert.Null(Decide(disabled: "1"));

    [Fact]
    public void AnyOtherValueDoesNotDisable() => Assert.Equal(Exe + "-avx512", Decide(disabled: "0"));

    [Fact]
    public void NeverLoops()
    {
        Assert.Null(Decide(started: "1"));
        Assert.Null(NativeVariant.VariantToRun(true, true, false, true, Exe + "-avx512", null, null, _ => true));
    }

    [Fact]
    public void StaysWithoutAProcessPath() => Assert.Null(Decide(path: null));

    [Fact]
    public void CpuCheckAgreesWithTheJit()
    {
        // The JIT knows the CPU's AVX-512 subsets; the CPUID check must say the same (x86-64-v4 needs F, CD, BW, DQ, VL).
        bool jit = Avx512F.IsSupported && Avx512CD.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported;
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512F") == "0" || Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0")
            return; // the JIT was told to ignore AVX-512: nothing to compare with
        Assert.Equal(jit, NativeVariant.CpuHasAvx512());
    }
}

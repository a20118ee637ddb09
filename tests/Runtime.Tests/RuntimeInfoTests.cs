using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>The once-per-process check of generated model constructors: warn when a binary lacks the CPU's AVX2.</summary>
public class RuntimeInfoTests
{
    [Fact]
    public void WarnsWhenTheCpuHasAvx2ButVector256IsNotAccelerated()
    {
        string? w = RuntimeInfo.InstructionSetWarning(x64: true, vector256: false, cpuHasAvx2: true, allowBaseline: null);
        Assert.NotNull(w);
        Assert.StartsWith("CnnGen: warning: this CPU has AVX2, but this binary was compiled without it", w);
        Assert.Contains("IlcInstructionSet=x86-64-v3", w);
        Assert.Contains("-p:IlcInstructionSet=native", w);
        Assert.Contains(RuntimeInfo.AllowBaselineVariable + "=1", w);
    }

    [Theory]
    [InlineData(true, true, true, null)]    // accelerated: nothing to say
    [InlineData(true, false, false, null)]  // the CPU has no AVX2: the binary cannot do better
    [InlineData(false, false, true, null)]  // not x64 (Arm64: AdvSimd, Vector256 is never accelerated)
    [InlineData(true, false, true, "1")]    // silenced
    public void SaysNothingOtherwise(bool x64, bool vector256, bool cpuHasAvx2, string? allow) =>
        Assert.Null(RuntimeInfo.InstructionSetWarning(x64, vector256, cpuHasAvx2, allow));

    [Fact]
    public void AnyOtherValueOfTheVariableDoesNotSilence() =>
        Assert.NotNull(RuntimeInfo.InstructionSetWarning(true, false, true, "0"));
}

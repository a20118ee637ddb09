using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Xunit;

namespace CnnGen.Package.Tests;

/// <summary>
/// A package consumer whose model has its trained weights compiled in ([Model(Weights = "tiny.safetensors")]),
/// published with Native AOT and run with no dotnet on PATH, no DOTNET_ROOT and no weights file: it must start with
/// exactly the file's weights (checked against the values this test wrote) and compute exactly what the same program
/// computes under the JIT, which must agree with a float64 reference computed here.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class AotPublishTests
{
    // Input [1, 8, 8] -> Conv2d(1, 4, 3) [4, 6, 6] -> ReLU -> MaxPool2d(2) [4, 3, 3] -> Flatten [36] -> Linear(36, 5) [5].
    private const string Program = """
        using System.Runtime.Intrinsics;
        using CnnGen;

        NativeVariant.RunBestVariant();  // AVX-512 CPU: continue in the AotApp-avx512 copy the publish left beside this one
        var model = new Tiny();          // the compiled-in weights; no file is read
        ulong hash = 14695981039346656037;
        foreach (float p in model.Parameters) hash = unchecked((hash ^ (uint)BitConverter.SingleToInt32Bits(p)) * 1099511628211);
        Console.WriteLine($"parameters {model.Parameters.Length} fnv {hash:x16}");
        var x = new float[Tiny.InputSize * 3];
        for (int i = 0; i < x.Length; i++) x[i] = MathF.Sin(i * 0.37f);
        var y = new float[Tiny.OutputSize * 3];
        model.Forward(x, y, 3);
        Console.WriteLine("logits " + string.Join(" ", y.Select(v => BitConverter.SingleToInt32Bits(v).ToString("x8"))));
        Console.WriteLine($"jit {System.Runtime.JitInfo.GetCompiledMethodCount() > 0} vector256 {Vector256.IsHardwareAccelerated}");
        Console.WriteLine($"vector512 {Vector512.IsHardwareAccelerated} variant {Environment.GetEnvironmentVariable("CNNGEN_NATIVE_VARIANT") ?? "-"}");

        [Model(Weights = "tiny.safetensors")]
        [Input(1, 8, 8)]
        [Conv2d(1, 4, 3)]
        [ReLU]
        [MaxPool2d(2)]
        [Flatten]
        [Linear(36, 5)]
        public partial class Tiny { }
        """;

    private const string ProjectExtras = """
          <PropertyGroup>
            <PublishAot>true</PublishAot>
            <InvariantGlobalization>true</InvariantGlobalization>
          </PropertyGroup>
          <ItemGroup>
            <AdditionalFiles Include="tiny.safetensors" />
          </ItemGroup>
        """;

    private readonly PackageFixture _package;

    public AotPublishTests(PackageFixture package) => _package = package;

    // The weights, in state_dict order: conv 0.weight [4, 1, 3, 3], 0.bias [4]; linear 4.weight [5, 36], 4.bias [5].
    private static float[] Weights() => Enumerable.Range(0, 40 + 185).Select(i => ((i * 7919 % 211) - 105) / 317f).ToArray();

    /// <summary>safetensors, written here: 8-byte little-endian header length, JSON header, little-endian F32 data.</summary>
    private static byte[] SafeTensors(float[] w)
    {
        var tensors = new (string Key, int[] Shape, int Offset, int Count)[]
        {
            ("0.weight", new[] { 4, 1, 3, 3 }, 0, 36), ("0.bias", new[] { 4 }, 36, 4),
            ("4.weight", new[] { 5, 36 }, 40, 180), ("4.bias", new[] { 5 }, 220, 5),
        };
        var json = new StringBuilder("{");
        var data = new List<byte>();
        foreach (var t in tensors)
        {
            if (json.Length > 1) json.Append(',');
            json.Append(CultureInfo.InvariantCulture, $"\"{t.Key}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{data.Count},{data.Count + 4 * t.Count}]}}");
            for (int i = 0; i < t.Count; i++) data.AddRange(BitConverter.GetBytes(w[t.Offset + i]));
        }
        json.Append('}');
        byte[] header = Encoding.UTF8.GetBytes(json.ToString());
        return BitConverter.GetBytes((ulong)header.Length).Concat(header).Concat(data).ToArray();
    }

    /// <summary>The model in float64, straight from the PyTorch definitions of the four layers.</summary>
    private static double[] Reference(float[] w, float[] x, int batch)
    {
        var y = new double[batch * 5];
        for (int n = 0; n < batch; n++)
        {
            var conv = new double[4, 6, 6];
            for (int o = 0; o < 4; o++)
                for (int i = 0; i < 6; i++)
                    for (int j = 0; j < 6; j++)
                    {
                        double s = w[36 + o];
                        for (int ki = 0; ki < 3; ki++)
                            for (int kj = 0; kj < 3; kj++)
                                s += (double)w[o * 9 + ki * 3 + kj] * x[n * 64 + (i + ki) * 8 + j + kj];
                        conv[o, i, j] = Math.Max(0, s);
                    }
            var flat = new double[36];
            for (int o = 0; o < 4; o++)
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                        flat[o * 9 + i * 3 + j] = Math.Max(Math.Max(conv[o, 2 * i, 2 * j], conv[o, 2 * i, 2 * j + 1]), Math.Max(conv[o, 2 * i + 1, 2 * j], conv[o, 2 * i + 1, 2 * j + 1]));
            for (int k = 0; k < 5; k++)
            {
                double s = w[220 + k];
                for (int f = 0; f < 36; f++) s += (double)w[40 + k * 36 + f] * flat[f];
                y[n * 5 + k] = s;
            }
        }
        return y;
    }

    private static string Line(string output, string prefix) =>
        output.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no line starting with '{prefix}' in:\n{output}");

    [Fact]
    public void Model_with_baked_weights_publishes_with_native_aot_and_runs_without_dotnet_or_files()
    {
        float[] w = Weights();
        string dir = _package.CreateConsumer("AotApp", Program, ProjectExtras);
        File.WriteAllBytes(Path.Combine(dir, "tiny.safetensors"), SafeTensors(w));

        // JIT: build and run (Vector256 kernels on every x64 CPU, like the x86-64-v3 AOT binary).
        ProcessResult build = _package.BuildConsumer(dir);
        Assert.True(build.Succeeded, build.ToString());
        var jitEnv = new Dictionary<string, string?>(_package.ConsumerEnvironment) { ["CNNGEN_DISABLE_VECTOR512"] = "1" };
        ProcessResult jit = DotNet.Run(dir, new[] { Path.Combine(dir, "out", "AotApp.dll") }, jitEnv, TimeSpan.FromMinutes(2));
        Assert.True(jit.Succeeded, jit.ToString());
        bool v256 = System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated; // this CPU, as the JIT sees it
        Assert.Equal($"jit True vector256 {v256}", Line(jit.Output, "jit "));

        // Native AOT publish: zero warnings, the package's default instruction set.
        string publishDir = Path.Combine(dir, "native");
        ProcessResult publish = DotNet.Run(dir,
            new[] { "publish", "-c", "Release", "-r", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, "-o", publishDir, "-nodeReuse:false", "-v:minimal" },
            _package.ConsumerEnvironment, TimeSpan.FromMinutes(6));
        Assert.True(publish.Succeeded, publish.ToString());
        Assert.False(System.Text.RegularExpressions.Regex.IsMatch(publish.Output, @"warning [A-Z]+[0-9]+"), "publish warned:\n" + publish);
        string exe = Path.Combine(publishDir, "AotApp");
        Assert.True(File.Exists(exe), publish.ToString());

        // Run it from an empty folder, with no dotnet on PATH, no DOTNET_ROOT and no weights file anywhere near.
        string elsewhere = Path.Combine(_package.TempRoot, "run-aot");
        Directory.CreateDirectory(elsewhere);
        File.Delete(Path.Combine(dir, "tiny.safetensors"));
        var bare = new Dictionary<string, string?>
        {
            ["PATH"] = "/nonexistent-cnngen-path",
            ["DOTNET_ROOT"] = null,
            ["DOTNET_HOST_PATH"] = null,
            ["NUGET_PACKAGES"] = null,
        };
        ProcessResult aot = DotNet.RunProgram(exe, elsewhere, Array.Empty<string>(), bare, TimeSpan.FromMinutes(1));
        bool x64 = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;
        if (x64 && !(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported))
        {
            // A CPU without x86-64-v3: the binary must refuse at start-up, saying why (docs/building.md).
            Assert.False(aot.Succeeded, aot.ToString());
            Assert.Contains("The required instruction sets are not supported by the current CPU.", aot.Output);
            return;
        }
        Assert.True(aot.Succeeded, aot.ToString());
        Assert.Equal($"jit False vector256 {v256}", Line(aot.Output, "jit "));
        Assert.DoesNotContain("CnnGen: warning", aot.Output);

        // The AVX-512 copy (CnnGen.targets, CnnGenAvx512Variant): published beside the binary; on a CPU with AVX-512 the
        // binary switches to it (NativeVariant.RunBestVariant), elsewhere it stays; CNNGEN_NO_NATIVE_VARIANT=1 keeps it.
        Assert.True(File.Exists(exe + "-avx512"), "no AVX-512 copy beside the binary:\n" + string.Join("\n", Directory.GetFiles(publishDir)));
        bool avx512 = x64 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.X86.Avx512BW.IsSupported &&
                      System.Runtime.Intrinsics.X86.Avx512DQ.IsSupported && System.Runtime.Intrinsics.X86.Avx512CD.IsSupported &&
                      System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported;
        Assert.Equal(avx512 ? "vector512 True variant 1" : "vector512 False variant -", Line(aot.Output, "vector512 "));
        var stay = new Dictionary<string, string?>(bare) { ["CNNGEN_NO_NATIVE_VARIANT"] = "1" };
        ProcessResult baseline = DotNet.RunProgram(exe, elsewhere, Array.Empty<string>(), stay, TimeSpan.FromMinutes(1));
        Assert.True(baseline.Succeeded, baseline.ToString());
        Assert.Equal("vector512 False variant -", Line(baseline.Output, "vector512 "));
        Assert.Equal(Line(aot.Output, "parameters "), Line(baseline.Output, "parameters "));

        // The compiled-in weights are the file's, bit for bit.
        ulong hash = 14695981039346656037;
        foreach (float p in w) hash = unchecked((hash ^ (uint)BitConverter.SingleToInt32Bits(p)) * 1099511628211);
        Assert.Equal($"parameters 225 fnv {hash:x16}", Line(aot.Output, "parameters "));

        // AOT computes exactly what the JIT computes, and both agree with the float64 reference.
        Assert.Equal(Line(jit.Output, "logits "), Line(aot.Output, "logits "));
        var x = Enumerable.Range(0, 64 * 3).Select(i => MathF.Sin(i * 0.37f)).ToArray();
        double[] expected = Reference(w, x, 3);
        foreach (ProcessResult run in new[] { aot, baseline })
        {
            float[] logits = Line(run.Output, "logits ").Substring(7).Split(' ')
                .Select(h => BitConverter.Int32BitsToSingle(int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))).ToArray();
            Assert.Equal(15, logits.Length);
            for (int i = 0; i < 15; i++)
                Assert.True(Math.Abs(logits[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"logit {i}: {logits[i]:R} vs float64 {expected[i]:R}");
        }

        // A binary without AVX2 on a CPU that has it says so (JIT with AVX2 turned off stands in for a baseline AOT build).
        if (x64 && System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            var noAvx2 = new Dictionary<string, string?>(_package.ConsumerEnvironment) { ["DOTNET_EnableAVX2"] = "0" };
            ProcessResult slow = DotNet.Run(dir, new[] { Path.Combine(dir, "out", "AotApp.dll") }, noAvx2, TimeSpan.FromMinutes(2));
            Assert.True(slow.Succeeded, slow.ToString());
            Assert.Contains("CnnGen: warning: this CPU has AVX2, but this binary was compiled without it", slow.Output);
            Assert.Equal("jit True vector256 False", Line(slow.Output, "jit "));
        }
    }
}

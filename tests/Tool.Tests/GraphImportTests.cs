using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.Generator.Tests;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace CnnGen.Tool.Tests;

/// <summary>
/// `cnngen import` of branching graphs: torchvision's resnet18 (graph committed with its initializers' data stripped, filled
/// here by <see cref="Fill"/>; batch-norm-preserving and BN-fused exports) and a small MBConv/SE net (real weights). The
/// written declaration compiles with the generator, loads the written safetensors and gives ONNX Runtime's outputs within 1e-4.
/// </summary>
public sealed class GraphImportTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cnngen-graph-" + Guid.NewGuid().ToString("N"));

    public GraphImportTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    internal static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "onnx", name);

    /// <summary>Deterministic uniform [0, 1) values: a 64-bit LCG (Knuth's MMIX constants) seeded with the FNV-1a hash
    /// of <paramref name="seed"/>, the top 24 bits of each state.</summary>
    internal static IEnumerable<double> Uniform(string seed)
    {
        ulong h = 14695981039346656037;
        foreach (char c in seed) h = (h ^ c) * 1099511628211;
        while (true)
        {
            h = h * 6364136223846793005 + 1442695040888963407;
            yield return (h >> 40) / 16777216.0;
        }
    }

    /// <summary>
    /// Fills every initializer with data stripped (empty raw_data) by its role: batch norm scale 0.8 + 0.4u, bias and
    /// running_mean 0.2(u − 0.5), running_var 0.5 + u (positive); a Conv/Gemm weight uniform ±√(3 / fan_in) (variance
    /// 1 / fan_in, so activations stay O(1) through the residual sums); any other tensor (biases) 0.2(u − 0.5).
    /// u = <see cref="Uniform"/>(the initializer's name).
    /// </summary>
    internal static void Fill(Onnx.ModelProto m)
    {
        var role = new Dictionary<string, string>();
        foreach (var n in m.Graph.Node)
        {
            if (n.OpType == "BatchNormalization")
                for (int i = 1; i < 5 && i < n.Input.Count; i++) role[n.Input[i]] = new[] { "", "scale", "bias", "mean", "var" }[i];
            if (n.OpType is "Conv" or "Gemm" or "MatMul" && n.Input.Count > 1) role[n.Input[1]] = "weight";
        }
        // torch.onnx shares equal initializers through Identity nodes; the role of the alias is the source's
        foreach (var n in m.Graph.Node)
            if (n.OpType == "Identity" && role.TryGetValue(n.Output[0], out string? r)) role.TryAdd(n.Input[0], r);
        foreach (var t in m.Graph.Initializer)
        {
            if (!t.RawData.IsEmpty || t.DataType != 1) continue;
            long count = t.Dims.Aggregate(1L, (a, d) => a * d);
            long fanIn = t.Dims.Count > 1 ? count / t.Dims[0] : 1;
            role.TryGetValue(t.Name, out string? what);
            var u = Uniform(t.Name).GetEnumerator();
            var f = new float[count];
            for (long i = 0; i < count; i++)
            {
                u.MoveNext();
                double x = u.Current;
                f[i] = (float)(what switch
                {
                    "scale" => 0.8 + 0.4 * x,
                    "var" => 0.5 + x,
                    "weight" => (2 * x - 1) * Math.Sqrt(3.0 / fanIn),
                    _ => 0.2 * (x - 0.5),
                });
            }
            var b = new byte[count * 4];
            Buffer.BlockCopy(f, 0, b, 0, b.Length);
            t.RawData = ByteString.CopyFrom(b);
        }
    }

    /// <summary>Parameters of the graph's initializers (and the Identity aliases of shared ones), without the BN running statistics.</summary>
    internal static long InitializerParameters(Onnx.ModelProto m)
    {
        var size = m.Graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.Aggregate(1L, (a, d) => a * d));
        var bnStats = new HashSet<string>(m.Graph.Node.Where(n => n.OpType == "BatchNormalization").SelectMany(n => n.Input.Skip(3)));
        long total = size.Where(kv => !bnStats.Contains(kv.Key) && m.Graph.Node.Any(n => n.Input.Contains(kv.Key) && n.OpType != "Identity")).Sum(kv => kv.Value);
        foreach (var n in m.Graph.Node)
            if (n.OpType == "Identity" && size.TryGetValue(n.Input[0], out long c) && !bnStats.Contains(n.Output[0])) total += c;
        return total;
    }

    internal static float[] Ort(string onnx, float[] x, int[] shape)
    {
        using var session = new InferenceSession(onnx);
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), new DenseTensor<float>(x, shape)) });
        return results.First().AsEnumerable<float>().ToArray();
    }

    internal static (string Declaration, ICnnModel Model) ImportAndCompile(string onnx, string dir, string cls, params string[] options) =>
        ImportAndCompile(onnx, dir, cls, out _, options);

    internal static (string Declaration, ICnnModel Model) ImportAndCompile(string onnx, string dir, string cls, out string stdout, params string[] options)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = Cli.Run(new[] { "import", onnx, "--out", dir, "--class", cls, "--namespace", "Imported" }.Concat(options).ToArray(), o, e);
        stdout = o.ToString();
        Assert.True(rc == 0, e.ToString());
        string cs = File.ReadAllText(Path.Combine(dir, cls + ".cs"));
        var r = GeneratorHarness.Run(cs);
        Assert.True(!r.Errors.Any(), string.Join("\n", r.Errors) + "\n" + cs);
        var model = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(r).GetType("Imported." + cls)!, new object[] { 0 })!;
        model.LoadWeights(Path.Combine(dir, cls + ".safetensors"));
        return (cs, model);
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4, $"output {i}: CnnGen {actual[i]}, {what} {expected[i]}");
    }

    [Theory]
    [InlineData("resnet18", 11_689_512L, false)]
    // torch.onnx's default export folded each batch norm into its conv; by default the importer restores them (Conv2d without
    // bias + BatchNorm2d of the same function), so the model has torchvision's 11,689,512 parameters again ...
    [InlineData("resnet18_fused", 11_689_512L, false)]
    // ... and with --keep-fused-bn each stays a conv bias (C) instead of weight + bias (2C): 4,800 fewer
    [InlineData("resnet18_fused", 11_684_712L, true)]
    public void Torchvision_resnet18_imports_and_matches_OnnxRuntime(string name, long parameters, bool keepFused)
    {
        var m = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Golden(name + ".graph.onnx")));
        Assert.All(m.Graph.Initializer, t => Assert.True(t.RawData.IsEmpty && t.FloatData.Count == 0)); // committed stripped
        Fill(m);
        string onnx = Path.Combine(_dir, name + ".onnx");
        File.WriteAllBytes(onnx, m.ToByteArray());
        bool restored = name == "resnet18_fused" && !keepFused;
        Assert.Equal(restored ? parameters - 4_800 : parameters, InitializerParameters(m));

        var (cs, model) = ImportAndCompile(onnx, _dir, "R", out string stdout, keepFused ? new[] { "--keep-fused-bn" } : Array.Empty<string>());
        Assert.Equal(parameters, model.ParameterCount);
        Assert.Equal(restored, stdout.Contains("note: 20 convolutions had a batch norm folded in by the exporter", StringComparison.Ordinal));
        Assert.Equal(name == "resnet18" || restored, cs.Contains("[BatchNorm2d(", StringComparison.Ordinal));
        // repeated structure is declared once: 8 BasicBlocks, 7 distinct bodies (the 4 identity ones of layer1-layer4 + the
        // 3 downsampling ones), 3 projection shortcuts
        Assert.Equal(8, cs.Split('\n').Count(l => l.StartsWith("[Residual(", StringComparison.Ordinal)));
        Assert.Equal(7, cs.Split('\n').Count(l => l.StartsWith("public partial class RBlock", StringComparison.Ordinal)));
        Assert.Equal(3, cs.Split('\n').Count(l => l.StartsWith("public partial class RShortcut", StringComparison.Ordinal)));
        if (name == "resnet18")
        {
            Assert.Contains("[Residual(typeof(RBlock2), Shortcut = typeof(RShortcut1), ReLU = true, Name = \"layer2.0\")]", cs);
            var keys = CnnGen.IO.SafeTensors.Read(Path.Combine(_dir, "R.safetensors")).ByName.Keys.ToHashSet();
            foreach (string k in new[] { "conv1.weight", "layer1.0.conv1.weight", "layer1.0.bn1.running_mean", "layer4.1.bn2.weight",
                         "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var", "fc.bias" })
                Assert.Contains(k, keys);
        }

        var x = Uniform("input").Take(3 * 224 * 224).Select(u => (float)(2 * u - 1)).ToArray();
        var y = new float[model.OutputSize];
        model.Forward(x, y);
        AssertClose(Ort(onnx, x, new[] { 1, 3, 224, 224 }), y, "ONNX Runtime");
    }

    [Fact]
    public void MBConv_SE_net_imports_and_matches_OnnxRuntime_and_PyTorch()
    {
        string onnx = Golden("mbconv_se.onnx");
        var (cs, model) = ImportAndCompile(onnx, _dir, "E");
        var m = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        long parameters = InitializerParameters(m);
        Assert.Equal(parameters, model.ParameterCount);
        Assert.Contains("[SqueezeExcitation(64, 16, Activation = \"silu\", Name = \"se\")]", cs);
        Assert.Contains("[Residual(typeof(EBlock1), Name = \"blocks.0\")]", cs);
        Assert.Contains("[Residual(typeof(EBlock2), Name = \"blocks.2\")]", cs);
        Assert.Contains("[SqueezeExcitation(64, 16, Activation = \"silu\", Name = \"blocks.1.se\")]", cs);

        float[] x = ImportTestsData.Floats(Golden("mbconv_se.input.bin")), torch = ImportTestsData.Floats(Golden("mbconv_se.output.bin"));
        var y = new float[model.OutputSize];
        model.Forward(x, y);
        AssertClose(Ort(onnx, x, new[] { 1, 3, 32, 32 }), y, "ONNX Runtime");
        AssertClose(torch, y, "PyTorch");
    }
}

internal static class ImportTestsData
{
    public static float[] Floats(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        var f = new float[b.Length / 4];
        Buffer.BlockCopy(b, 0, f, 0, b.Length);
        return f;
    }
}

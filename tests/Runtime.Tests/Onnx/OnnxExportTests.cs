using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.IO;
using CnnGen.Runtime.Tests.Generated;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace CnnGen.Runtime.Tests.Onnx;

/// <summary>ExportOnnx → ONNX Runtime (an independent engine) gives CnnGen's forward, and the file is structurally right.</summary>
public class OnnxExportTests
{
    public static IEnumerable<object[]> Models() => new[]
    {
        "ModelA", "ModelB", "ModelC", "ModelD", "ModelE", "ModelF", "ModelG", "ModelH", "ModelI",
        "OnnxActivationsModel", "OnnxFunctionalModel",
    }.Select(n => new object[] { n });

    private sealed record Subject(ICnnModel Model, float[] Parameters, float[]? Buffers, TensorSlot[] Slots, int[] Input,
        Action<float[], float[], int> Forward, Action<string> Export, Action<Stream> ExportStream);

    private static Subject Make(string name) => name switch
    {
        "ModelA" => Wrap(new ModelA(1), m => (m.Parameters, null, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 1, 28, 28),
        "ModelB" => Wrap(new ModelB(2), m => (m.Parameters, null, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 1, 28, 28),
        "ModelC" => Wrap(new ModelC(3), m => (m.Parameters, null, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 1, 28, 28),
        "ModelD" => Wrap(new ModelD(4), m => (m.Parameters, null, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 3, 17, 13),
        "ModelE" => Wrap(new ModelE(5), m => (m.Parameters, null, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 2, 32, 30),
        "ModelF" => Wrap(new ModelF(6), m => (m.Parameters, m.Buffers, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 3, 10, 9),
        "ModelG" => Wrap(new ModelG(7), m => (m.Parameters, m.Buffers, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 3, 16, 16),
        "ModelH" => Wrap(new ModelH(8), m => (m.Parameters, m.Buffers, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 3, 12, 12),
        "ModelI" => Wrap(new ModelI(9), m => (m.Parameters, m.Buffers, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 3, 12, 12),
        "OnnxActivationsModel" => Wrap(new OnnxActivationsModel(10), m => (m.Parameters, null, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 2, 9, 9),
        "OnnxFunctionalModel" => Wrap(new OnnxFunctionalModel(11), m => (m.Parameters, null, m.ParameterSlots, m.Forward, m.ExportOnnx, m.ExportOnnx), 1, 28, 28),
        _ => throw new ArgumentException(name),
    };

    private delegate void Fwd(ReadOnlySpan<float> x, Span<float> y, int batch);

    private static Subject Wrap<T>(T m, Func<T, (float[] P, float[]? B, TensorSlot[] S, Fwd F, Action<string> E, Action<Stream> ES)> parts,
        params int[] input) where T : ICnnModel
    {
        var (p, b, s, f, e, es) = parts(m);
        return new Subject(m, p, b, s, input, (x, y, n) => f(x, y, n), e, es);
    }

    /// <summary>Batch norm's running statistics away from (0, 1), so the export must carry the real buffers.</summary>
    private static void RandomBuffers(Subject s, int seed)
    {
        if (s.Buffers is null) return;
        var rng = new Random(seed);
        for (int i = 0; i < s.Buffers.Length; i++) s.Buffers[i] = 0.5f + (float)rng.NextDouble();
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void OnnxRuntimeGivesTheSameOutputs(string name)
    {
        var s = Make(name);
        RandomBuffers(s, 42);
        string path = Path.Combine(Path.GetTempPath(), $"cnngen-onnx-{name}-{Guid.NewGuid():N}.onnx");
        try
        {
            s.Export(path);
            using var session = new InferenceSession(path);
            Assert.Equal("input", session.InputMetadata.Keys.Single());
            Assert.Equal("output", session.OutputMetadata.Keys.Single());
            var rng = new Random(7);
            foreach (int batch in new[] { 1, 3 })
            {
                int inSize = s.Model.InputSize, outSize = s.Model.OutputSize;
                var x = new float[batch * inSize];
                for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
                var expected = new float[batch * outSize];
                s.Forward(x, expected, batch);
                var dims = new[] { batch }.Concat(s.Input).ToArray();
                using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x, dims)) });
                float[] actual = results.Single().AsEnumerable<float>().ToArray();
                Assert.Equal(expected.Length, actual.Length);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])),
                        $"{name} batch {batch} output {i}: CnnGen {expected[i]}, ONNX Runtime {actual[i]}");
            }
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void FileIsStructurallyRight(string name)
    {
        var s = Make(name);
        using var stream = new MemoryStream();
        s.ExportStream(stream);
        var model = global::Onnx.ModelProto.Parser.ParseFrom(stream.ToArray());
        Assert.Equal(8, model.IrVersion);
        Assert.Equal(17, model.OpsetImport.Single(o => o.Domain == "").Version);
        var g = model.Graph;
        Assert.Equal("input", g.Input.Single().Name);
        Assert.Equal("batch", g.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(s.Input.Select(d => (long)d), g.Input[0].Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
        Assert.Equal("output", g.Output.Single().Name);
        // Every parameter tensor is an initializer under its safetensors key, with its values; batch norm adds its
        // running statistics (num_batches_tracked is no inference input); nothing else is an initializer.
        var inits = g.Initializer.ToDictionary(t => t.Name);
        foreach (var slot in s.Slots)
        {
            Assert.True(inits.TryGetValue(slot.Key, out var t), $"{name}: no initializer {slot.Key}");
            Assert.Equal(slot.Shape.Select(d => (long)d), t!.Dims);
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
            Assert.Equal(s.Parameters.AsSpan(slot.Offset, slot.ElementCount).ToArray(), values);
        }
        int statistics = inits.Keys.Count(k => k.EndsWith(".running_mean", StringComparison.Ordinal) || k.EndsWith(".running_var", StringComparison.Ordinal));
        Assert.Equal(s.Slots.Length + statistics, inits.Count);
        long exported = g.Initializer.Where(t => !t.Name.EndsWith(".running_mean", StringComparison.Ordinal) && !t.Name.EndsWith(".running_var", StringComparison.Ordinal))
            .Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
        Assert.Equal(s.Model.ParameterCount, exported);
        Assert.DoesNotContain(g.Node, n => n.OpType is "Dropout" or "Identity");
        // One Flatten where the model goes from [C, H, W] to a vector (none when it stays spatial), never one per layer.
        Assert.InRange(g.Node.Count(n => n.OpType == "Flatten"), 0, 1);
    }

    private static readonly int[] NoArgs = { 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, -1 };

    [Fact]
    public void UnevenAdaptivePoolIsAClearErrorAndWritesNoFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cnngen-onnx-uneven-{Guid.NewGuid():N}.onnx");
        var layers = new[] { new OnnxLayer("AdaptiveAvgPool2d", "pool", new[] { 3, 5, 5 }, new[] { 3, 2, 2 }, NoArgs) };
        var ex = Assert.Throws<NotSupportedException>(() => OnnxExport.Save(path, "M", layers, Array.Empty<float>(), Array.Empty<float>()));
        Assert.Contains("AdaptiveAvgPool2d 'pool'", ex.Message);
        Assert.Contains("5×5 to 2×2", ex.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ExactAdaptivePoolIsAnAveragePool()
    {
        var layers = new[] { new OnnxLayer("AdaptiveAvgPool2d", "pool", new[] { 3, 6, 6 }, new[] { 3, 2, 2 }, NoArgs) };
        var node = OnnxExport.Build("M", layers, Array.Empty<float>(), Array.Empty<float>()).Graph.Node.Single();
        Assert.Equal("AveragePool", node.OpType);
        Assert.Equal(new long[] { 3, 3 }, node.Attribute.Single(a => a.Name == "kernel_shape").Ints);
    }

    [Fact]
    public void AKindWithNoOnnxFormNamesTheLayer()
    {
        var layers = new[] { new OnnxLayer("Upsample", "up", new[] { 3, 4, 4 }, new[] { 3, 8, 8 }, NoArgs) };
        var ex = Assert.Throws<NotSupportedException>(() => OnnxExport.Build("M", layers, Array.Empty<float>(), Array.Empty<float>()));
        Assert.Contains("Upsample 'up'", ex.Message);
    }
}

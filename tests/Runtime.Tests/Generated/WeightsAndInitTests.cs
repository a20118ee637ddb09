using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.IO;
using Xunit;

namespace CnnGen.Runtime.Tests.Generated;

/// <summary>
/// Generated LoadWeights/SaveWeights (strict, all-or-nothing, messages naming key and shapes; round trip) and the
/// constructor's / ResetParameters' initialization (determinism, PyTorch and Glorot bounds).
/// </summary>
public class WeightsAndInitTests
{
    public static TheoryData<string> Names => AllocationAndConcurrencyTests.Names;
    private static ICnnModel Create(string name, int seed = 0) => AllocationAndConcurrencyTests.Create(name, seed);

    // ------------------------------------------------------------------ LoadWeights / SaveWeights

    [Theory]
    [MemberData(nameof(Names))]
    public void SaveThenLoad_RoundTripsExactly(string name)
    {
        using var dir = new TempDir();
        var a = Create(name, seed: 1);
        string path = dir.File("w.safetensors");
        a.SaveWeights(path);

        var b = Create(name, seed: 2);
        Assert.False(a.Parameters.SequenceEqual(b.Parameters));
        b.LoadWeights(path);
        Assert.Equal(a.Parameters, b.Parameters);

        // The file holds PyTorch's keys and shapes, as F32.
        var file = SafeTensors.Read(path);
        Assert.Equal(a.ParameterSlots.Select(s => s.Key), file.Tensors.Select(t => t.Name));
        foreach (var slot in a.ParameterSlots)
        {
            Assert.Equal(slot.Shape, file[slot.Key].Shape);
            Assert.Equal(SafeTensorDType.F32, file[slot.Key].DType);
        }

        var x = AllocationAndConcurrencyTests.Random(2 * a.InputSize, 3);
        var ya = new float[2 * a.OutputSize];
        var yb = new float[2 * a.OutputSize];
        a.Forward(x, ya, 2);
        b.Forward(x, yb, 2);
        Assert.Equal(ya, yb);

        // Saving over an existing file replaces it.
        b.Parameters[0] += 1;
        b.SaveWeights(path);
        a.LoadWeights(path);
        Assert.Equal(b.Parameters, a.Parameters);
    }

    /// <summary>Writes a file from the model's slots after <paramref name="edit"/> changed them (keys, shapes, dtypes).</summary>
    private static string WriteVariant(TempDir dir, ICnnModel model, string file, Func<List<TensorSlot>, List<TensorSlot>> edit)
    {
        var slots = edit(model.ParameterSlots.ToList());
        // Repack so every edited slot has data of its own size.
        var packed = new List<TensorSlot>();
        int offset = 0;
        foreach (var s in slots)
        {
            packed.Add(s with { Offset = offset });
            offset += s.ElementCount;
        }
        var values = AllocationAndConcurrencyTests.Random(offset, 77);
        string path = dir.File(file);
        SafeTensors.Save(path, packed.ToArray(), values);
        return path;
    }

    private static string Shape(int[] s) => "[" + string.Join(", ", s) + "]";

    private static WeightsFormatException AssertRejected(ICnnModel model, string path)
    {
        var before = (float[])model.Parameters.Clone();
        var e = Assert.Throws<WeightsFormatException>(() => model.LoadWeights(path));
        Assert.True(before.AsSpan().SequenceEqual(model.Parameters), "a rejected file changed the model's parameters");
        Assert.Contains(Path.GetFileName(path), e.Message);
        return e;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void LoadWeights_MissingKey_IsRejected_NamingKeyAndShape(string name)
    {
        using var dir = new TempDir();
        var model = Create(name, seed: 4);
        var victim = model.ParameterSlots[^1];
        string path = WriteVariant(dir, model, "missing.safetensors", s => s.Where(t => t.Key != victim.Key).ToList());
        var e = AssertRejected(model, path);
        Assert.Contains($"'{victim.Key}'", e.Message);
        Assert.Contains(Shape(victim.Shape), e.Message);
        Assert.Equal(victim.Key, e.Key);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void LoadWeights_WrongShape_IsRejected_NamingKeyAndBothShapes(string name)
    {
        using var dir = new TempDir();
        var model = Create(name, seed: 5);
        // The first weight, transposed in its first two dimensions (same element count where they differ) or grown.
        var victim = model.ParameterSlots[0];
        int[] wrong = (int[])victim.Shape.Clone();
        if (wrong[0] != wrong[1]) (wrong[0], wrong[1]) = (wrong[1], wrong[0]);
        else wrong[0] += 1;
        string path = WriteVariant(dir, model, "shape.safetensors",
            s => s.Select(t => t.Key == victim.Key ? t with { Shape = wrong } : t).ToList());
        var e = AssertRejected(model, path);
        Assert.Contains($"'{victim.Key}'", e.Message);
        Assert.Contains(Shape(wrong), e.Message);
        Assert.Contains(Shape(victim.Shape), e.Message);
        Assert.Equal(victim.Key, e.Key);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void LoadWeights_WrongDType_IsRejected_NamingKeyAndShapes(string name)
    {
        using var dir = new TempDir();
        var model = Create(name, seed: 6);
        var victim = model.ParameterSlots[1];
        string path = WriteVariant(dir, model, "dtype.safetensors",
            s => s.Select(t => t.Key == victim.Key ? t with { DType = SafeTensorDType.F64 } : t).ToList());
        var e = AssertRejected(model, path);
        Assert.Contains($"'{victim.Key}'", e.Message);
        Assert.Contains("F64", e.Message);
        Assert.Contains("F32", e.Message);
        Assert.Contains(Shape(victim.Shape), e.Message);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void LoadWeights_TruncatedFile_IsRejected_NamingTheTensor(string name)
    {
        using var dir = new TempDir();
        var model = Create(name, seed: 7);
        string good = dir.File("good.safetensors");
        Create(name, seed: 8).SaveWeights(good);
        byte[] bytes = File.ReadAllBytes(good);
        var last = model.ParameterSlots.OrderBy(s => s.Offset).Last();

        foreach (int cut in new[] { 1, 4, bytes.Length / 2 })
        {
            string path = dir.File($"truncated{cut}.safetensors");
            File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - cut).ToArray());
            var e = AssertRejected(model, path);
            Assert.Contains("truncated", e.Message);
            if (cut < 4 * last.ElementCount) Assert.Contains($"'{last.Key}'", e.Message);
        }
        foreach (int keep in new[] { 0, 5, 8, 20 })
        {
            string path = dir.File($"head{keep}.safetensors");
            File.WriteAllBytes(path, bytes.AsSpan(0, keep).ToArray());
            AssertRejected(model, path);
        }
    }

    [Fact]
    public void LoadWeights_ExtraKey_IsRejected()
    {
        using var dir = new TempDir();
        var model = Create("A", seed: 9);
        string path = WriteVariant(dir, model, "extra.safetensors", s => s.Append(new TensorSlot("99.weight", new[] { 2, 2 }, 0)).ToList());
        var e = AssertRejected(model, path);
        Assert.Contains("'99.weight'", e.Message);
    }

    [Fact]
    public void LoadWeights_MissingFile_Throws_AndKeepsParameters()
    {
        var model = Create("B", seed: 10);
        var before = (float[])model.Parameters.Clone();
        Assert.ThrowsAny<IOException>(() => model.LoadWeights(Path.Combine(Path.GetTempPath(), "cnngen-no-such-" + Guid.NewGuid().ToString("N"))));
        Assert.Equal(before, model.Parameters);
    }

    // ------------------------------------------------------------------ initialization

    /// <summary>fan_in and fan_out as torch.nn.init._calculate_fan_in_and_fan_out computes them from a weight shape.</summary>
    private static (int FanIn, int FanOut) Fans(int[] weightShape)
    {
        int receptive = 1;
        for (int i = 2; i < weightShape.Length; i++) receptive *= weightShape[i];
        return (weightShape[1] * receptive, weightShape[0] * receptive);
    }

    /// <summary>Each slot with the fans of its layer's weight.</summary>
    private static IEnumerable<(TensorSlot Slot, bool IsWeight, int FanIn, int FanOut)> SlotsWithFans(ICnnModel model)
    {
        var fans = new Dictionary<string, (int, int)>();
        foreach (var s in model.ParameterSlots)
        {
            string layer = s.Key[..s.Key.LastIndexOf('.')];
            if (s.Key.EndsWith(".weight", StringComparison.Ordinal)) fans[layer] = Fans(s.Shape);
        }
        foreach (var s in model.ParameterSlots)
        {
            string layer = s.Key[..s.Key.LastIndexOf('.')];
            var (fi, fo) = fans[layer];
            yield return (s, s.Key.EndsWith(".weight", StringComparison.Ordinal), fi, fo);
        }
    }

    private static void AssertUniformWithin(string what, ReadOnlySpan<float> values, double bound)
    {
        double max = 0, sum = 0;
        foreach (float v in values)
        {
            Assert.True(Math.Abs(v) <= bound * (1 + 1e-6), $"{what}: {v} outside ±{bound}");
            max = Math.Max(max, Math.Abs(v));
            sum += v;
        }
        // Not degenerate: a uniform sample of this size reaches close to the bound and centres on 0.
        if (values.Length >= 50)
        {
            Assert.True(max >= 0.8 * bound, $"{what}: max |value| {max} of {values.Length} never approaches the bound {bound}");
            double sd = bound / Math.Sqrt(3) / Math.Sqrt(values.Length);
            Assert.True(Math.Abs(sum / values.Length) <= 5 * sd, $"{what}: mean {sum / values.Length} is not ≈ 0");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Constructor_IsDeterministicPerSeed_AndWithinPyTorchBounds(string name)
    {
        var a = Create(name, seed: 3);
        Assert.Equal(a.Parameters, Create(name, seed: 3).Parameters);
        Assert.False(a.Parameters.SequenceEqual(Create(name, seed: 4).Parameters), "seeds 3 and 4 give the same parameters");
        Assert.Equal(Create(name).Parameters, Create(name, seed: 0).Parameters);

        foreach (var (slot, isWeight, fanIn, _) in SlotsWithFans(a))
        {
            // kaiming_uniform_(a = √5): gain √(2 / 6), bound gain·√(3 / fan_in) = 1/√fan_in; bias: 1/√fan_in.
            double bound = 1.0 / Math.Sqrt(fanIn);
            AssertUniformWithin($"Model{name} {slot.Key} ({(isWeight ? "weight" : "bias")}, fan_in {fanIn})",
                a.Parameters.AsSpan(slot.Offset, slot.ElementCount), bound);
        }
    }

    /// <summary>ResetParameters is generated on the class, not on <see cref="ICnnModel"/>.</summary>
    private static void Reset(ICnnModel model, int seed, Initializer init) =>
        model.GetType().GetMethod("ResetParameters")!.Invoke(model, new object[] { seed, init });

    [Theory]
    [MemberData(nameof(Names))]
    public void ResetParameters_Glorot_RespectsBound_ZeroBiases_AndPyTorchAgain(string name)
    {
        var model = Create(name, seed: 1);
        Reset(model, 11, Initializer.GlorotUniform);
        var glorot = (float[])model.Parameters.Clone();
        foreach (var (slot, isWeight, fanIn, fanOut) in SlotsWithFans(model))
        {
            var values = model.Parameters.AsSpan(slot.Offset, slot.ElementCount);
            if (!isWeight)
            {
                foreach (float v in values) Assert.Equal(0f, v);
                continue;
            }
            // xavier_uniform_ / Keras glorot_uniform: ±√(6 / (fan_in + fan_out)), fans from the weight's shape
            // (fan_out = out_channels · kh · kw, whatever the groups).
            double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
            AssertUniformWithin($"Model{name} {slot.Key} (Glorot, fan_in {fanIn}, fan_out {fanOut})", values, bound);
        }

        Reset(model, 11, Initializer.GlorotUniform);
        Assert.Equal(glorot, model.Parameters);
        Reset(model, 1, Initializer.PyTorch);
        Assert.Equal(Create(name, seed: 1).Parameters, model.Parameters);
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Runtime.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests.Generated;

// Models whose inference folds batch norm into the convolution before it (src/Generator/Emit/BatchNormFold.cs).
// FoldNet (branches): a biased conv + BN (eps 1e-3), a residual block with a projection shortcut (conv + BN on both
// paths, stride 2), a depthwise conv + BN, a pointwise biased conv + non-affine BN, then a BN after a BN (not folded).
[Block]
[Conv2d(8, 16, 3, Stride = 2, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(16, Name = "bn1")]
[ReLU]
[Conv2d(16, 16, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(16, Name = "bn2")]
public partial class FoldBody { }

[Block]
[Conv2d(8, 16, 1, Stride = 2, Bias = false)]
[BatchNorm2d(16)]
public partial class FoldProjection { }

[Model]
[Input(3, 12, 12)]
[Conv2d(3, 8, 3, Padding = 1, Name = "stem")]
[BatchNorm2d(8, Eps = 0.001, Name = "stem_bn")]
[ReLU]
[Residual(typeof(FoldBody), Shortcut = typeof(FoldProjection), ReLU = true, Name = "block")]
[Conv2d(16, 16, 3, Padding = 1, Groups = 16, Bias = false, Name = "dw")]
[BatchNorm2d(16, Name = "dw_bn")]
[ReLU6]
[Conv2d(16, 8, 1, Name = "pw")]
[BatchNorm2d(8, Affine = false, Name = "pw_bn")]
[BatchNorm2d(8, Name = "extra_bn")]
[GlobalAvgPool2d]
[Flatten]
[Linear(8, 4, Name = "fc")]
public partial class FoldNet { }

// FoldSeq (sequential, no branches): conv without bias + BN, depthwise conv with bias + BN, and a conv + BN that is
// the model's last layer (the folded convolution writes the output).
[Model]
[Input(2, 9, 9)]
[Conv2d(2, 6, 3, Bias = false, Name = "c1")]
[BatchNorm2d(6, Name = "b1")]
[ReLU]
[Conv2d(6, 6, 3, Padding = 1, Groups = 6, Name = "c2")]
[BatchNorm2d(6, Name = "b2")]
[ReLU]
[Conv2d(6, 5, 3, Stride = 2, Bias = false, Name = "c3")]
[BatchNorm2d(5, Name = "b3")]
public partial class FoldSeq { }

// FoldRelu (branches): every conv + BN folds at batch 1 (fewer weights than outputs), so inference runs the ReLU after
// block.bn1 with the folded bias (LayerOps.AddChannelBiasRelu) and the block's ReLU with the residual add
// (LayerOps.AddRelu): src/Generator/Emit/Plan/ReluFusion.cs.
[Block]
[Conv2d(4, 4, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(4, Name = "bn1")]
[ReLU]
[Conv2d(4, 4, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(4, Name = "bn2")]
public partial class FoldReluBody { }

[Model]
[Input(4, 8, 8)]
[Residual(typeof(FoldReluBody), ReLU = true, Name = "block")]
[Conv2d(4, 3, 1, Name = "head")]
public partial class FoldRelu { }

// FoldSilu (branches): the epilogues of src/Generator/Emit/Plan/ReluFusion.cs beyond ReLU: a 1×1 conv + BN + SiLU (bias and
// SiLU in one pass: LayerOps.AddChannelBiasSilu), depthwise convs + BN + SiLU / ReLU, one with a declared bias (folded
// bias and activation in the depthwise kernel's store: Depthwise.Forward), a stride-2 depthwise conv + BN + SiLU; odd sizes.
[Block]
[Conv2d(4, 8, 1, Bias = false, Name = "expand")]
[BatchNorm2d(8, Name = "expand_bn")]
[SiLU]
[Conv2d(8, 8, 3, Padding = 1, Groups = 8, Name = "dw3")]
[BatchNorm2d(8, Name = "dw3_bn")]
[SiLU]
[Conv2d(8, 8, 5, Padding = 2, Groups = 8, Bias = false, Name = "dw5")]
[BatchNorm2d(8, Name = "dw5_bn")]
[ReLU]
[Conv2d(8, 4, 1, Bias = false, Name = "project")]
[BatchNorm2d(4, Name = "project_bn")]
public partial class FoldSiluBody { }

[Model]
[Input(4, 9, 11)]
[Residual(typeof(FoldSiluBody), Name = "block")]
[Conv2d(4, 4, 3, Stride = 2, Padding = 1, Groups = 4, Bias = false, Name = "down")]
[BatchNorm2d(4, Name = "down_bn")]
[SiLU]
[Conv2d(4, 3, 1, Name = "head")]
public partial class FoldSilu { }

/// <summary>
/// Inference with batch norm folded into the preceding convolution (W' = W·γ/√(var + eps), b' = (b − mean)·γ/√(var + eps) + β)
/// against the unfolded computation — convolution, then batch norm with the running statistics — in a naive float64
/// reference written here (RefLayers' convolution, batch norm and the residual addition spelled out per layer).
/// Batch-norm parameters and running statistics are randomized so the fold is not the identity.
/// </summary>
public class BatchNormFoldTests
{
    private const double Tolerance = 1e-6; // relative to the largest |reference| value; float32 vs float64

    private readonly ITestOutputHelper _out;
    public BatchNormFoldTests(ITestOutputHelper output) { _out = output; }

    // ------------------------------------------------------------------ the unfolded float64 reference

    private sealed class Ref
    {
        private readonly ICnnModel _m;
        public Ref(ICnnModel m) { _m = m; }

        private RefTensor Param(string key)
        {
            var slot = _m.ParameterSlots.Single(s => s.Key == key);
            return new RefTensor(slot.Shape, _m.Parameters.AsSpan(slot.Offset, slot.ElementCount).ToArray().Select(v => (double)v).ToArray());
        }

        private double[] Buffer(string key)
        {
            var slot = _m.BufferSlots.Single(s => s.Key == key);
            return _m.Buffers.AsSpan(slot.Offset, slot.ElementCount).ToArray().Select(v => (double)v).ToArray();
        }

        public RefTensor Conv(RefTensor x, string name, Conv2dLayer c) =>
            RefLayers.Conv2dForward(x, Param(name + ".weight"), c.Bias ? Param(name + ".bias") : null, c);

        /// <summary>Eval-mode batch norm: (x − running_mean)/√(running_var + eps)·γ + β.</summary>
        public RefTensor BatchNorm(RefTensor x, string name, double eps = 1e-5, bool affine = true)
        {
            double[] mean = Buffer(name + ".running_mean"), variance = Buffer(name + ".running_var");
            double[]? gamma = affine ? Param(name + ".weight").Data : null, beta = affine ? Param(name + ".bias").Data : null;
            var y = x.Clone();
            int n = x.Shape[0], c = x.Shape[1], hw = x.Shape[2] * x.Shape[3];
            for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < hw; i++)
            {
                int at = (b * c + ch) * hw + i;
                double v = (x.Data[at] - mean[ch]) / Math.Sqrt(variance[ch] + eps);
                y.Data[at] = gamma is null ? v : v * gamma[ch] + beta![ch];
            }
            return y;
        }

        public static RefTensor Relu(RefTensor x) => RefLayers.ReluForward(x);
        public static RefTensor Silu(RefTensor x) => new(x.Shape, x.Data.Select(v => v / (1 + Math.Exp(-v))).ToArray());
        public static RefTensor Relu6(RefTensor x) => new(x.Shape, x.Data.Select(v => Math.Min(Math.Max(v, 0), 6)).ToArray());
        public static RefTensor Add(RefTensor a, RefTensor b) => new(a.Shape, a.Data.Zip(b.Data, (u, v) => u + v).ToArray());

        public static RefTensor GlobalAvgPool(RefTensor x)
        {
            int n = x.Shape[0], c = x.Shape[1], hw = x.Shape[2] * x.Shape[3];
            var y = new RefTensor(n, c);
            for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                y[b, ch] = x.Data.Skip((b * c + ch) * hw).Take(hw).Average();
            return y;
        }

        public RefTensor Linear(RefTensor x, string name) => RefLayers.LinearForward(x, Param(name + ".weight"), Param(name + ".bias"));
    }

    private static RefTensor Input(float[] x, int n, int c, int h, int w) => new(new[] { n, c, h, w }, x.Select(v => (double)v).ToArray());

    private static RefTensor ReferenceFoldNet(ICnnModel m, float[] input, int n)
    {
        var r = new Ref(m);
        var x = Input(input, n, 3, 12, 12);
        x = Ref.Relu(r.BatchNorm(r.Conv(x, "stem", Conv2dLayer.Square(3, 8, 3, padding: 1)), "stem_bn", eps: 1e-3));
        var body = r.Conv(x, "block.conv1", Conv2dLayer.Square(8, 16, 3, stride: 2, padding: 1, bias: false));
        body = Ref.Relu(r.BatchNorm(body, "block.bn1"));
        body = r.BatchNorm(r.Conv(body, "block.conv2", Conv2dLayer.Square(16, 16, 3, padding: 1, bias: false)), "block.bn2");
        var shortcut = r.BatchNorm(r.Conv(x, "block.downsample.0", Conv2dLayer.Square(8, 16, 1, stride: 2, bias: false)), "block.downsample.1");
        x = Ref.Relu(Ref.Add(body, shortcut));
        x = Ref.Relu6(r.BatchNorm(r.Conv(x, "dw", Conv2dLayer.Square(16, 16, 3, padding: 1, groups: 16, bias: false)), "dw_bn"));
        x = r.BatchNorm(r.Conv(x, "pw", Conv2dLayer.Square(16, 8, 1)), "pw_bn", affine: false);
        x = r.BatchNorm(x, "extra_bn");
        return r.Linear(Ref.GlobalAvgPool(x), "fc");
    }

    private static RefTensor ReferenceFoldRelu(ICnnModel m, float[] input, int n)
    {
        var r = new Ref(m);
        var x = Input(input, n, 4, 8, 8);
        var body = Ref.Relu(r.BatchNorm(r.Conv(x, "block.conv1", Conv2dLayer.Square(4, 4, 3, padding: 1, bias: false)), "block.bn1"));
        body = r.BatchNorm(r.Conv(body, "block.conv2", Conv2dLayer.Square(4, 4, 3, padding: 1, bias: false)), "block.bn2");
        x = Ref.Relu(Ref.Add(body, x));
        return r.Conv(x, "head", Conv2dLayer.Square(4, 3, 1));
    }

    private static RefTensor ReferenceFoldSilu(ICnnModel m, float[] input, int n)
    {
        var r = new Ref(m);
        var x = Input(input, n, 4, 9, 11);
        var body = Ref.Silu(r.BatchNorm(r.Conv(x, "block.expand", Conv2dLayer.Square(4, 8, 1, bias: false)), "block.expand_bn"));
        body = Ref.Silu(r.BatchNorm(r.Conv(body, "block.dw3", Conv2dLayer.Square(8, 8, 3, padding: 1, groups: 8)), "block.dw3_bn"));
        body = Ref.Relu(r.BatchNorm(r.Conv(body, "block.dw5", Conv2dLayer.Square(8, 8, 5, padding: 2, groups: 8, bias: false)), "block.dw5_bn"));
        body = r.BatchNorm(r.Conv(body, "block.project", Conv2dLayer.Square(8, 4, 1, bias: false)), "block.project_bn");
        x = Ref.Add(body, x);
        x = Ref.Silu(r.BatchNorm(r.Conv(x, "down", Conv2dLayer.Square(4, 4, 3, stride: 2, padding: 1, groups: 4, bias: false)), "down_bn"));
        return r.Conv(x, "head", Conv2dLayer.Square(4, 3, 1));
    }

    private static RefTensor ReferenceFoldSeq(ICnnModel m, float[] input, int n)
    {
        var r = new Ref(m);
        var x = Input(input, n, 2, 9, 9);
        x = Ref.Relu(r.BatchNorm(r.Conv(x, "c1", Conv2dLayer.Square(2, 6, 3, bias: false)), "b1"));
        x = Ref.Relu(r.BatchNorm(r.Conv(x, "c2", Conv2dLayer.Square(6, 6, 3, padding: 1, groups: 6)), "b2"));
        return r.BatchNorm(r.Conv(x, "c3", Conv2dLayer.Square(6, 5, 3, stride: 2, bias: false)), "b3");
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>γ in [0.5, 1.5], β in [−0.5, 0.5], running_mean in [−0.5, 0.5], running_var in [0.3, 2]: the fold is far from the identity.</summary>
    private static void RandomizeBatchNorm(ICnnModel m, int seed)
    {
        var rng = new Rng(seed);
        foreach (var slot in BatchNormParameters(m))
        {
            bool gamma = slot.Key.EndsWith(".weight", StringComparison.Ordinal);
            for (int i = 0; i < slot.ElementCount; i++) m.Parameters[slot.Offset + i] = gamma ? rng.Uniform(0.5f, 1.5f) : rng.Uniform(-0.5f, 0.5f);
        }
        foreach (var slot in m.BufferSlots)
        {
            for (int i = 0; i < slot.ElementCount; i++)
            {
                if (slot.Key.EndsWith(".running_mean", StringComparison.Ordinal)) m.Buffers[slot.Offset + i] = rng.Uniform(-0.5f, 0.5f);
                else if (slot.Key.EndsWith(".running_var", StringComparison.Ordinal)) m.Buffers[slot.Offset + i] = rng.Uniform(0.3f, 2f);
            }
        }
    }

    private static string Prefix(string key) => key.Substring(0, key.LastIndexOf('.'));

    /// <summary>γ and β of every affine batch norm: the parameters whose module also has running statistics.</summary>
    private static IEnumerable<CnnGen.IO.TensorSlot> BatchNormParameters(ICnnModel m)
    {
        var batchNorms = m.BufferSlots.Select(b => Prefix(b.Key)).ToHashSet();
        return m.ParameterSlots.Where(s => batchNorms.Contains(Prefix(s.Key)));
    }

    private static float[] Random(int count, int seed)
    {
        var rng = new Rng(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = rng.Uniform(-1f, 1f);
        return x;
    }

    private double Compare(string what, float[] actual, RefTensor expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxErr = 0, scale = 1e-12;
        for (int i = 0; i < actual.Length; i++)
        {
            maxErr = Math.Max(maxErr, Math.Abs(actual[i] - expected.Data[i]));
            scale = Math.Max(scale, Math.Abs(expected.Data[i]));
        }
        double rel = maxErr / scale;
        _out.WriteLine($"{what}: max abs diff {maxErr:E2}, max |reference| {scale:E2}, relative {rel:E2} (tolerance {Tolerance:E0})");
        Assert.True(rel <= Tolerance, $"{what}: relative error {rel:E3} > {Tolerance:E0}");
        return rel;
    }

    public static TheoryData<string, int> Cases => new()
    {
        // 1 sample; 5 (batched convolution GEMMs); 70 (several inference chunks share one fold). Pairs whose weights
        // outnumber their outputs fold only from some batch size on (FoldNet's block.conv1 from 2, block.conv2 from 4;
        // FoldSeq's c3 from 6): batch 1 runs them as convolution + batch norm, the larger batches folded.
        { "FoldNet", 1 }, { "FoldNet", 5 }, { "FoldNet", 70 },
        { "FoldSeq", 1 }, { "FoldSeq", 5 }, { "FoldSeq", 70 },
        { "FoldRelu", 1 }, { "FoldRelu", 5 },
        { "FoldSilu", 1 }, { "FoldSilu", 5 },
    };

    private static (ICnnModel Model, Func<ICnnModel, float[], int, RefTensor> Reference) Create(string name) => name switch
    {
        "FoldNet" => (new FoldNet(seed: 3), ReferenceFoldNet),
        "FoldSeq" => (new FoldSeq(seed: 4), ReferenceFoldSeq),
        "FoldRelu" => (new FoldRelu(seed: 5), ReferenceFoldRelu),
        "FoldSilu" => (new FoldSilu(seed: 6), ReferenceFoldSilu),
        _ => throw new ArgumentException(name),
    };

    // ------------------------------------------------------------------ tests

    [Theory]
    [MemberData(nameof(Cases))]
    public void FoldedInference_MatchesConvolutionThenBatchNorm(string name, int batch)
    {
        var (model, reference) = Create(name);
        RandomizeBatchNorm(model, seed: 11);
        var x = Random(batch * model.InputSize, seed: 12);
        var y = new float[batch * model.OutputSize];
        model.Forward(x, y, batch);
        Compare($"{name}, batch {batch}", y, reference(model, x, batch));

        if (batch > 1)
        {
            // Sample by sample through the one-sample overload: the same numbers.
            var one = new float[model.OutputSize];
            model.Forward(x.AsSpan(0, model.InputSize), one);
            Compare($"{name}, sample 0 alone", one, reference(model, x.AsSpan(0, model.InputSize).ToArray(), 1));
        }
    }

    [Theory]
    [InlineData("FoldNet")]
    [InlineData("FoldSeq")]
    public void Fold_FollowsEveryChangeToWeightsAndRunningStatistics(string name)
    {
        var (model, reference) = Create(name);
        RandomizeBatchNorm(model, seed: 21);
        var x = Random(3 * model.InputSize, seed: 22);
        var before = new float[3 * model.OutputSize];
        model.Forward(x, before, 3);
        Compare($"{name} before", before, reference(model, x, 3));

        // Change a convolution weight, a γ, a running variance and a running mean in place, as an optimizer or a
        // training step does between two inference calls: the next call must see all of them.
        var rng = new Rng(23);
        var conv = model.ParameterSlots.First(s => s.Shape.Length == 4);
        for (int i = 0; i < conv.ElementCount; i++) model.Parameters[conv.Offset + i] *= 1.5f;
        var gamma = BatchNormParameters(model).Last(s => s.Key.EndsWith(".weight", StringComparison.Ordinal));
        for (int i = 0; i < gamma.ElementCount; i++) model.Parameters[gamma.Offset + i] = rng.Uniform(-2f, 2f);
        foreach (var slot in model.BufferSlots.Where(s => s.Key.EndsWith(".running_var", StringComparison.Ordinal) || s.Key.EndsWith(".running_mean", StringComparison.Ordinal)))
            for (int i = 0; i < slot.ElementCount; i++) model.Buffers[slot.Offset + i] += rng.Uniform(0f, 0.5f);

        var after = new float[3 * model.OutputSize];
        model.Forward(x, after, 3);
        Assert.NotEqual(before, after);
        Compare($"{name} after changing weights and statistics", after, reference(model, x, 3));
    }

    [Fact]
    public void TrainingStep_ThenInference_UsesTheMovedRunningStatistics()
    {
        // A training step moves the running statistics (and an optimizer would move the weights); inference afterwards
        // folds the new values, not those of an earlier call.
        var model = new FoldNet(seed: 5);
        RandomizeBatchNorm(model, seed: 31);
        var x = Random(4 * FoldNet.InputSize, seed: 32);
        var y = new float[4 * FoldNet.OutputSize];
        model.Forward(x, y, 4);
        var ws = model.CreateWorkspace(4);
        var train = new float[4 * FoldNet.OutputSize];
        model.ForwardTrain(ws, x, train, 4);
        var grads = new float[FoldNet.ParameterCount];
        model.Backward(ws, Enumerable.Repeat(0.1f, train.Length).ToArray(), grads, Span<float>.Empty);
        for (int i = 0; i < grads.Length; i++) model.Parameters[i] -= 0.5f * grads[i];
        model.Forward(x, y, 4);
        Compare("FoldNet after a training step", y, ReferenceFoldNet(model, x, 4));
    }

    [Fact]
    public void FoldedInference_IsReentrantAcrossThreadsAndBatchSizes()
    {
        // Each thread folds into its own buffer; batch 1 (some pairs unfolded, a short buffer) and batch 5 (all folded,
        // the buffer grows) interleave on every thread. Every result equals the single-threaded one, bit for bit.
        var model = new FoldNet(seed: 8);
        RandomizeBatchNorm(model, seed: 51);
        var x = Random(5 * FoldNet.InputSize, seed: 52);
        var expected1 = new float[FoldNet.OutputSize];
        var expected5 = new float[5 * FoldNet.OutputSize];
        model.Forward(x.AsSpan(0, FoldNet.InputSize), expected1);
        model.Forward(x, expected5, 5);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 4).Select(t => new System.Threading.Thread(() =>
        {
            var y1 = new float[FoldNet.OutputSize];
            var y5 = new float[5 * FoldNet.OutputSize];
            for (int i = 0; i < 25; i++)
            {
                if ((i + t) % 2 == 0) { model.Forward(x.AsSpan(0, FoldNet.InputSize), y1); if (!y1.AsSpan().SequenceEqual(expected1)) failures.Add($"thread {t}, call {i}, batch 1"); }
                else { model.Forward(x, y5, 5); if (!y5.AsSpan().SequenceEqual(expected5)) failures.Add($"thread {t}, call {i}, batch 5"); }
            }
        })).ToList();
        threads.ForEach(th => th.Start());
        threads.ForEach(th => th.Join());
        Assert.Empty(failures);
    }

    [Fact]
    public void FoldedInference_AllocatesNothingAfterTheFirstCall()
    {
        var model = new FoldNet(seed: 6);
        var x = Random(8 * FoldNet.InputSize, seed: 41);
        var y = new float[8 * FoldNet.OutputSize];
        for (int i = 0; i < 3; i++) model.Forward(x, y, 8);
        long allocated = long.MaxValue;
        for (int round = 0; round < 5 && allocated > 0; round++)
        {
            long start = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) model.Forward(x, y, 8);
            allocated = GC.GetAllocatedBytesForCurrentThread() - start;
        }
        Assert.Equal(0, allocated);
    }
}

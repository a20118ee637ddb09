using System.Collections.Generic;
using System.Globalization;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// Batch norm folded into the convolution before it, for inference. In eval mode batch norm is an affine map per
    /// channel (y = x·scale + shift with the running statistics), so a Conv2d directly followed by a BatchNorm2d is one
    /// convolution with W' = W·scale and b' = b·scale + shift per output channel. Inference computes W' and b' at the
    /// start of every <c>Forward</c> call (parameters and running statistics can change between calls, e.g. while
    /// training, and a cache keyed on them could go stale; the fold reads each convolution weight once, which is small
    /// next to the convolution itself) into a per-thread buffer, then runs the convolution's own forward code on them
    /// and skips the batch norm. Training (ForwardTrain / Backward) never folds: it normalizes with batch statistics.
    /// <para>The convolution's code addresses its weight as <c>p + weightOffset</c> and its bias as
    /// <c>p + weightOffset + weightCount</c>; the folded buffer holds [W' | b'] per folded pair, so the call passes
    /// <c>folded + (foldOffset − weightOffset)</c> as <c>p</c>. A convolution declared without bias (the usual case before
    /// batch norm) gets its folded bias added right after, as a convolution with bias adds its own.</para>
    /// </summary>
    internal sealed class BatchNormFold
    {
        /// <summary>One folded pair: the convolution at <see cref="Conv"/>, the batch norm right after it, and where [W' | b'] live in the folded buffer.</summary>
        internal readonly struct Pair
        {
            public Pair(int conv, int offset) { Conv = conv; Offset = offset; }
            public int Conv { get; }
            public int BatchNorm => Conv + 1;
            public int Offset { get; }
        }

        private readonly Dictionary<int, Pair> _byConv = new Dictionary<int, Pair>();
        private readonly HashSet<int> _batchNorms = new HashSet<int>();

        public List<Pair> Pairs { get; } = new List<Pair>();

        /// <summary>Floats in the folded buffer (each pair's [W' | b'] starts on a 64-byte boundary).</summary>
        public int Count { get; private set; }

        public static BatchNormFold For(ShapedModel m)
        {
            var f = new BatchNormFold();
            for (int i = 0; i + 1 < m.Layers.Count; i++)
            {
                var conv = m.Layers[i];
                if (conv.Spec.Kind != LayerKind.Conv2d || m.Layers[i + 1].Spec.Kind != LayerKind.BatchNorm2d) continue;
                var pair = new Pair(i, f.Count);
                f.Pairs.Add(pair);
                f._byConv[i] = pair;
                f._batchNorms.Add(i + 1);
                f.Count += (conv.WeightCount + conv.Spec.Out + 15) / 16 * 16;
            }
            return f;
        }

        public bool Any => Pairs.Count > 0;

        /// <summary>Whether layer <paramref name="index"/> is a batch norm folded into the convolution before it (inference skips it).</summary>
        public bool IsFoldedBatchNorm(int index) => _batchNorms.Contains(index);

        public bool IsFoldedConv(int index, out Pair pair) => _byConv.TryGetValue(index, out pair);

        private static string S(int v) => v.ToString(CultureInfo.InvariantCulture);

        private static string Plus(string pointer, int offset) =>
            offset == 0 ? pointer : offset > 0 ? $"{pointer} + {S(offset)}" : $"{pointer} - {S(-offset)}";

        /// <summary>The inference call of a folded convolution (reading fp, the aligned folded buffer) from x into y.</summary>
        public static IEnumerable<string> ConvCall(ShapedModel m, Pair pair, string x, string y)
        {
            var conv = m.Layers[pair.Conv];
            var bn = m.Layers[pair.BatchNorm];
            string pre = LayerEmitter.MethodPrefix(conv);
            yield return $"{pre}_Forward({x}, {y}, {Plus("fp", pair.Offset - conv.ParamOffset)}, col, null, null, n, false, null); // {bn.SummaryName} folded in: W', b'";
            if (!conv.Spec.Bias)
            {
                yield return $"global::CnnGen.Kernels.LayerOps.AddChannelBias({y}, {Plus("fp", pair.Offset + conv.WeightCount)}, n, {S(conv.Out.C)}, {S(conv.Out.H * conv.Out.W)}); // the folded bias b'";
            }
        }

        /// <summary>
        /// FoldBatchNorm(p, rb, fp): W' and b' of every pair from the parameters and running statistics. Inference calls it
        /// once per Forward call, before the first chunk of samples.
        /// </summary>
        public void EmitFoldMethod(CodeWriter w, ShapedModel m, MemoryPlan plan)
        {
            w.Line($"private const int FoldedCount = {S(Count)}; // floats: [W' | b'] of each convolution with batch norm folded in");
            w.Line();
            w.Line("[global::System.ThreadStatic] private static float[]? t_folded;");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Batch norm folded into the convolution before it, for inference: per output channel, scale = γ/√(running_var + eps),");
            w.Line("/// W' = W·scale, b' = (b − running_mean)·scale + β, into fp. Computed on every Forward call, so it always reflects");
            w.Line("/// the current parameters and running statistics.");
            w.Line("/// </summary>");
            using (w.Block("private static void FoldBatchNorm(float* p, float* rb, float* fp)"))
            {
                foreach (var pair in Pairs)
                {
                    var conv = m.Layers[pair.Conv];
                    var bn = m.Layers[pair.BatchNorm];
                    int c = conv.Spec.Out, per = conv.WeightCount / c, rbAt = plan.BufferSlot[pair.BatchNorm];
                    string bias = conv.Spec.Bias ? $"p + {S(conv.ParamOffset + conv.WeightCount)}" : "null";
                    string gamma = bn.Spec.Bias ? $"p + {S(bn.ParamOffset)}" : "null";
                    string beta = bn.Spec.Bias ? $"p + {S(bn.ParamOffset + bn.WeightCount)}" : "null";
                    w.Line($"// {conv.SummaryName} + {bn.SummaryName}: {S(c)} output channels × {S(per)} weights");
                    w.Line($"global::CnnGen.Kernels.LayerOps.FoldBatchNorm(p + {S(conv.ParamOffset)}, {bias}, {gamma}, {beta}, {Plus("rb", rbAt)}, rb + {S(rbAt + c)}, " +
                           $"{F(bn.Spec.Value)}, {S(c)}, {S(per)}, {Plus("fp", pair.Offset)}, fp + {S(pair.Offset + conv.WeightCount)});");
                }
            }
            w.Line();
        }

        private static string F(double v) => ((float)v).ToString("R", CultureInfo.InvariantCulture) + "f";
    }
}

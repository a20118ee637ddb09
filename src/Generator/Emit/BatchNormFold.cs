using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// Batch norm folded into the convolution before it, for inference. In eval mode batch norm is an affine map per
    /// channel (y = x·scale + shift with the running statistics), so a Conv2d directly followed by a BatchNorm2d is one
    /// convolution with W' = W·scale and b' = b·scale + shift per output channel. Inference computes W' and b' at the
    /// start of every <c>Forward</c> call (parameters and running statistics can change between calls, e.g. while
    /// training, and nothing tells the model when: a cache could go stale) into a per-thread buffer, then runs the
    /// convolution's own forward code on them and skips the batch norm. Training (ForwardTrain / Backward) never folds:
    /// it normalizes with batch statistics.
    /// <para>When folding pays: computing W' reads and writes every weight once per call; the batch norm it replaces reads
    /// and writes every output once per sample. A pair whose weights outnumber its outputs per sample (ResNet-18's
    /// layer2–layer4, EfficientNet's late 1×1 convolutions) is <see cref="Pair.Scaled"/> instead: its region holds only
    /// [scale | shift], and inference runs act(conv(x; W)·scale + shift) in the convolution's store (<c>_RunScaled</c>)
    /// or in one <c>LayerOps.ChannelScaleShift*</c> pass right after it. A depthwise convolution (no scaled store) with more
    /// weights than outputs folds from <see cref="Pair.FoldFrom"/> = ⌈weights / output size⌉ samples on and runs as
    /// convolution, then batch norm, below that.</para>
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
            public Pair(int conv, int offset, int foldFrom, bool scaled = false) { Conv = conv; Offset = offset; FoldFrom = foldFrom; Scaled = scaled; }
            public int Conv { get; }
            /// <summary>
            /// The batch norm is applied in the convolution's store instead (its region holds [scale | shift], not [W' | b']):
            /// a dense convolution whose weights outnumber its outputs, where a folded copy of the weights per call costs
            /// more than the convolution saves. Such a pair "folds" at every batch size (<see cref="FoldFrom"/> 1).
            /// </summary>
            public bool Scaled { get; }
            public int BatchNorm => Conv + 1;
            public int Offset { get; }
            /// <summary>The smallest batch size of a Forward call for which the pair folds (1: always).</summary>
            public int FoldFrom { get; }
        }

        private readonly Dictionary<int, Pair> _byConv = new Dictionary<int, Pair>();
        private readonly Dictionary<int, Pair> _byBatchNorm = new Dictionary<int, Pair>();

        public List<Pair> Pairs { get; } = new List<Pair>();

        /// <summary>Floats in the folded buffer (each pair's [W' | b'] starts on a 64-byte boundary).</summary>
        public int Count { get; private set; }

        /// <summary>
        /// (batch size, floats): the pairs are laid out in the order of their <see cref="Pair.FoldFrom"/>, so a call folds a
        /// prefix of the buffer, and a thread that only ever runs small batches never allocates the rest.
        /// </summary>
        private readonly List<(int From, int Floats)> _prefixes = new List<(int, int)>();

        public static BatchNormFold For(ShapedModel m)
        {
            var f = new BatchNormFold();
            var found = new List<(int Conv, int FoldFrom)>();
            for (int i = 0; i + 1 < m.Layers.Count; i++)
            {
                var conv = m.Layers[i];
                if (conv.Spec.Kind != LayerKind.Conv2d || m.Layers[i + 1].Spec.Kind != LayerKind.BatchNorm2d) continue;
                long outputs = conv.Out.Size;
                int foldFrom = (int)System.Math.Max(1, (conv.WeightCount + outputs - 1) / outputs);
                // Weights outnumbering outputs: a dense convolution takes the batch norm as a scale in its store instead
                // (depthwise kernels have no scaled store; theirs keep the batch-size threshold).
                found.Add((i, foldFrom > 1 && !LayerEmitter.IsDepthwise(conv.Spec) ? ScaledFrom : foldFrom));
            }
            foreach (var (i, from) in found.OrderBy(p => p.FoldFrom == ScaledFrom ? 1 : p.FoldFrom).ThenBy(p => p.Conv))
            {
                var conv = m.Layers[i];
                bool scaled = from == ScaledFrom;
                int foldFrom = scaled ? 1 : from;
                var pair = new Pair(i, f.Count, foldFrom, scaled);
                f._byConv[i] = pair;
                f._byBatchNorm[i + 1] = pair;
                f.Count += checked((int)Alignment.Up(scaled ? 2L * conv.Spec.Out : conv.WeightCount + conv.Spec.Out));
                if (f._prefixes.Count > 0 && f._prefixes[f._prefixes.Count - 1].From == foldFrom) f._prefixes[f._prefixes.Count - 1] = (foldFrom, f.Count);
                else f._prefixes.Add((foldFrom, f.Count));
            }
            f.Pairs.AddRange(found.Select(p => f._byConv[p.Conv])); // layer order
            return f;
        }

        /// <summary>Marks a found pair as scaled while sorting (a batch size no call reaches).</summary>
        private const int ScaledFrom = int.MaxValue;

        public bool Any => Pairs.Count > 0;

        /// <summary>Whether layer <paramref name="index"/> is a batch norm folded into the convolution before it (its inference code is the pair's).</summary>
        public bool IsFoldedBatchNorm(int index) => _byBatchNorm.ContainsKey(index);

        /// <summary>Whether layer <paramref name="index"/> is a batch norm folded at every batch size (it needs no inference method of its own).</summary>
        public bool IsAlwaysFoldedBatchNorm(int index) => _byBatchNorm.TryGetValue(index, out var pair) && pair.FoldFrom == 1;

        public bool IsFoldedConv(int index, out Pair pair) => _byConv.TryGetValue(index, out pair);

        private static string S(int v) => v.ToString(CultureInfo.InvariantCulture);

        private static string F(double v) => Text.Float(v);

        private static string Plus(string pointer, int offset) =>
            offset == 0 ? pointer : offset > 0 ? $"{pointer} + {S(offset)}" : $"{pointer} - {S(-offset)}";

        /// <summary>
        /// The inference code of a pair from x into y: the convolution on W', b' (reading fp, the aligned folded buffer);
        /// for a pair that folds only from some batch size on, that or the convolution and the batch norm as declared.
        /// </summary>
        /// <para><paramref name="act"/>: the activation after the batch norm (0 none, 1 ReLU, 2 SiLU) runs with the folded bias
        /// (<see cref="ReluFusion"/>; only for a pair that always folds and a convolution without a bias of its own, or a
        /// depthwise or direct (im2col-free) convolution, whose kernel adds b' and applies the activation in its store).</para>
        public static IEnumerable<string> ConvCall(ShapedModel m, MemoryPlan plan, Pair pair, string x, string y, int act = 0)
        {
            var conv = m.Layers[pair.Conv];
            var bn = m.Layers[pair.BatchNorm];
            string pre = LayerEmitter.MethodPrefix(conv);
            string then = act == 1 ? ", then the ReLU" : act == 2 ? ", then the SiLU" : "";
            var folded = new List<string>();
            if (pair.Scaled)
            {
                // Batch norm as act(conv(x; W)·s + t) in the convolution's store, or one pass right after it.
                string s = Plus("fp", pair.Offset), t = Plus("fp", pair.Offset + conv.Spec.Out);
                if (LayerEmitter.HasRun(conv))
                {
                    yield return $"{pre}_RunScaled({x}, {y}, p + {S(conv.ParamOffset)}, {s}, {t}, n, {S(act)}); // {bn.SummaryName} applied in its store: scale, shift{then}";
                    yield break;
                }
                string op = act == 1 ? "ChannelScaleShiftRelu" : act == 2 ? "ChannelScaleShiftSilu" : "ChannelScaleShift";
                yield return $"{pre}_Forward({x}, {y}, p, col, null, null, n, false, null);";
                yield return $"global::CnnGen.Kernels.LayerOps.{op}({y}, {s}, {t}, n, {S(conv.Out.C)}, {S(conv.Out.H * conv.Out.W)}); // {bn.SummaryName}: scale, shift{then}";
                yield break;
            }
            if (LayerEmitter.HasRun(conv))
            {
                string w = Plus("fp", pair.Offset), b = Plus("fp", pair.Offset + conv.WeightCount);
                folded.Add($"{pre}_Run({x}, {y}, {w}, {b}, n, {S(act)}); // {bn.SummaryName} folded in: W', b'{then}");
            }
            else
            {
                folded.Add($"{pre}_Forward({x}, {y}, {Plus("fp", pair.Offset - conv.ParamOffset)}, col, null, null, n, false, null); // {bn.SummaryName} folded in: W', b'");
            }
            if (!conv.Spec.Bias && !LayerEmitter.HasRun(conv))
            {
                string op = act == 1 ? "AddChannelBiasRelu" : act == 2 ? "AddChannelBiasSilu" : "AddChannelBias";
                folded.Add($"global::CnnGen.Kernels.LayerOps.{op}({y}, {Plus("fp", pair.Offset + conv.WeightCount)}, n, {S(conv.Out.C)}, {S(conv.Out.H * conv.Out.W)}); // the folded bias b'" +
                           then);
            }
            if (pair.FoldFrom == 1)
            {
                foreach (var line in folded) yield return line;
                yield break;
            }
            yield return $"if (batchSize >= {S(pair.FoldFrom)}) // {conv.SummaryName} has {S(conv.WeightCount)} weights, {S(conv.Out.Size)} outputs per sample: folding pays from {S(pair.FoldFrom)} samples on";
            yield return "{";
            foreach (var line in folded) yield return "    " + line;
            yield return "}";
            yield return "else";
            yield return "{";
            yield return $"    {pre}_Forward({x}, {y}, p, col, null, null, n, false, null);";
            yield return $"    {LayerEmitter.MethodPrefix(bn)}_Inference({y}, {y}, p, {Plus("rb", plan.BufferSlot[pair.BatchNorm])}, n);";
            yield return "}";
        }

        /// <summary>
        /// FoldBatchNorm(p, rb, fp, batchSize): W' and b' of every pair that folds at this batch size, from the parameters and
        /// running statistics. Inference calls it once per Forward call, before the first chunk of samples.
        /// </summary>
        public void EmitFoldMethod(CodeWriter w, ShapedModel m, MemoryPlan plan)
        {
            w.Line($"private const int FoldedCount = {S(Count)}; // floats: [W' | b'] of each convolution with batch norm folded in");
            w.Line();
            w.Line("/// <summary>Floats of the folded buffer a call of <paramref name=\"batchSize\"/> samples uses: the pairs that fold at that size come first.</summary>");
            string sizes = "0";
            foreach (var (from, floats) in _prefixes)
            {
                string value = floats == Count ? "FoldedCount" : S(floats);
                sizes = from == 1 ? value : $"batchSize >= {S(from)} ? {value} : {sizes}";
            }
            w.Line($"private static int FoldedFloats(int batchSize) => {sizes};");
            w.Line();
            w.Line("[global::System.ThreadStatic] private static float[]? t_folded;");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Batch norm folded into the convolution before it, for inference: per output channel, scale = γ/√(running_var + eps),");
            w.Line("/// W' = W·scale, b' = (b − running_mean)·scale + β, into fp. Computed on every Forward call, so it always reflects");
            w.Line("/// the current parameters and running statistics; a pair whose weights outnumber its outputs folds only for batches");
            w.Line("/// large enough to repay the fold.");
            w.Line("/// </summary>");
            using (w.Block("private static void FoldBatchNorm(float* p, float* rb, float* fp, int batchSize)"))
            {
                foreach (var pair in Pairs)
                {
                    var conv = m.Layers[pair.Conv];
                    var bn = m.Layers[pair.BatchNorm];
                    int c = conv.Spec.Out, per = conv.WeightCount / c, rbAt = plan.BufferSlot[pair.BatchNorm];
                    string bias = conv.Spec.Bias ? $"p + {S(conv.ParamOffset + conv.WeightCount)}" : "null";
                    string gamma = bn.Spec.Bias ? $"p + {S(bn.ParamOffset)}" : "null";
                    string beta = bn.Spec.Bias ? $"p + {S(bn.ParamOffset + bn.WeightCount)}" : "null";
                    if (pair.Scaled)
                    {
                        // The convolution's own bias goes into the shift when its store applies it, else it adds it itself first.
                        string own = conv.Spec.Bias && LayerEmitter.HasRun(conv) ? bias : "null";
                        w.Line($"// {conv.SummaryName} + {bn.SummaryName}: {S(c)} output channels × {S(per)} weights, more than its outputs: scale and shift only");
                        w.Line($"global::CnnGen.Kernels.LayerOps.BatchNormScaleShift({own}, {gamma}, {beta}, {Plus("rb", rbAt)}, rb + {S(rbAt + c)}, " +
                               $"{F(bn.Spec.Value)}, {S(c)}, {Plus("fp", pair.Offset)}, fp + {S(pair.Offset + c)});");
                        continue;
                    }
                    w.Line($"// {conv.SummaryName} + {bn.SummaryName}: {S(c)} output channels × {S(per)} weights" + (pair.FoldFrom > 1 ? $"; folded from {S(pair.FoldFrom)} samples on" : ""));
                    w.Line((pair.FoldFrom > 1 ? $"if (batchSize >= {S(pair.FoldFrom)}) " : "") +
                           $"global::CnnGen.Kernels.LayerOps.FoldBatchNorm(p + {S(conv.ParamOffset)}, {bias}, {gamma}, {beta}, {Plus("rb", rbAt)}, rb + {S(rbAt + c)}, " +
                           $"{F(bn.Spec.Value)}, {S(c)}, {S(per)}, {Plus("fp", pair.Offset)}, fp + {S(pair.Offset + conv.WeightCount)});");
                }
            }
            w.Line();
        }
    }
}

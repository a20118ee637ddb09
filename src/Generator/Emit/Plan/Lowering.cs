using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit.Plan
{
    /// <summary>
    /// A shaped model lowered for emission: the memory plan (sealed: its sizes are final before the size check), the batch
    /// norm folds, the channels-last runs of inference and training, and the <see cref="ExecutionPlan"/> that orders them.
    /// Computed once per model by <see cref="Lowering.Lower"/>.
    /// </summary>
    internal sealed class Lowered
    {
        public Lowered(ShapedModel model, MemoryPlan memory, BatchNormFold folds, ReluFusion? branchRelus, List<ShapedLayer> layers,
            List<ShapedLayer>? run, ChannelsLast? channelsLast, ChannelsLastTraining? training, ExecutionPlan plan)
        {
            Model = model; Memory = memory; Folds = folds; BranchRelus = branchRelus; Layers = layers; Run = run; ChannelsLast = channelsLast;
            Training = training; Plan = plan;
        }

        public ShapedModel Model { get; }
        public MemoryPlan Memory { get; }
        public BatchNormFold Folds { get; }
        /// <summary>Branching models: the ReLUs inference runs inside the pass before them (null for sequential models).</summary>
        public ReluFusion? BranchRelus { get; }
        /// <summary>The layers that run code: summary rows, but not a block's container row.</summary>
        public List<ShapedLayer> Layers { get; }
        /// <summary>Sequential models: the layers inference executes, in order (null for branching models).</summary>
        public List<ShapedLayer>? Run { get; }
        /// <summary>Sequential models: inference's channels-last runs (null for branching models).</summary>
        public ChannelsLast? ChannelsLast { get; }
        /// <summary>The channels-last run of training, or null.</summary>
        public ChannelsLastTraining? Training { get; }
        public ExecutionPlan Plan { get; }
    }

    /// <summary>ShapedModel → <see cref="Lowered"/>: every decision about how the model runs is made here.</summary>
    internal static class Lowering
    {
        public static Lowered Lower(ShapedModel m)
        {
            var memory = MemoryPlan.For(m);
            var folds = BatchNormFold.For(m);
            var layers = m.Layers.Where(l => l.HasRow && l.Spec.Kind != LayerKind.BlockEnd).ToList();
            var index = new Dictionary<ShapedLayer, int>();
            for (int i = 0; i < m.Layers.Count; i++) index[m.Layers[i]] = i;
            List<ShapedLayer>? run = null;
            ChannelsLast? channelsLast = null;
            if (!memory.Branchy)
            {
                run = InferenceRun(m, memory, layers, folds, index);
                channelsLast = ChannelsLast.For(run, l => folds.IsFoldedConv(index[l], out _));
            }
            var training = ChannelsLastTraining.For(m, memory);
            memory.Seal(System.Math.Max(training?.ScratchFloats ?? 0, channelsLast?.FusedScratch ?? 0));

            var branchRelus = memory.Branchy ? ReluFusion.For(m, folds) : null;
            var inference = memory.Branchy ? BranchInference(m, folds, branchRelus!) : SequentialInference(m, memory, run!, folds, channelsLast!, index);
            var forward = new List<PlanStep>();
            var backward = new List<PlanStep>();
            for (int i = 0; i < m.Layers.Count; i++)
            {
                var l = m.Layers[i];
                if (!l.HasRow || l.Spec.Kind == LayerKind.BlockEnd) continue;
                bool inRun = training is not null && training.Contains(i);
                var layout = inRun ? Layout.ChannelsLast : Layout.ChannelsFirst;
                int group = inRun ? 0 : -1;
                Kernel fwd = memory.ReluFused[i] ? Kernel.Fused
                    : inRun && l.Spec.Kind == LayerKind.Conv2d ? Kernel.ChannelsLastConvolution
                    : inRun && l.Spec.Kind == LayerKind.MaxPool2d ? Kernel.ChannelsLastMaxPoolTrain
                    : Kernel.Forward;
                Kernel bwd = memory.ReluFused[i] ? Kernel.Fused
                    : inRun && (l.Spec.Kind == LayerKind.Conv2d || l.Spec.Kind == LayerKind.MaxPool2d) ? Kernel.BackwardChannelsLast
                    : Kernel.Backward;
                forward.Add(new PlanStep(Pass.TrainForward, i, l.SummaryName, l.Spec.Kind, fwd, layout, group)
                    { In = Buffer.Arena, Out = Buffer.Arena, InSlot = memory.InSlot[i], OutSlot = memory.OutSlot[i], InSize = l.In.Size, OutSize = l.Out.Size });
                backward.Add(new PlanStep(Pass.Backward, i, l.SummaryName, l.Spec.Kind, bwd, layout, group)
                    { In = Buffer.Arena, Out = Buffer.Arena, InSlot = memory.InSlot[i], OutSlot = memory.OutSlot[i], InSize = l.In.Size, OutSize = l.Out.Size });
            }
            backward.Reverse(); // backward runs from the last layer to the first

            var variants = new int[m.Layers.Count];
            foreach (var s in inference.Concat(forward).Concat(backward))
            {
                Variants v = s.Kernel switch
                {
                    Kernel.Forward => Variants.Forward,
                    Kernel.FoldedConvolution => Variants.Forward,
                    Kernel.BatchNormInference => Variants.Inference,
                    Kernel.Backward => Variants.Backward,
                    _ => Variants.None,
                };
                variants[s.Layer] |= (int)v;
                // A pair that folds only from some batch size on runs the batch norm as declared below it.
                if (s.Kernel == Kernel.FoldedConvolution && folds.IsFoldedConv(s.Layer, out var pair))
                {
                    if (pair.FoldFrom > 1) variants[pair.BatchNorm] |= (int)Variants.Inference;
                    if (pair.Scaled && LayerEmitter.HasRun(m.Layers[s.Layer])) variants[s.Layer] |= (int)Variants.ScaledRun;
                }
            }
            var plan = new ExecutionPlan(memory.Branchy, new EquatableArray<PlanStep>(inference), new EquatableArray<PlanStep>(forward),
                new EquatableArray<PlanStep>(backward), new EquatableArray<int>(variants));
            return new Lowered(m, memory, folds, branchRelus, layers, run, channelsLast, training, plan);
        }

        /// <summary>
        /// The layers inference executes, in order: dropout is the identity in inference, Identity is skipped, a ReLU
        /// fused into the convolution before it has no code, and a batch norm folded into the convolution before it
        /// doesn't run either.
        /// </summary>
        private static List<ShapedLayer> InferenceRun(ShapedModel m, MemoryPlan plan, List<ShapedLayer> layers, BatchNormFold folds, Dictionary<ShapedLayer, int> index) =>
            layers.Where(l => !LayerTable.Of(l).SkippedAtInference && !plan.ReluFused[index[l]] && !folds.IsFoldedBatchNorm(index[l])).ToList();

        private static PlanStep Step(ShapedModel m, int layer, Kernel kernel, Layout layout, int group) =>
            new PlanStep(Pass.Inference, layer, m.Layers[layer].SummaryName, m.Layers[layer].Spec.Kind, kernel, layout, group);

        private static List<PlanStep> SequentialInference(ShapedModel m, MemoryPlan memory, List<ShapedLayer> run, BatchNormFold folds,
            ChannelsLast channelsLast, Dictionary<ShapedLayer, int> index)
        {
            var steps = new List<PlanStep>();
            int group = 0;
            for (int i = 0; i < run.Count; i++)
            {
                var l = run[i];
                int li = index[l];
                var segment = channelsLast.Segments.FirstOrDefault(sg => sg.Start == i);
                if (segment.End > segment.Start)
                {
                    // A run that starts at the model's input goes sample by sample: each sample's activations pass
                    // through all its layers while they are still in the cache (a chunk's first activation would not
                    // fit). Elsewhere a sample's output could overwrite a later sample's input.
                    bool perSample = i == 0;
                    if (l.In.C > 1)
                        steps.Add(Step(m, li, Kernel.ToChannelsLast, Layout.ChannelsLast, group) with { PerSample = perSample, InSize = l.In.Size, OutSize = l.In.Size });
                    for (int j = segment.Start; j < segment.End; j++)
                    {
                        var lj = run[j];
                        int lji = index[lj];
                        var row = LayerTable.Of(lj);
                        if (lj.Spec.Kind == LayerKind.Conv2d && channelsLast.FusedPool.TryGetValue(lj, out var pool))
                        {
                            steps.Add(Step(m, lji, Kernel.ChannelsLastConvolutionPool, Layout.ChannelsLast, group) with { PerSample = perSample, InSize = lj.In.Size, OutSize = pool.Out.Size });
                            if (memory.FusesRelu[lji]) steps.Add(Step(m, lji + 1, Kernel.Fused, Layout.ChannelsLast, group) with { PerSample = perSample });
                            steps.Add(Step(m, index[pool], Kernel.Fused, Layout.ChannelsLast, group) with { PerSample = perSample });
                            j++;
                            continue;
                        }
                        else if (lj.Spec.Kind == LayerKind.Conv2d)
                            steps.Add(Step(m, lji, Kernel.ChannelsLastConvolution, Layout.ChannelsLast, group) with { PerSample = perSample, InSize = lj.In.Size, OutSize = lj.Out.Size });
                        else if (lj.Spec.Kind == LayerKind.MaxPool2d)
                            steps.Add(Step(m, lji, Kernel.ChannelsLastMaxPool, Layout.ChannelsLast, group) with { PerSample = perSample, InSize = lj.In.Size, OutSize = lj.Out.Size });
                        else
                            steps.Add(Step(m, lji, Kernel.Forward, Layout.ChannelsLast, group) with { PerSample = perSample, InPlace = row.InPlace, InSize = lj.In.Size, OutSize = lj.Out.Size });
                        if (memory.FusesRelu[lji]) steps.Add(Step(m, lji + 1, Kernel.Fused, Layout.ChannelsLast, group) with { PerSample = perSample });
                    }
                    var le = run[segment.End - 1];
                    if (le.Out.C > 1 && le.Out.H * le.Out.W > 1)
                        steps.Add(Step(m, index[le], Kernel.ToChannelsFirst, Layout.ChannelsLast, group) with { InSize = le.Out.Size, OutSize = le.Out.Size });
                    i = segment.End - 1;
                    group++;
                    continue;
                }
                if (folds.IsFoldedConv(li, out var pair))
                {
                    steps.Add(Step(m, li, Kernel.FoldedConvolution, Layout.ChannelsFirst, -1));
                    steps.Add(Step(m, pair.BatchNorm, Kernel.Fused, Layout.ChannelsFirst, -1));
                }
                else if (l.Spec.Kind == LayerKind.BatchNorm2d)
                    steps.Add(Step(m, li, Kernel.BatchNormInference, Layout.ChannelsFirst, -1) with { InPlace = true });
                else
                    steps.Add(Step(m, li, Kernel.Forward, Layout.ChannelsFirst, -1) with { InPlace = LayerTable.Of(l).InPlace });
                if (memory.FusesRelu[li]) steps.Add(Step(m, li + 1, Kernel.Fused, Layout.ChannelsFirst, -1));
            }
            AssignBuffers(steps);
            return steps;
        }

        /// <summary>
        /// Inference's ping-pong buffers: each step writes cur → next; an in-place step writes cur itself, unless cur is the
        /// caller's input; the last writes the caller's output. The last step of the per-sample loop writes the other buffer
        /// (its samples packed for the next layer).
        /// </summary>
        private static void AssignBuffers(List<PlanStep> steps)
        {
            var code = Enumerable.Range(0, steps.Count).Where(k => steps[k].Kernel != Kernel.Fused).ToList();
            var cur = Buffer.Input;
            for (int c = 0; c < code.Count; c++)
            {
                var s = steps[code[c]];
                bool last = c == code.Count - 1;
                bool lastInLoop = s.PerSample && (last || !steps[code[c + 1]].PerSample);
                Buffer next = lastInLoop && !last ? Other(cur)
                    : last ? Buffer.Output
                    : s.InPlace && cur != Buffer.Input ? cur
                    : Other(cur);
                steps[code[c]] = s with { In = cur, Out = next };
                cur = next;
            }
        }

        private static Buffer Other(Buffer b) => b == Buffer.A ? Buffer.B : Buffer.A;

        /// <summary>Branching models (BranchEmitter runs them through the arena): each layer's forward, folds applied.</summary>
        private static List<PlanStep> BranchInference(ShapedModel m, BatchNormFold folds, ReluFusion relus)
        {
            var steps = new List<PlanStep>();
            for (int i = 0; i < m.Layers.Count; i++)
            {
                var l = m.Layers[i];
                var row = LayerTable.Of(l);
                if (row.Role != KindRole.Layer || row.SkippedAtInference) continue;
                if (folds.IsFoldedBatchNorm(i) || relus.IsFusedRelu(i)) steps.Add(Step(m, i, Kernel.Fused, Layout.ChannelsFirst, -1));
                else if (folds.IsFoldedConv(i, out _)) steps.Add(Step(m, i, Kernel.FoldedConvolution, Layout.ChannelsFirst, -1));
                else if (l.Spec.Kind == LayerKind.BatchNorm2d) steps.Add(Step(m, i, Kernel.BatchNormInference, Layout.ChannelsFirst, -1));
                else steps.Add(Step(m, i, Kernel.Forward, Layout.ChannelsFirst, -1));
            }
            return steps;
        }
    }
}

using System;
using System.Collections.Generic;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// The compile-time memory plan (all sizes per sample, in floats or ints; a batch of n multiplies them).
    /// Training keeps every layer's output in one activation arena so backward can read inputs and outputs;
    /// Flatten aliases its input; dropout keeps its mask. Inference ping-pongs between two buffers.
    /// </summary>
    internal sealed class MemoryPlan
    {
        public long InputSlot;                 // offset of the copied input in the activation arena
        public long[] InSlot = Array.Empty<long>();    // per layer: offset of its input
        public long[] OutSlot = Array.Empty<long>();   // per layer: offset of its output
        public long[] MaskSlot = Array.Empty<long>();  // per layer: dropout mask offset, or -1
        public long[] IndexSlot = Array.Empty<long>(); // per layer: max-pool argmax offset in the index arena, or -1
        public int[] BufferSlot = Array.Empty<int>();  // per layer: offset of its buffers in the model's Buffers (batch norm), or -1
        public int BufferCount;                // floats in the model's Buffers array
        public bool Branchy;                   // residual or squeeze-excitation branches: BranchEmitter runs the model
        public bool[] FusesRelu = Array.Empty<bool>();  // per layer: a convolution that applies the next layer's ReLU itself
        public bool[] ReluFused = Array.Empty<bool>();  // per layer: a ReLU applied by the convolution before it (no code; aliases its input)
        public long[] SecondSlot = Array.Empty<long>(); // Add: the shortcut's output; Scale: the scaled input x; else -1
        public int[] Depth = Array.Empty<int>();        // branch markers and joins: nesting depth (0 = outermost branch)
        public long StashBase;                 // backward's gradient stash: 2 slots of MaxLayerSize per branch depth
        public int MaxDepth;                   // deepest branch nesting + 1 (0 without branches)

        /// <summary>Offset of the gradient stash slot S (which = 0: d(loss)/d(join output) or the direct input gradient) or T (which = 1: the shortcut's input gradient) of a depth.</summary>
        public long Stash(int depth, int which) => StashBase + (2L * depth + which) * MaxLayerSize;
        public long ActivationsPerSample;
        public long IndicesPerSample;
        public long MaxLayerSize;             // largest activation (ping-pong buffer size per sample)
        public long ColumnScratch { get; private set; } // largest convolution scratch (im2col, staging, channels-last packs)
        public ShapedLayer? ColumnLayer;      // the convolution that needs it

        /// <summary>
        /// Bytes that two activation buffers of one inference chunk may take. Inference runs the layers over a chunk of
        /// samples at a time: a larger chunk lets the batched convolutions (<see cref="LayerEmitter.ConvChunk"/>) and the
        /// linear layers share weight loads across samples, a smaller one keeps the early, large activations in cache.
        /// 2 MiB (beyond the L2 cache, well inside L3) measured best on model B, whose 32×26×26 first activation
        /// allowed only 1 sample per chunk at 256 KiB: batch-64 inference 10–12k → 21k img/s on one thread.
        /// </summary>
        public const long InferenceChunkBytes = 2L << 20;

        /// <summary>Samples per inference chunk: <see cref="InferenceChunkBytes"/> / (2 buffers × 4 bytes × <see cref="MaxLayerSize"/>), 1..64.</summary>
        public long InferenceChunk => Math.Max(1, Math.Min(64, InferenceChunkBytes / (8 * MaxLayerSize)));

        /// <summary>.NET's largest array length (Array.MaxLength).</summary>
        public const long MaxArray = 0x7FFFFFC7;

        private bool _sealed;

        /// <summary>
        /// Widens the scratch to what the channels-last runs need (<paramref name="channelsLastScratch"/>) and freezes the
        /// plan: the lowering calls it once, before the size check (<see cref="TooLarge"/>) reads the final sizes.
        /// </summary>
        public void Seal(long channelsLastScratch)
        {
            if (_sealed) throw new InvalidOperationException("the memory plan is already sealed");
            ColumnScratch = Math.Max(ColumnScratch, channelsLastScratch);
            _sealed = true;
        }

        /// <summary>What, if anything, is too large for one array: (what, floats).</summary>
        public (string What, long Floats, LocationInfo? Where)? TooLarge(ShapedModel m)
        {
            if (ColumnScratch > MaxArray) return ($"{ColumnLayer!.SummaryName}'s im2col buffer", ColumnScratch, ColumnLayer.Spec.Location);
            if (ActivationsPerSample > MaxArray) return ("Training (all activations of one sample)", ActivationsPerSample, m.Model.Location);
            if (IndicesPerSample > MaxArray) return ("Training (max-pooling indices of one sample)", IndicesPerSample, m.Model.Location);
            return null;
        }

        public static MemoryPlan For(ShapedModel m)
        {
            int count = m.Layers.Count;
            var plan = new MemoryPlan
            {
                InSlot = new long[count], OutSlot = new long[count], MaskSlot = new long[count], IndexSlot = new long[count], BufferSlot = new int[count],
                SecondSlot = new long[count], Depth = new int[count], FusesRelu = new bool[count], ReluFused = new bool[count],
            };
            // Conv2d → ReLU: the convolution writes max(conv + bias, 0) and masks its output gradient with it, so the ReLU
            // makes no pass of its own over memory (sequential models; branches keep their layers separate).
            foreach (var l in m.Layers) plan.Branchy |= ShapeInference.IsStructural(l.Spec.Kind);
            for (int i = 0; i + 1 < count && !plan.Branchy; i++)
            {
                if (m.Layers[i].Spec.Kind == LayerKind.Conv2d && !LayerEmitter.IsDepthwise(m.Layers[i].Spec) && m.Layers[i + 1].Spec.Kind == LayerKind.ReLU)
                {
                    plan.FusesRelu[i] = true;
                    plan.ReluFused[i + 1] = true;
                }
            }
            long act = 0, idx = 0;
            plan.InputSlot = act;
            act += m.Input.Size;
            long current = plan.InputSlot;
            plan.MaxLayerSize = m.Input.Size;
            var branches = new Stack<(long Input, long BodyOut)>();
            for (int i = 0; i < count; i++)
            {
                var l = m.Layers[i];
                plan.SecondSlot[i] = -1;
                switch (l.Spec.Kind)
                {
                    case LayerKind.BranchBegin:
                        plan.Depth[i] = branches.Count;
                        branches.Push((current, -1));
                        plan.MaxDepth = Math.Max(plan.MaxDepth, branches.Count);
                        plan.InSlot[i] = plan.OutSlot[i] = current;
                        plan.MaskSlot[i] = plan.IndexSlot[i] = plan.BufferSlot[i] = -1;
                        continue;
                    case LayerKind.ShortcutBegin:
                    {
                        var b = branches.Pop();
                        branches.Push((b.Input, current));
                        plan.Depth[i] = branches.Count - 1;
                        current = b.Input;
                        plan.InSlot[i] = plan.OutSlot[i] = current;
                        plan.MaskSlot[i] = plan.IndexSlot[i] = plan.BufferSlot[i] = -1;
                        continue;
                    }
                    case LayerKind.Add:
                    case LayerKind.Scale:
                    {
                        var b = branches.Pop();
                        plan.Depth[i] = branches.Count;
                        plan.InSlot[i] = b.BodyOut;
                        plan.SecondSlot[i] = current; // Add: the shortcut's output (the kept input if none); Scale: x
                        plan.OutSlot[i] = act;
                        act += l.Out.Size;
                        plan.MaskSlot[i] = plan.IndexSlot[i] = plan.BufferSlot[i] = -1;
                        plan.MaxLayerSize = Math.Max(plan.MaxLayerSize, l.Out.Size);
                        current = plan.OutSlot[i];
                        continue;
                    }
                    case LayerKind.BlockEnd:
                        plan.InSlot[i] = plan.OutSlot[i] = current;
                        plan.MaskSlot[i] = plan.IndexSlot[i] = plan.BufferSlot[i] = -1;
                        continue;
                }
                plan.InSlot[i] = current;
                plan.MaskSlot[i] = -1;
                plan.IndexSlot[i] = -1;
                plan.BufferSlot[i] = -1;
                if (l.Spec.Kind == LayerKind.Flatten || plan.ReluFused[i])
                {
                    plan.OutSlot[i] = current;
                    continue;
                }
                plan.OutSlot[i] = act;
                act += l.Out.Size;
                if (l.Spec.Kind == LayerKind.Dropout || l.Spec.Kind == LayerKind.Dropout2d)
                {
                    plan.MaskSlot[i] = act;
                    act += DropoutGroups(l);
                }
                if (l.Spec.Kind == LayerKind.BatchNorm2d)
                {
                    // The batch's mean and 1/√(var + eps) per channel, for backward (one batch, not per sample:
                    // the slot is scaled by n like every other, so it is simply larger than needed).
                    plan.MaskSlot[i] = act;
                    act += 2 * l.Out.C;
                    plan.BufferSlot[i] = plan.BufferCount;
                    plan.BufferCount += BufferFloats(l);
                }
                if (l.Spec.Kind == LayerKind.MaxPool2d)
                {
                    plan.IndexSlot[i] = idx;
                    idx += l.Out.Size;
                }
                if (l.Spec.Kind == LayerKind.Conv2d && !LayerEmitter.IsDepthwise(l.Spec))
                {
                    long cols = LayerEmitter.ConvScratch(l);
                    if (cols > plan.ColumnScratch)
                    {
                        plan.ColumnScratch = cols;
                        plan.ColumnLayer = l;
                    }
                }
                plan.MaxLayerSize = Math.Max(plan.MaxLayerSize, l.Out.Size);
                current = plan.OutSlot[i];
            }
            plan.StashBase = act;
            act += 2L * plan.MaxDepth * plan.MaxLayerSize;
            plan.ActivationsPerSample = act;
            plan.IndicesPerSample = idx;
            plan.ColumnScratch = Math.Max(plan.ColumnScratch, 1);
            return plan;
        }

        /// <summary>Batch norm's buffers: running_mean [C], running_var [C], num_batches_tracked (one float holding the count).</summary>
        public static int BufferFloats(ShapedLayer l) => l.Spec.Kind == LayerKind.BatchNorm2d ? 2 * l.Out.C + 1 : 0;

        /// <summary>Dropout draws one mask value per element; Dropout2d one per channel.</summary>
        public static int DropoutGroups(ShapedLayer l) => l.Spec.Kind == LayerKind.Dropout2d ? l.Out.C : l.Out.Size;
    }
}

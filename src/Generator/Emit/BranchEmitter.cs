using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// Inference, training forward and backward for models with branches (residual connections, squeeze-excitation).
    /// The layers arrive flat, in execution order, with the markers of <see cref="BlockExpansion"/>:
    /// BranchBegin (keep the input), the body, ShortcutBegin (restart from the kept input), the shortcut, the join
    /// (Add: body + shortcut; Scale: x·s per channel), BlockEnd (summary row only).
    /// <para>Inference: a compile-time buffer allocator over per-thread buffers; a kept tensor is never overwritten
    /// until its join. Training: every output has its own slot in the activation arena (as for sequential models).
    /// Backward walks the list in reverse with two ping-pong gradient buffers; a join stashes d(loss)/d(output)
    /// (Add) or the direct input gradient (Scale) in a per-depth slot of the arena, the shortcut's input gradient goes
    /// to a second slot, and at BranchBegin the stashed gradient is added: the fan-out's gradients are summed.</para>
    /// </summary>
    internal static class BranchEmitter
    {
        private const string Sys = "global::System.";
        private const string A = "global::CnnGen.Kernels.AlignedMemory.";
        private const string L = "global::CnnGen.Kernels.LayerOps.";

        /// <summary>Layers without code of their own: aliases of their input (Flatten, BlockEnd) or markers.</summary>
        private static bool NoCode(LayerKind k) => k == LayerKind.Flatten || ShapeInference.IsStructural(k);

        private static bool SkippedInInference(LayerKind k) => Kernels.LayerTable.Of(k).SkippedAtInference;

        private static bool HasShortcutLayers(ShapedModel m, int shortcutBegin)
        {
            for (int i = shortcutBegin + 1; i < m.Layers.Count; i++)
            {
                var k = m.Layers[i].Spec.Kind;
                if (k == LayerKind.Add || k == LayerKind.Scale) return false;
                if (k == LayerKind.BranchBegin || !NoCode(k)) return true;
            }
            return false;
        }

        // ================================ inference ================================
        public static void EmitInference(CodeWriter w, ShapedModel m, MemoryPlan plan, BatchNormFold folds, ReluFusion relus)
        {
            // Allocate buffers at compile time: "x0" is the caller's input (read-only), q0, q1, ... are per-thread buffers.
            var pins = new Dictionary<string, int>();
            void Pin(string b) => pins[b] = pins.TryGetValue(b, out int c) ? c + 1 : 1;
            void Unpin(string b) { if (--pins[b] == 0) pins.Remove(b); }
            int used = 0;
            string Free(params string[] exclude)
            {
                for (int k = 0; ; k++)
                {
                    string q = "q" + k;
                    if (pins.ContainsKey(q) || exclude.Contains(q)) continue;
                    used = System.Math.Max(used, k + 1);
                    return q;
                }
            }
            bool Writable(string b) => b != "x0" && !pins.ContainsKey(b);

            var body = new List<string>();
            var frames = new Stack<(string Input, string BodyOut)>();
            string cur = "x0";
            for (int i = 0; i < m.Layers.Count; i++)
            {
                var l = m.Layers[i];
                var k = l.Spec.Kind;
                switch (k)
                {
                    case LayerKind.BranchBegin:
                        Pin(cur);
                        frames.Push((cur, ""));
                        body.Add($"// {l.KeyPrefix}: keep {cur} {l.In} for the join");
                        continue;
                    case LayerKind.ShortcutBegin:
                    {
                        var f = frames.Pop();
                        Pin(cur);
                        frames.Push((f.Input, cur));
                        cur = f.Input;
                        continue;
                    }
                    case LayerKind.Add:
                    case LayerKind.Scale:
                    {
                        var f = frames.Pop();
                        Unpin(f.Input);
                        Unpin(f.BodyOut);
                        if (k == LayerKind.Add)
                        {
                            string y = Writable(f.BodyOut) ? f.BodyOut : Writable(cur) ? cur : Free(cur, f.BodyOut);
                            string op = relus.AppliesRelu(i) ? "AddRelu" : "Add", then = relus.AppliesRelu(i) ? ", then the ReLU" : "";
                            body.Add($"{L}{op}({f.BodyOut}, {cur}, {y}, n * {l.Out.Size}); // {l.KeyPrefix}: residual + shortcut {l.Out}{then}");
                            cur = y;
                        }
                        else
                        {
                            string y = Writable(cur) ? cur : Free(cur, f.BodyOut);
                            body.Add($"{L}ScaleChannels({cur}, {f.BodyOut}, {y}, n * {l.Out.C}, {l.Out.H * l.Out.W}); // {l.KeyPrefix}: x · s per channel");
                            cur = y;
                        }
                        continue;
                    }
                }
                if (NoCode(k) || SkippedInInference(k) || folds.IsFoldedBatchNorm(i) || relus.IsFusedRelu(i)) continue;
                string next = Kernels.LayerTable.Of(k).InPlace && Writable(cur) ? cur : Free(cur);
                string pre = LayerEmitter.MethodPrefix(l);
                if (folds.IsFoldedConv(i, out var pair)) body.AddRange(BatchNormFold.ConvCall(m, plan, pair, cur, next, relus.Epilogue(i)));
                else if (k == LayerKind.BatchNorm2d) body.Add($"{pre}_Inference({cur}, {next}, p, rb + {plan.BufferSlot[i]}, n);");
                else body.Add($"{pre}_Forward({cur}, {next}, p, col, null, null, n, false, null);");
                cur = next;
            }
            used = System.Math.Max(used, 1);

            w.Line("/// <summary>Inference for one sample (NCHW floats of <see cref=\"InputSize\"/>, dropout off). Thread-safe; no allocation after a thread's first call.</summary>");
            w.Line($"public void Forward({Sys}ReadOnlySpan<float> input, {Sys}Span<float> output) => Forward(input, output, 1);");
            w.Line();
            w.Line("/// <summary>Inference for <paramref name=\"batchSize\"/> samples, NCHW (dropout off" + ApiEmitter.FoldedNote(folds) + "). Thread-safe: each thread uses its own buffers.</summary>");
            using (w.Block($"public unsafe void Forward({Sys}ReadOnlySpan<float> input, {Sys}Span<float> output, int batchSize)"))
            {
                w.Line($"if (batchSize < 1) throw new {Sys}ArgumentOutOfRangeException(nameof(batchSize), batchSize, \"batch size must be at least 1\");");
                ApiEmitter.Check(w, "input", "InputSize", "input", $"[{m.Input.C}, {m.Input.H}, {m.Input.W}]");
                ApiEmitter.Check(w, "output", "OutputSize", "output", m.Output.ToString());
                long chunk = plan.InferenceChunk;
                w.Line($"const int Chunk = {chunk}; // samples per pass: 2 buffers × {chunk} × {plan.MaxLayerSize} floats fit in {MemoryPlan.InferenceChunkBytes >> 20} MiB");
                w.Line("int need = global::System.Math.Min(batchSize, Chunk) * MaxLayerSize;");
                w.Line($"// {used} pinned, 64-byte-aligned per-thread buffers (the branches keep their input until the join).");
                w.Line($"float[][] q = t_buffers is {{ }} tq && tq[0].Length >= need + {A}Slack ? tq : (t_buffers = AllocateBuffers({used}, need));");
                w.Line($"float[] c = t_columns ??= {A}Allocate(ColumnScratch);");
                ApiEmitter.EmitFoldCall(w, folds);
                string fixedBuffers = string.Join(", ", Enumerable.Range(0, used).Select(k => $"q{k}0 = q[{k}]"));
                string rb = plan.BufferCount > 0 ? ", rb = Buffers" : "";
                string f0 = folds.Any ? ", f0 = f" : "";
                using (w.Block($"fixed (float* xin = input, yout = output, p = Parameters, c0 = c, {fixedBuffers}{rb}{f0})"))
                using (w.Block("for (int start = 0; start < batchSize; start += Chunk)"))
                {
                    w.Line($"float* {string.Join(", ", Enumerable.Range(0, used).Select(k => $"q{k} = {A}Align(q{k}0)"))}, col = {A}Align(c0)" + (folds.Any ? $", fp = {A}Align(f0);" : ";"));
                    w.Line("int n = global::System.Math.Min(Chunk, batchSize - start);");
                    w.Line("float* x0 = xin + start * InputSize;");
                    w.Line("float* y0 = yout + start * OutputSize;");
                    foreach (var line in body) w.Line(line);
                    w.Line($"new {Sys}Span<float>({cur}, n * OutputSize).CopyTo(new {Sys}Span<float>(y0, n * OutputSize));");
                }
            }
            w.Line();
            using (w.Block("private static float[][] AllocateBuffers(int count, int floats)"))
            {
                w.Line("var buffers = new float[count][];");
                w.Line($"for (int i = 0; i < count; i++) buffers[i] = {A}Allocate(floats);");
                w.Line("return buffers;");
            }
        }

        // ================================ training ================================
        public static void EmitTraining(CodeWriter w, ShapedModel m, MemoryPlan plan, List<ShapedLayer> codeLayers)
        {
            string Act(long slot) => $"act + {slot} * n";
            // The first layer with code, when it runs outside any branch, may skip its input gradient.
            int first = -1;
            for (int i = 0; i < m.Layers.Count && first < 0; i++)
            {
                var k = m.Layers[i].Spec.Kind;
                if (k == LayerKind.BranchBegin) break;
                if (!NoCode(k)) first = i;
            }
            ApiEmitter.EmitTrainingSkeleton(w, m, plan, channelsLastRun: false, branches: true, () =>
            {
                int k = 0;
                for (int i = 0; i < m.Layers.Count; i++)
                {
                    var l = m.Layers[i];
                    string pre = LayerEmitter.MethodPrefix(l);
                    switch (l.Spec.Kind)
                    {
                        case LayerKind.Add:
                            w.Line($"{L}Add({Act(plan.InSlot[i])}, {Act(plan.SecondSlot[i])}, {Act(plan.OutSlot[i])}, n * {l.Out.Size}); // {l.KeyPrefix}: residual + shortcut");
                            continue;
                        case LayerKind.Scale:
                            w.Line($"{L}ScaleChannels({Act(plan.SecondSlot[i])}, {Act(plan.InSlot[i])}, {Act(plan.OutSlot[i])}, n * {l.Out.C}, {l.Out.H * l.Out.W}); // {l.KeyPrefix}: x · s");
                            continue;
                        case LayerKind.BranchBegin:
                            w.Line($"// {l.KeyPrefix}: branch from {Act(plan.InSlot[i])}");
                            continue;
                        case LayerKind.ShortcutBegin:
                            w.Line($"// {l.KeyPrefix}: shortcut from {Act(plan.InSlot[i])}");
                            continue;
                    }
                    if (NoCode(l.Spec.Kind)) continue;
                    if (l.Spec.Kind == LayerKind.BatchNorm2d)
                        w.Line($"{pre}_Forward({ApiEmitter.Args(plan, i)}, p, rb + {plan.BufferSlot[i]}, {ApiEmitter.Mask(plan, i)}, n, ws.UpdateBatchNormStatistics);");
                    else
                        w.Line($"{pre}_Forward({ApiEmitter.Args(plan, i)}, p, col, {ApiEmitter.Idx(plan, i)}, {ApiEmitter.Mask(plan, i)}, n, true, ws);");
                    w.Line($"if (ticks != null) {{ long t1 = global::System.Diagnostics.Stopwatch.GetTimestamp(); ticks[{k++}] += t1 - t0; t0 = t1; }}");
                }
            }, () =>
            {
                string cur = "ga", other = "gb";
                int k = codeLayers.Count;
                // Per open branch (innermost last): whether its shortcut has layers, decided at ShortcutBegin.
                var shortcutStack = new Stack<bool>();
                for (int i = m.Layers.Count - 1; i >= 0; i--)
                {
                    var l = m.Layers[i];
                    string pre = LayerEmitter.MethodPrefix(l);
                    switch (l.Spec.Kind)
                    {
                        case LayerKind.Add:
                        {
                            int d = plan.Depth[i];
                            w.Line($"// {l.KeyPrefix}: d(out) goes to both branches; keep it while the shortcut runs");
                            w.Line($"new {Sys}Span<float>({cur}, n * {l.Out.Size}).CopyTo(new {Sys}Span<float>({Act(plan.Stash(d, 0))}, n * {l.Out.Size}));");
                            continue;
                        }
                        case LayerKind.Scale:
                        {
                            int d = plan.Depth[i];
                            w.Line($"// {l.KeyPrefix}: y = x · s: d(x) direct part to the stash, d(s) on to the excitation branch");
                            w.Line($"{L}ScaleChannelsBackward({Act(plan.SecondSlot[i])}, {Act(plan.InSlot[i])}, {cur}, {Act(plan.Stash(d, 0))}, {other}, n * {l.Out.C}, {l.Out.H * l.Out.W});");
                            (cur, other) = (other, cur);
                            continue;
                        }
                        case LayerKind.ShortcutBegin:
                        {
                            int d = plan.Depth[i];
                            bool has = HasShortcutLayers(m, i);
                            shortcutStack.Push(has);
                            if (has)
                            {
                                w.Line($"// {l.KeyPrefix}: the shortcut's input gradient aside, then the residual branch from d(out)");
                                w.Line($"new {Sys}Span<float>({cur}, n * {l.In.Size}).CopyTo(new {Sys}Span<float>({Act(plan.Stash(d, 1))}, n * {l.In.Size}));");
                                int outSize = JoinAfter(m, i).Out.Size;
                                w.Line($"new {Sys}Span<float>({Act(plan.Stash(d, 0))}, n * {outSize}).CopyTo(new {Sys}Span<float>({cur}, n * {outSize}));");
                            }
                            continue;
                        }
                        case LayerKind.BranchBegin:
                        {
                            int d = plan.Depth[i];
                            bool has = shortcutStack.Pop();
                            w.Line($"// {l.KeyPrefix}: sum the gradients of the two paths from the branch input");
                            w.Line($"global::CnnGen.Kernels.Ops.AddTo({cur}, {Act(plan.Stash(d, has ? 1 : 0))}, n * {l.In.Size});");
                            continue;
                        }
                    }
                    if (NoCode(l.Spec.Kind)) continue;
                    string needDx = i == first ? "needInput" : "true";
                    if (l.Spec.Kind == LayerKind.BatchNorm2d)
                        w.Line($"{pre}_Backward({Act(plan.InSlot[i])}, {cur}, {other}, p, g, {ApiEmitter.Mask(plan, i)}, n, {needDx});");
                    else
                        w.Line($"{pre}_Backward({ApiEmitter.Args(plan, i)}, {cur}, {other}, p, g, col, {ApiEmitter.Idx(plan, i)}, {ApiEmitter.Mask(plan, i)}, n, {needDx});");
                    w.Line($"if (ticks != null) {{ long t1 = global::System.Diagnostics.Stopwatch.GetTimestamp(); ticks[{--k}] += t1 - t0; t0 = t1; }}");
                    (cur, other) = (other, cur);
                }
                return cur;
            });
        }

        /// <summary>The join (Add or Scale) that closes the branch whose ShortcutBegin is at <paramref name="shortcutBegin"/>.</summary>
        private static ShapedLayer JoinAfter(ShapedModel m, int shortcutBegin)
        {
            int depth = 0;
            for (int i = shortcutBegin + 1; i < m.Layers.Count; i++)
            {
                var k = m.Layers[i].Spec.Kind;
                if (k == LayerKind.BranchBegin) depth++;
                else if (k == LayerKind.Add || k == LayerKind.Scale)
                {
                    if (depth == 0) return m.Layers[i];
                    depth--;
                }
            }
            throw new System.InvalidOperationException("unbalanced branch markers");
        }
    }
}

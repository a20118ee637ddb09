using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>The training API of a sequential model: the workspace, ForwardTrain and Backward, printed from the plan's training steps.</summary>
    internal static partial class ApiEmitter
    {
        internal static void EmitWorkspace(CodeWriter w, ShapedModel m, MemoryPlan plan)
        {
            long maxGrad = plan.MaxLayerSize;
            w.Line("/// <summary>A training workspace (saved activations, pooling indices, dropout masks, scratch) for up to <paramref name=\"maxBatchSize\"/> samples; one per thread.</summary>");
            w.Line("public global::CnnGen.TrainingWorkspace CreateWorkspace(int maxBatchSize, ulong seed = 0) =>");
            w.Line($"    new global::CnnGen.TrainingWorkspace(maxBatchSize, ActivationsPerSample, IndicesPerSample, {maxGrad}, ColumnScratch, seed);");
            w.Line();
            w.Line("private static void CheckWorkspace(global::CnnGen.TrainingWorkspace ws, int batchSize)");
            w.Line("{");
            w.Line($"    if (ws is null) throw new {Sys}ArgumentNullException(nameof(ws));");
            w.Line($"    if (batchSize < 1 || batchSize > ws.MaxBatchSize) throw new {Sys}ArgumentOutOfRangeException(nameof(batchSize), batchSize, $\"batch size must be between 1 and the workspace's {{ws.MaxBatchSize}}\");");
            w.Line("    const int slack = global::CnnGen.Kernels.AlignedMemory.Slack; // room to align the float buffers to 64 bytes");
            w.Line($"    if (ws.Activations.Length < (long)ws.MaxBatchSize * ActivationsPerSample + slack || ws.Indices.Length < (long)ws.MaxBatchSize * IndicesPerSample || ws.GradientA.Length < (long)ws.MaxBatchSize * {maxGrad} + slack || ws.GradientB.Length < (long)ws.MaxBatchSize * {maxGrad} + slack || ws.Scratch.Length < ColumnScratch + slack)");
            w.Line($"        throw new {Sys}ArgumentException(\"this workspace was not created by {m.Model.ClassName}.CreateWorkspace\", nameof(ws));");
            w.Line("}");
            w.Line();
        }

        /// <summary>
        /// The one training skeleton, for sequential and branching models alike: <c>ForwardTrain</c> (argument checks, pinning,
        /// the input copied into the arena, the output copied out) around <paramref name="forwardSteps"/>, then
        /// <c>Backward</c> (checks, pinning, d(output) into ga) around <paramref name="backwardSteps"/>, which prints the
        /// steps with dy in cur and dx into other and returns the buffer holding d(input). <paramref name="channelsLastRun"/>:
        /// training has a channels-last run (it needs ga in the forward pass); <paramref name="branches"/>: gradients of
        /// forked paths are summed (said in the doc comment).
        /// </summary>
        internal static void EmitTrainingSkeleton(CodeWriter w, ShapedModel m, MemoryPlan plan, bool channelsLastRun, bool branches,
            System.Action forwardSteps, System.Func<string> backwardSteps)
        {
            EmitWorkspace(w, m, plan);
            w.Line("/// <summary>Training-mode forward pass for <paramref name=\"batchSize\"/> samples; keeps what <see cref=\"Backward\"/> needs in <paramref name=\"ws\"/>.</summary>");
            using (w.Block($"public unsafe void ForwardTrain(global::CnnGen.TrainingWorkspace ws, {Sys}ReadOnlySpan<float> input, {Sys}Span<float> output, int batchSize)"))
            {
                w.Line("CheckWorkspace(ws, batchSize);");
                Check(w, "input", "InputSize", "input", $"[{m.Input.C}, {m.Input.H}, {m.Input.W}]");
                Check(w, "output", "OutputSize", "output", m.Output.ToString());
                w.Line("int n = batchSize;");
                using (w.Block("fixed (float* x0 = input, p = Parameters, act0 = ws.Activations, col0 = ws.Scratch" + (channelsLastRun ? ", ga0 = ws.GradientA" : "") + (plan.BufferCount > 0 ? ", rb = Buffers)" : ")")))
                using (w.Block("fixed (int* idx = ws.Indices)"))
                {
                    w.Line($"float* act = {A}Align(act0), col = {A}Align(col0)" + (channelsLastRun ? $", ga = {A}Align(ga0); // ga: scratch for the channels-last run's last output" : ";"));
                    w.Line($"new {Sys}Span<float>(x0, n * InputSize).CopyTo(new {Sys}Span<float>(act + {plan.InputSlot} * n, n * InputSize));");
                    w.Line("long[]? ticks = ws.ForwardTicks;");
                    w.Line("long t0 = ticks != null ? global::System.Diagnostics.Stopwatch.GetTimestamp() : 0;");
                    forwardSteps();
                    w.Line($"new {Sys}Span<float>(act + {plan.OutSlot[m.Layers.Count - 1]} * n, n * OutputSize).CopyTo(output);");
                }
                w.Line("ws.BatchSize = n;");
            }
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Backward pass of the last <see cref=\"ForwardTrain\"/> on <paramref name=\"ws\"/>: takes d(loss)/d(output) [batch, OutputSize],");
            w.Line("/// ADDS d(loss)/d(parameters) into <paramref name=\"parameterGradients\"/> and, when it is not empty, writes d(loss)/d(input) into <paramref name=\"inputGradient\"/>.");
            if (branches) w.Line("/// Where a branch forks, the gradients of its two paths are summed.");
            w.Line("/// </summary>");
            using (w.Block($"public unsafe void Backward(global::CnnGen.TrainingWorkspace ws, {Sys}ReadOnlySpan<float> outputGradient, {Sys}Span<float> parameterGradients, {Sys}Span<float> inputGradient)"))
            {
                w.Line($"if (ws is null) throw new {Sys}ArgumentNullException(nameof(ws));");
                w.Line("int batchSize = ws.BatchSize;");
                w.Line($"if (batchSize == 0) throw new {Sys}InvalidOperationException(\"call ForwardTrain on this workspace before Backward\");");
                w.Line("CheckWorkspace(ws, batchSize);");
                Check(w, "outputGradient", "OutputSize", "outputGradient", m.Output.ToString());
                w.Line($"if (parameterGradients.Length < ParameterCount) throw new {Sys}ArgumentException($\"parameterGradients holds {{parameterGradients.Length}} floats, but the model has {{ParameterCount}} parameters\", nameof(parameterGradients));");
                w.Line("bool needInput = !inputGradient.IsEmpty;");
                w.Line("if (needInput)");
                w.Line("{");
                Check(w, "inputGradient", "InputSize", "inputGradient", $"[{m.Input.C}, {m.Input.H}, {m.Input.W}]");
                w.Line("}");
                w.Line("int n = batchSize;");
                using (w.Block("fixed (float* dy0 = outputGradient, dx0 = inputGradient, p = Parameters, g = parameterGradients, act0 = ws.Activations, col0 = ws.Scratch, ga0 = ws.GradientA, gb0 = ws.GradientB)"))
                using (w.Block("fixed (int* idx = ws.Indices)"))
                {
                    w.Line($"float* act = {A}Align(act0), col = {A}Align(col0), ga = {A}Align(ga0), gb = {A}Align(gb0);");
                    w.Line($"new {Sys}Span<float>(dy0, n * OutputSize).CopyTo(new {Sys}Span<float>(ga, n * OutputSize));");
                    w.Line("long[]? ticks = ws.BackwardTicks;");
                    w.Line("long t0 = ticks != null ? global::System.Diagnostics.Stopwatch.GetTimestamp() : 0;");
                    string cur = backwardSteps();
                    w.Line($"if (needInput) new {Sys}Span<float>({cur}, n * InputSize).CopyTo(inputGradient);");
                }
            }
        }

        /// <summary>The per-layer timing after step <paramref name="k"/> (ForwardTicks / BackwardTicks, indexed like LayerNames).</summary>
        internal static void Tick(CodeWriter w, int k) =>
            w.Line($"if (ticks != null) {{ long t1 = global::System.Diagnostics.Stopwatch.GetTimestamp(); ticks[{k}] += t1 - t0; t0 = t1; }}");

        /// <summary>A sequential model's training: the plan's training steps in the skeleton.</summary>
        private static void EmitTraining(CodeWriter w, ShapedModel m, MemoryPlan plan, ExecutionPlan steps, List<ShapedLayer> layers, ChannelsLastTraining? training)
        {
            EmitTrainingSkeleton(w, m, plan, training is not null, branches: false, () =>
            {
                int k = 0;
                foreach (var step in steps.TrainForward)
                {
                    int i = step.Layer;
                    var l = m.Layers[i];
                    if (step.Kernel == Kernel.Fused)
                        w.Line($"// {l.SummaryName}: applied by the convolution before it");
                    else if (step.Kernel != Kernel.Forward)
                        foreach (var line in training!.ForwardCall(m, plan, i)!) w.Line(line);
                    else if (l.Spec.Kind == LayerKind.BatchNorm2d)
                        w.Line($"{LayerEmitter.MethodPrefix(l)}_Forward({Args(plan, i)}, p, rb + {plan.BufferSlot[i]}, {Mask(plan, i)}, n, ws.UpdateBatchNormStatistics);");
                    else
                        w.Line($"{LayerEmitter.MethodPrefix(l)}_Forward({Args(plan, i)}, p, col, {Idx(plan, i)}, {Mask(plan, i)}, n, true, ws);");
                    Tick(w, k++);
                }
            }, () =>
            {
                int k = layers.Count;
                string cur = "ga", other = "gb";
                int first = steps.TrainForward.Count > 0 ? steps.TrainForward[0].Layer : -1;
                foreach (var step in steps.Backward)
                {
                    int i = step.Layer;
                    var l = m.Layers[i];
                    string needDx = i == first ? "needInput" : "true";
                    if (step.Kernel == Kernel.Fused)
                    {
                        w.Line($"// {l.SummaryName}: its backward runs in the convolution before it");
                        Tick(w, --k);
                        continue;
                    }
                    if (step.Kernel == Kernel.BackwardChannelsLast)
                        foreach (var line in training!.BackwardCall(m, plan, i, ref cur, ref other, needDx)!) w.Line(line);
                    else if (l.Spec.Kind == LayerKind.BatchNorm2d)
                        w.Line($"{LayerEmitter.MethodPrefix(l)}_Backward(act + {plan.InSlot[i]} * n, {cur}, {other}, p, g, {Mask(plan, i)}, n, {needDx});");
                    else
                        w.Line($"{LayerEmitter.MethodPrefix(l)}_Backward({Args(plan, i)}, {cur}, {other}, p, g, col, {Idx(plan, i)}, {Mask(plan, i)}, n, {needDx});");
                    Tick(w, --k);
                    (cur, other) = (other, cur);
                }
                return cur;
            });
        }

        internal static string Args(MemoryPlan plan, int i) => $"act + {plan.InSlot[i]} * n, act + {plan.OutSlot[i]} * n";
        internal static string Idx(MemoryPlan plan, int i) => plan.IndexSlot[i] < 0 ? "null" : $"idx + {plan.IndexSlot[i]} * n";
        internal static string Mask(MemoryPlan plan, int i) => plan.MaskSlot[i] < 0 ? "null" : $"act + {plan.MaskSlot[i]} * n";
    }
}

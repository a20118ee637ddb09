using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// The model's public API: parameters, initialization, inference, the training step (forward + backward),
    /// weights I/O; and the calls into the per-layer code of <see cref="LayerEmitter"/>.
    /// </summary>
    internal static partial class ApiEmitter
    {
        private const string Sys = "global::System.";
        private const string A = "global::CnnGen.Kernels.AlignedMemory.";
        private const string K = "global::CnnGen.Kernels.";

        public static void Emit(CodeWriter w, Lowered lowered)
        {
            var m = lowered.Model;
            var plan = lowered.Memory;
            var folds = lowered.Folds;
            var steps = lowered.Plan;
            string cls = m.Model.ClassName;
            var layers = lowered.Layers;
            bool branchy = plan.Branchy;
            var run = lowered.Run;
            var channelsLast = lowered.ChannelsLast;
            var training = lowered.Training;

            w.Line("// Memory plan (floats per sample unless noted): computed at compile time from the shapes.");
            w.Line($"private const int ActivationsPerSample = {plan.ActivationsPerSample};");
            w.Line($"private const int IndicesPerSample = {plan.IndicesPerSample};");
            w.Line($"private const int MaxLayerSize = {plan.MaxLayerSize};");
            w.Line($"private const int ColumnScratch = {plan.ColumnScratch}; // convolution scratch: im2col of a chunk of samples (plus its staged output)");
            w.Line();
            w.Line("/// <summary>safetensors key, PyTorch shape and offset in <see cref=\"Parameters\"/> of every tensor, in <c>state_dict</c> order.</summary>");
            w.Line("private static readonly global::CnnGen.IO.TensorSlot[] s_slots =");
            w.Line("{");
            foreach (var t in m.Layers.SelectMany(l => l.Tensors())) w.Line(SlotLine(t.Key, t.Shape, t.Offset.ToString(CultureInfo.InvariantCulture), "F32"));
            w.Line("};");
            w.Line();
            if (plan.BufferCount > 0) EmitBufferSlots(w, m, plan);
            if (branchy) w.Line("[global::System.ThreadStatic] private static float[][]? t_buffers;");
            else
            {
                w.Line("[global::System.ThreadStatic] private static float[]? t_bufferA;");
                w.Line("[global::System.ThreadStatic] private static float[]? t_bufferB;");
            }
            w.Line("[global::System.ThreadStatic] private static float[]? t_columns;");
            w.Line();
            w.Line("/// <summary>All parameters, flat, in PyTorch's <c>state_dict</c> order (each layer's weight, then bias).</summary>");
            w.Line("public float[] Parameters { get; }");
            w.Line();
            w.Line("private static readonly string[] s_layerNames = { " + string.Join(", ", layers.Select(l => Text.Str(l.SummaryName))) + " };");
            w.Line();
            w.Line("/// <summary>The layers that run, named as the summary names them; indexes of <see cref=\"global::CnnGen.TrainingWorkspace.ForwardTicks\"/>.</summary>");
            w.Line("public string[] LayerNames => s_layerNames;");
            w.Line();
            w.Line("/// <summary>Where each named tensor lives in <see cref=\"Parameters\"/>.</summary>");
            w.Line("public global::CnnGen.IO.TensorSlot[] ParameterSlots => s_slots;");
            w.Line();
            w.Line("int global::CnnGen.ICnnModel.InputSize => InputSize;");
            w.Line("int global::CnnGen.ICnnModel.OutputSize => OutputSize;");
            w.Line("int global::CnnGen.ICnnModel.ParameterCount => ParameterCount;");
            w.Line();
            if (m.Baked is { } baked)
            {
                EmitBakedApi(w, cls, baked, plan.BufferCount > 0);
            }
            else
            {
                w.Line("/// <summary>Creates the model with parameters initialized as PyTorch initializes the same modules, deterministically for <paramref name=\"seed\"/>.</summary>");
                using (w.Block($"public {cls}(int seed = 0)"))
                {
                    w.Line("global::CnnGen.RuntimeInfo.CheckInstructionSet();");
                    w.Line("Parameters = new float[ParameterCount];");
                    if (plan.BufferCount > 0) w.Line("Buffers = new float[BufferCount];");
                    w.Line("ResetParameters(seed);");
                }
            }
            w.Line();
            EmitReset(w, m, plan);
            w.Line();
            if (folds.Any) folds.EmitFoldMethod(w, m, plan);
            if (branchy)
            {
                BranchEmitter.EmitInference(w, m, plan, folds, lowered.BranchRelus!);
                w.Line();
                BranchEmitter.EmitTraining(w, m, plan, layers);
            }
            else
            {
                if (channelsLast!.Any) channelsLast.EmitPackCache(w);
                EmitInference(w, m, plan, steps, folds, channelsLast);
                w.Line();
                EmitTraining(w, m, plan, steps, layers, training);
            }
            w.Line();
            if (plan.BufferCount > 0)
            {
                EmitStateIo(w);
                OnnxEmitter.Emit(w, m, true);
                foreach (var l in layers) EmitLayer(w, m, plan, steps, l);
                channelsLast?.EmitMethods(w, run!, plan.FusesRelu, l => IndexOf(m, l));
                EmitTrainingMethods(w, m, plan, channelsLast, training);
                if (m.Baked is { } withBuffers) EmitBakedData(w, m, withBuffers);
                return;
            }
            w.Line("/// <summary>Loads weights from a safetensors file with PyTorch <c>nn.Sequential</c> keys. Strict: a missing or extra key, wrong shape or dtype, or a damaged file throws and leaves the weights unchanged.</summary>");
            w.Line("public void LoadWeights(string path) => global::CnnGen.IO.SafeTensors.LoadInto(path, s_slots, Parameters);");
            w.Line();
            w.Line("/// <summary>Saves the weights as safetensors with PyTorch <c>nn.Sequential</c> keys, atomically (the previous file survives a crash).</summary>");
            w.Line("public void SaveWeights(string path) => global::CnnGen.IO.SafeTensors.Save(path, s_slots, Parameters);");
            w.Line();
            OnnxEmitter.Emit(w, m, false);
            foreach (var l in layers) EmitLayer(w, m, plan, steps, l);
            channelsLast?.EmitMethods(w, run!, plan.FusesRelu, l => IndexOf(m, l));
            EmitTrainingMethods(w, m, plan, channelsLast, training);
            if (m.Baked is { } data) EmitBakedData(w, m, data);
        }

        /// <summary>A C# literal for exactly this float (<see cref="Text.FloatData"/>).</summary>
        internal static string FloatLiteral(float v) => Text.FloatData(v);

        private static string Xml(string s) => Text.Xml(s);

        private static void EmitReset(CodeWriter w, ShapedModel m, MemoryPlan plan)
        {
            w.Line("/// <summary>");
            w.Line("/// Re-initializes every parameter from <paramref name=\"seed\"/>: PyTorch's defaults (kaiming-uniform with a = √5 for");
            w.Line("/// weights, uniform ±1/√fan_in for biases) or Keras' (Glorot-uniform weights, zero biases).");
            w.Line("/// </summary>");
            using (w.Block("public void ResetParameters(int seed, global::CnnGen.Initializer initializer = global::CnnGen.Initializer.PyTorch)"))
            {
                w.Line("var rng = new global::CnnGen.Rng(seed);");
                w.Line("var p = new global::System.Span<float>(Parameters);");
                for (int i = 0; i < m.Layers.Count; i++)
                {
                    var l = m.Layers[i];
                    var s = l.Spec;
                    if (s.Kind == LayerKind.BatchNorm2d)
                    {
                        // PyTorch's reset_parameters / reset_running_stats (Keras' defaults are the same): γ = 1, β = 0, mean 0, var 1, count 0.
                        w.Line($"// {l.SummaryName}: γ = 1, β = 0; running_mean = 0, running_var = 1, num_batches_tracked = 0");
                        if (l.ParamCount > 0)
                        {
                            w.Line($"p.Slice({l.ParamOffset}, {l.WeightCount}).Fill(1f);");
                            w.Line($"p.Slice({l.ParamOffset + l.WeightCount}, {l.BiasCount}).Clear();");
                        }
                        int at = plan.BufferSlot[i], c = l.Out.C;
                        w.Line($"new global::System.Span<float>(Buffers, {at}, {c}).Clear();");
                        w.Line($"new global::System.Span<float>(Buffers, {at + c}, {c}).Fill(1f);");
                        w.Line($"Buffers[{at + 2 * c}] = 0f;");
                        continue;
                    }
                    if (l.ParamCount == 0) continue;
                    int fanIn = s.Kind == LayerKind.Conv2d ? (s.In / s.Groups) * s.KernelH * s.KernelW : s.In;
                    int fanOut = s.Kind == LayerKind.Conv2d ? s.Out * s.KernelH * s.KernelW : s.Out; // as torch.nn.init computes it from the weight shape
                    w.Line($"// {l.SummaryName}: fan_in {fanIn}, fan_out {fanOut}");
                    string weights = $"p.Slice({l.ParamOffset}, {l.WeightCount})";
                    string bias = $"p.Slice({l.ParamOffset + l.WeightCount}, {l.BiasCount})";
                    using (w.Block("if (initializer == global::CnnGen.Initializer.PyTorch)"))
                    {
                        w.Line($"global::CnnGen.Init.KaimingUniform({weights}, {fanIn}, rng);");
                        if (l.BiasCount > 0) w.Line($"global::CnnGen.Init.Uniform({bias}, global::CnnGen.Init.BiasBound({fanIn}), rng);");
                    }
                    using (w.Block("else"))
                    {
                        w.Line($"global::CnnGen.Init.GlorotUniform({weights}, {fanIn}, {fanOut}, rng);");
                        if (l.BiasCount > 0) w.Line($"{bias}.Clear();");
                    }
                }
            }
        }

        internal static void Check(CodeWriter w, string span, string perSample, string what, string shape)
        {
            using (w.Block($"if ({span}.Length < (long)batchSize * {perSample})"))
            {
                w.Line($"throw new {Sys}ArgumentException($\"{what} holds {{{span}.Length}} floats, but {{batchSize}} sample(s) of {shape} need {{(long)batchSize * {perSample}}}\", nameof({span}));");
            }
        }

        private static void EmitInference(CodeWriter w, ShapedModel m, MemoryPlan plan, ExecutionPlan steps, BatchNormFold folds, ChannelsLast channelsLast)
        {
            string repack = channelsLast.Any ? " (nor after the first, unless the convolution weights changed: then they are repacked once)" : "";
            w.Line("/// <summary>Inference for one sample (NCHW floats of <see cref=\"InputSize\"/>, dropout off). Thread-safe; no allocation after a thread's first call" + repack + ".</summary>");
            w.Line($"public void Forward({Sys}ReadOnlySpan<float> input, {Sys}Span<float> output) => Forward(input, output, 1);");
            w.Line();
            w.Line("/// <summary>Inference for <paramref name=\"batchSize\"/> samples, NCHW (dropout off" + FoldedNote(folds) + "). Thread-safe: each thread uses its own buffers.</summary>");
            using (w.Block($"public unsafe void Forward({Sys}ReadOnlySpan<float> input, {Sys}Span<float> output, int batchSize)"))
            {
                w.Line($"if (batchSize < 1) throw new {Sys}ArgumentOutOfRangeException(nameof(batchSize), batchSize, \"batch size must be at least 1\");");
                Check(w, "input", "InputSize", "input", $"[{string.Join(", ", new[] { m.Input.C, m.Input.H, m.Input.W })}]");
                Check(w, "output", "OutputSize", "output", m.Output.ToString());
                long chunk = plan.InferenceChunk;
                w.Line($"const int Chunk = {chunk}; // samples per pass: 2 buffers × {chunk} × {plan.MaxLayerSize} floats fit in {MemoryPlan.InferenceChunkBytes >> 20} MiB");
                w.Line("int need = global::System.Math.Min(batchSize, Chunk) * MaxLayerSize;");
                w.Line("// Pinned, 64-byte-aligned per-thread buffers (see Kernels.AlignedMemory).");
                w.Line($"float[] a = t_bufferA is {{ }} ta && ta.Length >= need + {A}Slack ? ta : (t_bufferA = {A}Allocate(need));");
                w.Line($"float[] b = t_bufferB is {{ }} tb && tb.Length >= need + {A}Slack ? tb : (t_bufferB = {A}Allocate(need));");
                w.Line($"float[] c = t_columns ??= {A}Allocate(ColumnScratch);");
                EmitFoldCall(w, folds);
                if (channelsLast.Any) w.Line("float[] cl = ChannelsLastPack(); // convolution weights in channels-last order (see ChannelsLastPack)");
                using (w.Block("fixed (float* xin = input, yout = output, p = Parameters, a0 = a, b0 = b, c0 = c" + (plan.BufferCount > 0 ? ", rb = Buffers" : "") + (folds.Any ? ", f0 = f" : "") + (channelsLast.Any ? ", cl0 = cl)" : ")")))
                using (w.Block("for (int start = 0; start < batchSize; start += Chunk)"))
                {
                    w.Line($"float* pa = {A}Align(a0), pb = {A}Align(b0), col = {A}Align(c0)" + (folds.Any ? $", fp = {A}Align(f0)" : "") + (channelsLast.Any ? $", wt = {A}Align(cl0);" : ";"));
                    w.Line("int n = global::System.Math.Min(Chunk, batchSize - start);");
                    w.Line("float* x0 = xin + start * InputSize;");
                    w.Line("float* y0 = yout + start * OutputSize;");
                    // The plan's steps, in order (a fused step has no code: the step before it applies it).
                    var code = steps.Inference.Where(st => st.Kernel != Kernel.Fused).ToList();
                    for (int i = 0; i < code.Count; i++)
                    {
                        if (code[i].PerSample)
                        {
                            // Inside the loop a sample's activations sit MaxLayerSize apart, so a later sample never
                            // overwrites an earlier one's output; the last step writes them packed for the next layer.
                            using (w.Block("for (int s = 0; s < n; s++) // one sample at a time through the channels-last layers"))
                            {
                                int first = i;
                                for (; i < code.Count && code[i].PerSample; i++)
                                {
                                    bool lastInLoop = i + 1 == code.Count || !code[i + 1].PerSample;
                                    string input = $"{Buf(code[i].In)} + s * {(i == first ? code[i].InSize : plan.MaxLayerSize)}";
                                    string output = $"{Buf(code[i].Out)} + s * {(lastInLoop ? code[i].OutSize : plan.MaxLayerSize)}";
                                    foreach (var line in InferenceCall(m, plan, folds, channelsLast, code[i], input, output, "1")) w.Line(line);
                                }
                            }
                            i--;
                            continue;
                        }
                        foreach (var line in InferenceCall(m, plan, folds, channelsLast, code[i], Buf(code[i].In), Buf(code[i].Out), "n")) w.Line(line);
                    }
                    var end = code.Count == 0 ? Buffer.Input : code[code.Count - 1].Out;
                    if (end != Buffer.Output)
                    {
                        w.Line($"new {Sys}Span<float>({Buf(end)}, n * OutputSize).CopyTo(new {Sys}Span<float>(y0, n * OutputSize));");
                    }
                }
            }
        }

        private static string Buf(Buffer b) => b switch { Buffer.Input => "x0", Buffer.A => "pa", Buffer.B => "pb", Buffer.Output => "y0", _ => "act" };

        /// <summary>The code of one inference step from <paramref name="x"/> into <paramref name="y"/> for <paramref name="n"/> samples.</summary>
        private static IEnumerable<string> InferenceCall(ShapedModel m, MemoryPlan plan, BatchNormFold folds, ChannelsLast channelsLast, PlanStep step,
            string x, string y, string n)
        {
            var l = m.Layers[step.Layer];
            switch (step.Kernel)
            {
                case Kernel.ToChannelsLast:
                    return new[] { $"{K}ChannelsLast.ToChannelsLast({x}, {y}, {n}, {l.In.C}, {l.In.H * l.In.W}); // to channels-last" };
                case Kernel.ToChannelsFirst:
                    return new[] { $"{K}ChannelsLast.ToChannelsFirst({x}, {y}, {n}, {l.Out.C}, {l.Out.H * l.Out.W}); // back to channels-first" };
                case Kernel.ChannelsLastConvolutionPool:
                    return new[] { $"{ChannelsLast.FusedPrefix(l, channelsLast.FusedPool[l])}({x}, {y}, p, wt + {channelsLast.PackOffset[l]}, col, {n}); // and its max pool" };
                case Kernel.ChannelsLastConvolution:
                    return new[] { $"{ChannelsLast.Prefix(l)}({x}, {y}, p, wt + {channelsLast.PackOffset[l]}, col, {n});" };
                case Kernel.ChannelsLastMaxPool:
                    return new[] { $"{ChannelsLast.Prefix(l)}({x}, {y}, {n});" };
                case Kernel.FoldedConvolution:
                    folds.IsFoldedConv(step.Layer, out var pair);
                    return BatchNormFold.ConvCall(m, plan, pair, x, y);
                case Kernel.BatchNormInference:
                    return new[] { $"{LayerEmitter.MethodPrefix(l)}_Inference({x}, {y}, p, rb + {plan.BufferSlot[step.Layer]}, {n});" };
                case Kernel.Forward:
                    string note = step.Layout == Layout.ChannelsLast ? " // element-wise: any layout" : "";
                    return new[] { $"{LayerEmitter.MethodPrefix(l)}_Forward({x}, {y}, p, col, null, null, {n}, false, null);{note}" };
                default:
                    throw new System.InvalidOperationException($"inference has no {step.Kernel} step ({step.Name})");
            }
        }

        /// <summary>The channels-last training run's methods, and the forward kernels of its convolutions that inference does not already have.</summary>
        private static void EmitTrainingMethods(CodeWriter w, ShapedModel m, MemoryPlan plan, ChannelsLast? channelsLast, ChannelsLastTraining? training)
        {
            if (training is null) return;
            foreach (int i in training.PackOffset.Keys)
            {
                var l = m.Layers[i];
                if (channelsLast is null || !channelsLast.PackOffset.ContainsKey(l) || channelsLast.FusedPool.ContainsKey(l)) ChannelsLast.EmitConv(w, l, plan.FusesRelu[i]);
            }
            training.EmitMethods(w, m, plan);
        }

        private static void EmitLayer(CodeWriter w, ShapedModel m, MemoryPlan plan, ExecutionPlan steps, ShapedLayer l)
        {
            int i = IndexOf(m, l);
            LayerEmitter.Emit(w, l, plan.FusesRelu[i], plan.ReluFused[i], steps.VariantsOf(i));
        }

        internal static string FoldedNote(BatchNormFold folds) => folds.Any ? "; batch norm folded into the convolution before it" : "";

        /// <summary>
        /// Folds batch norm into the convolutions (into the per-thread buffer f) once per call, before the chunks: the
        /// parameters and running statistics are read as they are now, so the fold is never stale.
        /// </summary>
        internal static void EmitFoldCall(CodeWriter w, BatchNormFold folds)
        {
            if (!folds.Any) return;
            w.Line($"int foldNeed = FoldedFloats(batchSize);");
            w.Line($"float[] f = t_folded is {{ }} tf && tf.Length >= foldNeed + {A}Slack ? tf : (t_folded = {A}Allocate(foldNeed));");
            w.Line($"fixed (float* p = Parameters, rb = Buffers, f0 = f) FoldBatchNorm(p, rb, {A}Align(f0), batchSize); // f is pinned: the same aligned address below");
        }

        private static int IndexOf(ShapedModel m, ShapedLayer l)
        {
            for (int i = 0; i < m.Layers.Count; i++)
            {
                if (ReferenceEquals(m.Layers[i], l)) return i;
            }
            throw new System.InvalidOperationException("layer not in model: " + l.SummaryName);
        }

    }
}

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
    internal static class ApiEmitter
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
                BranchEmitter.EmitInference(w, m, plan, folds);
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
            foreach (var l in layers) EmitLayer(w, m, plan, steps, l);
            channelsLast?.EmitMethods(w, run!, plan.FusesRelu, l => IndexOf(m, l));
            EmitTrainingMethods(w, m, plan, channelsLast, training);
            if (m.Baked is { } data) EmitBakedData(w, m, data);
        }

        /// <summary>Constructors and members of a model with compiled-in weights (<c>[Model(Weights = "...")]</c>).</summary>
        private static void EmitBakedApi(CodeWriter w, string cls, BakedWeights baked, bool buffers)
        {
            string file = baked.File;
            w.Line("/// <summary>The safetensors file whose weights are compiled into this model, as the project names it.</summary>");
            w.Line($"public const string BakedWeightsFile = {Text.Str(file)};");
            w.Line();
            w.Line("/// <summary>SHA-256 of <see cref=\"BakedWeightsFile\"/> as it was compiled in.</summary>");
            w.Line($"public const string BakedWeightsSha256 = {Text.Str(baked.Sha256)};");
            w.Line();
            w.Line($"/// <summary>Creates the model with the trained weights compiled in from <c>{Xml(file)}</c> (<see cref=\"BakedWeights\"/>" +
                   (buffers ? ", and batch norm's running statistics, <see cref=\"BakedBuffers\"/>" : "") + "): no file is read.</summary>");
            using (w.Block($"public {cls}()"))
            {
                w.Line("global::CnnGen.RuntimeInfo.CheckInstructionSet();");
                w.Line("Parameters = new float[ParameterCount];");
                if (buffers) w.Line("Buffers = new float[BufferCount];");
                w.Line("BakedWeights.CopyTo(Parameters);");
                if (buffers) w.Line("BakedBuffers.CopyTo(Buffers);");
            }
            w.Line();
            w.Line("/// <summary>Creates the model with parameters initialized as PyTorch initializes the same modules, deterministically for <paramref name=\"seed\"/> (not the compiled-in weights: use the parameterless constructor for those).</summary>");
            using (w.Block($"public {cls}(int seed)"))
            {
                w.Line("global::CnnGen.RuntimeInfo.CheckInstructionSet();");
                w.Line("Parameters = new float[ParameterCount];");
                if (buffers) w.Line("Buffers = new float[BufferCount];");
                w.Line("ResetParameters(seed);");
            }
            w.Line();
            if (buffers)
            {
                w.Line("/// <summary>Puts the compiled-in weights (<see cref=\"BakedWeights\"/>) back into <see cref=\"Parameters\"/> and the compiled-in running statistics (<see cref=\"BakedBuffers\"/>) into <see cref=\"Buffers\"/>.</summary>");
                using (w.Block("public void LoadBakedWeights()"))
                {
                    w.Line("BakedWeights.CopyTo(Parameters);");
                    w.Line("BakedBuffers.CopyTo(Buffers);");
                }
            }
            else
            {
                w.Line("/// <summary>Puts the compiled-in weights (<see cref=\"BakedWeights\"/>) back into <see cref=\"Parameters\"/>.</summary>");
                w.Line("public void LoadBakedWeights() => BakedWeights.CopyTo(Parameters);");
            }
        }

        /// <summary>
        /// The compiled-in weights as one constant float array. A <c>ReadOnlySpan&lt;float&gt;</c> property over a
        /// constant array initializer is read-only data in the assembly (RuntimeHelpers.CreateSpan): no allocation,
        /// no start-up cost. Values are written with 9 significant digits, which round-trips every float exactly.
        /// </summary>
        private static void EmitBakedData(CodeWriter w, ShapedModel m, BakedWeights baked)
        {
            const int PerLine = 8;
            // (the layer methods above end with a blank line)
            w.Line($"/// <summary>The weights compiled in from <c>{Xml(baked.File)}</c> (SHA-256 {baked.Sha256}), every parameter in <see cref=\"Parameters\"/> order. Read-only data in the binary.</summary>");
            w.Line("public static global::System.ReadOnlySpan<float> BakedWeights => new float[]");
            w.Line("{");
            var values = baked.Values;
            foreach (var l in m.Layers)
            {
                foreach (var t in l.Tensors()) Tensor($"{t.Key} {t.ShapeText} ({l.SummaryName})", t.Offset, t.Count);
            }
            w.Line("};");
            if (baked.Buffers.Count > 0)
            {
                w.Line();
                w.Line($"/// <summary>Batch norm's running statistics compiled in from <c>{Xml(baked.File)}</c>, in <see cref=\"Buffers\"/> order (num_batches_tracked, I64 in the file, as a float). Read-only data in the binary.</summary>");
                w.Line("public static global::System.ReadOnlySpan<float> BakedBuffers => new float[]");
                w.Line("{");
                values = baked.Buffers;
                foreach (var b in ShapedModelBuffers.BufferTensors(m)) Tensor($"{b.Key} {b.DType} {b.ShapeText} ({b.Layer.SummaryName})", b.Offset, b.Count);
                w.Line("};");
            }

            void Tensor(string title, int offset, int count)
            {
                w.Line($"    // {title}: {count} values from offset {offset}");
                var sb = new System.Text.StringBuilder();
                for (int i = 0; i < count; i += PerLine)
                {
                    sb.Clear();
                    for (int j = i; j < System.Math.Min(count, i + PerLine); j++)
                    {
                        if (j > i) sb.Append(' ');
                        sb.Append(Text.FloatData(values[offset + j])).Append(',');
                    }
                    w.Line("    " + sb);
                }
            }
        }

        /// <summary>A C# literal for exactly this float (<see cref="Text.FloatData"/>).</summary>
        internal static string FloatLiteral(float v) => Text.FloatData(v);

        private static string Xml(string s) => Text.Xml(s);

        /// <summary>Batch norm's buffers: running statistics, not parameters (no gradient, not in ParameterCount), saved with the weights.</summary>
        private static void EmitBufferSlots(CodeWriter w, ShapedModel m, MemoryPlan plan)
        {
            w.Line($"private const int BufferCount = {plan.BufferCount};");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Batch norm's running statistics (running_mean [C], running_var [C], num_batches_tracked as one float, per layer):");
            w.Line("/// updated by <see cref=\"ForwardTrain\"/>, read by <see cref=\"Forward(global::System.ReadOnlySpan{float}, global::System.Span{float})\"/>, saved and loaded with the weights.");
            w.Line("/// </summary>");
            w.Line("public float[] Buffers { get; }");
            w.Line();
            w.Line("/// <summary>Where each buffer tensor lives in <see cref=\"Buffers\"/>.</summary>");
            w.Line("public global::CnnGen.IO.TensorSlot[] BufferSlots => s_bufferSlots;");
            w.Line();
            w.Line("private static readonly global::CnnGen.IO.TensorSlot[] s_bufferSlots =");
            w.Line("{");
            var buffers = ShapedModelBuffers.BufferTensors(m).ToList();
            foreach (var b in buffers) w.Line(SlotLine(b.Key, b.Shape, b.Offset.ToString(CultureInfo.InvariantCulture), b.DType));
            w.Line("};");
            w.Line();
            w.Line("/// <summary>Every tensor of the <c>state_dict</c> in PyTorch's order: parameters at their offset in <see cref=\"Parameters\"/>, buffers at ParameterCount + their offset in <see cref=\"Buffers\"/>.</summary>");
            w.Line("private static readonly global::CnnGen.IO.TensorSlot[] s_state =");
            w.Line("{");
            foreach (var l in m.Layers)
            {
                foreach (var t in l.Tensors()) w.Line(SlotLine(t.Key, t.Shape, t.Offset.ToString(CultureInfo.InvariantCulture), "F32"));
                foreach (var b in buffers.Where(b => ReferenceEquals(b.Layer, l)))
                    w.Line(SlotLine(b.Key, b.Shape, "ParameterCount + " + b.Offset.ToString(CultureInfo.InvariantCulture), b.DType));
            }
            w.Line("};");
            w.Line();
        }

        /// <summary>One entry of a generated TensorSlot table: key, PyTorch shape, offset expression, and the dtype when not F32.</summary>
        private static string SlotLine(string key, int[] shape, string offset, string dtype) =>
            $"    new global::CnnGen.IO.TensorSlot({Text.Str(key)}, {(shape.Length == 0 ? "new int[0]" : $"new int[] {{ {string.Join(", ", shape)} }}")}, {offset})" +
            (dtype == "F32" ? "" : $" {{ DType = global::CnnGen.IO.SafeTensorDType.{dtype} }}") + ",";

        private static void EmitStateIo(CodeWriter w)
        {
            w.Line("/// <summary>Loads weights and batch-norm buffers from a safetensors file with PyTorch <c>state_dict</c> keys (<c>num_batches_tracked</c> as I64). Strict: a missing or extra key, wrong shape or dtype, or a damaged file throws and leaves the model unchanged.</summary>");
            using (w.Block("public void LoadWeights(string path)"))
            {
                w.Line("var state = new float[ParameterCount + BufferCount];");
                w.Line("global::CnnGen.IO.SafeTensors.LoadInto(path, s_state, state);");
                w.Line("new global::System.ReadOnlySpan<float>(state, 0, ParameterCount).CopyTo(Parameters);");
                w.Line("new global::System.ReadOnlySpan<float>(state, ParameterCount, BufferCount).CopyTo(Buffers);");
            }
            w.Line();
            w.Line("/// <summary>Saves the weights and batch-norm buffers as safetensors with PyTorch <c>state_dict</c> keys, atomically (the previous file survives a crash).</summary>");
            using (w.Block("public void SaveWeights(string path)"))
            {
                w.Line("var state = new float[ParameterCount + BufferCount];");
                w.Line("Parameters.CopyTo(state, 0);");
                w.Line("Buffers.CopyTo(state, ParameterCount);");
                w.Line("global::CnnGen.IO.SafeTensors.Save(path, s_state, state);");
            }
            w.Line();
        }

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

        private static void EmitTraining(CodeWriter w, ShapedModel m, MemoryPlan plan, ExecutionPlan steps, List<ShapedLayer> layers, ChannelsLastTraining? training)
        {
            EmitWorkspace(w, m, plan);
            w.Line("/// <summary>Training-mode forward pass for <paramref name=\"batchSize\"/> samples; keeps what <see cref=\"Backward\"/> needs in <paramref name=\"ws\"/>.</summary>");
            using (w.Block($"public unsafe void ForwardTrain(global::CnnGen.TrainingWorkspace ws, {Sys}ReadOnlySpan<float> input, {Sys}Span<float> output, int batchSize)"))
            {
                w.Line("CheckWorkspace(ws, batchSize);");
                Check(w, "input", "InputSize", "input", $"[{m.Input.C}, {m.Input.H}, {m.Input.W}]");
                Check(w, "output", "OutputSize", "output", m.Output.ToString());
                w.Line("int n = batchSize;");
                using (w.Block("fixed (float* x0 = input, p = Parameters, act0 = ws.Activations, col0 = ws.Scratch" + (training is not null ? ", ga0 = ws.GradientA" : "") + (plan.BufferCount > 0 ? ", rb = Buffers)" : ")")))
                {
                    using (w.Block("fixed (int* idx = ws.Indices)"))
                    {
                        w.Line($"float* act = {A}Align(act0), col = {A}Align(col0)" + (training is not null ? $", ga = {A}Align(ga0); // ga: scratch for the channels-last run's last output" : ";"));
                        w.Line($"new {Sys}Span<float>(x0, n * InputSize).CopyTo(new {Sys}Span<float>(act + {plan.InputSlot} * n, n * InputSize));");
                        w.Line("long[]? ticks = ws.ForwardTicks;");
                        w.Line("long t0 = ticks != null ? global::System.Diagnostics.Stopwatch.GetTimestamp() : 0;");
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
                            w.Line($"if (ticks != null) {{ long t1 = global::System.Diagnostics.Stopwatch.GetTimestamp(); ticks[{k++}] += t1 - t0; t0 = t1; }}");
                        }
                        long last = plan.OutSlot[m.Layers.Count - 1];
                        w.Line($"new {Sys}Span<float>(act + {last} * n, n * OutputSize).CopyTo(output);");
                    }
                }
                w.Line("ws.BatchSize = n;");
            }
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Backward pass of the last <see cref=\"ForwardTrain\"/> on <paramref name=\"ws\"/>: takes d(loss)/d(output) [batch, OutputSize],");
            w.Line("/// ADDS d(loss)/d(parameters) into <paramref name=\"parameterGradients\"/> and, when it is not empty, writes d(loss)/d(input) into <paramref name=\"inputGradient\"/>.");
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
                {
                    using (w.Block("fixed (int* idx = ws.Indices)"))
                    {
                        w.Line($"float* act = {A}Align(act0), col = {A}Align(col0), ga = {A}Align(ga0), gb = {A}Align(gb0);");
                        w.Line($"new {Sys}Span<float>(dy0, n * OutputSize).CopyTo(new {Sys}Span<float>(ga, n * OutputSize));");
                        w.Line("long[]? ticks = ws.BackwardTicks;");
                        w.Line("long t0 = ticks != null ? global::System.Diagnostics.Stopwatch.GetTimestamp() : 0;");
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
                                w.Line($"if (ticks != null) {{ long t1 = global::System.Diagnostics.Stopwatch.GetTimestamp(); ticks[{--k}] += t1 - t0; t0 = t1; }}");
                                continue;
                            }
                            if (step.Kernel == Kernel.BackwardChannelsLast)
                                foreach (var line in training!.BackwardCall(m, plan, i, ref cur, ref other, needDx)!) w.Line(line);
                            if (step.Kernel == Kernel.Backward && l.Spec.Kind == LayerKind.BatchNorm2d)
                                w.Line($"{LayerEmitter.MethodPrefix(l)}_Backward(act + {plan.InSlot[i]} * n, {cur}, {other}, p, g, {Mask(plan, i)}, n, {needDx});");
                            else if (step.Kernel == Kernel.Backward)
                                w.Line($"{LayerEmitter.MethodPrefix(l)}_Backward({Args(plan, i)}, {cur}, {other}, p, g, col, {Idx(plan, i)}, {Mask(plan, i)}, n, {needDx});");
                            w.Line($"if (ticks != null) {{ long t1 = global::System.Diagnostics.Stopwatch.GetTimestamp(); ticks[{--k}] += t1 - t0; t0 = t1; }}");
                            (cur, other) = (other, cur);
                        }
                        w.Line($"if (needInput) new {Sys}Span<float>({cur}, n * InputSize).CopyTo(inputGradient);");
                    }
                }
            }
        }

        internal static string Args(MemoryPlan plan, int i) => $"act + {plan.InSlot[i]} * n, act + {plan.OutSlot[i]} * n";
        internal static string Idx(MemoryPlan plan, int i) => plan.IndexSlot[i] < 0 ? "null" : $"idx + {plan.IndexSlot[i]} * n";
        internal static string Mask(MemoryPlan plan, int i) => plan.MaskSlot[i] < 0 ? "null" : $"act + {plan.MaskSlot[i]} * n";
    }
}

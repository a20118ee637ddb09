using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>Weights I/O and compiled-in weights: the tensor slot tables, batch norm's buffers, LoadWeights / SaveWeights, the baked-weights constructors and data.</summary>
    internal static partial class ApiEmitter
    {
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
    }
}

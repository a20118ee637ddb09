using System.Linq;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// ExportOnnx: the model's layers as a table of <c>CnnGen.IO.OnnxLayer</c> rows (kind, key, shapes, arguments), which
    /// the runtime's OnnxExport turns into ONNX nodes with the weights as initializers named by the safetensors keys.
    /// </summary>
    internal static class OnnxEmitter
    {
        public static void Emit(CodeWriter w, ShapedModel m, bool buffers)
        {
            string name = Text.Str(m.Model.ClassName.Replace("@", ""));
            string bufs = buffers ? "Buffers" : "global::System.ReadOnlySpan<float>.Empty";
            w.Line("/// <summary>Writes the model as an ONNX file (opset 17): its current weights as initializers named by the safetensors keys,");
            w.Line("/// input <c>input</c> [batch, C, H, W], output <c>output</c>; atomically. A layer with no ONNX form throws NotSupportedException.</summary>");
            w.Line($"public void ExportOnnx(string path) => global::CnnGen.IO.OnnxExport.Save(path, {name}, s_onnx, Parameters, {bufs});");
            w.Line();
            w.Line("/// <summary>Writes the model as ONNX (see <see cref=\"ExportOnnx(string)\"/>) to a stream.</summary>");
            w.Line($"public void ExportOnnx(global::System.IO.Stream stream) => global::CnnGen.IO.OnnxExport.Save(stream, {name}, s_onnx, Parameters, {bufs});");
            w.Line();
            var bufferAt = ShapedModelBuffers.BufferTensors(m).GroupBy(b => b.Layer).ToDictionary(g => g.Key, g => g.First().Offset);
            w.Line("// ONNX rows: kind, key, input and output shape per sample,");
            w.Line("// { kernel h, w, stride h, w, padding h, w, dilation h, w, groups, bias, parameter offset, buffer offset }, value, option.");
            w.Line("private static readonly global::CnnGen.IO.OnnxLayer[] s_onnx =");
            w.Line("{");
            foreach (var l in m.Layers)
            {
                var s = l.Spec;
                int buffer = bufferAt.TryGetValue(l, out int at) ? at : -1;
                int[] args = { s.KernelH, s.KernelW, s.StrideH, s.StrideW, s.PadH, s.PadW, s.DilationH, s.DilationW, s.Groups, l.BiasCount > 0 ? 1 : 0, l.ParamOffset, buffer };
                string value = s.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
                if (value.IndexOf('.') < 0 && value.IndexOf('E') < 0) value += ".0";
                w.Line($"    new({Text.Str(s.Kind.ToString())}, {Text.Str(l.KeyPrefix)}, {Ints(l.In)}, {Ints(l.Out)},");
                w.Line($"        new[] {{ {string.Join(", ", args)} }}, {value}, {Text.Str(s.Approximate)}),");
            }
            w.Line("};");
            w.Line();
        }

        private static string Ints(Shape s) => s.Flat ? $"new[] {{ {s.C} }}" : $"new[] {{ {s.C}, {s.H}, {s.W} }}";
    }
}

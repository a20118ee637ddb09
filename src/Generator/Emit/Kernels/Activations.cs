using System;
using System.Globalization;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>Element-wise activations (kernels from the capability table) and Softmax / LogSoftmax.</summary>
    internal static partial class LayerEmitter
    {
        /// <summary>An element-wise activation: its runtime kernels come from its row of the capability table.</summary>
        private static void Elementwise(CodeWriter w, ShapedLayer l, string pre)
        {
            var kernels = Kernels.LayerTable.Of(l).Activation ?? throw new InvalidOperationException("not element-wise: " + l.Spec.Kind);
            if (l.Spec.Approximate == "tanh" && kernels.Tanh is { } tanh) kernels = tanh;
            string count = $"n * {l.Out.Size}";
            string value = kernels.TakesValue ? ", " + F(l.Spec.Value) : "";
            string saved = kernels.Reads switch { Kernels.BackwardReads.Output => "y", Kernels.BackwardReads.Input => "x", _ => "x, y" };
            w.Line($"private static void {pre}_Forward({ForwardParams}) => {kernels.Class}.{kernels.Forward}(x, y, {count}{value});");
            w.Line();
            w.Line($"private static void {pre}_Backward({BackwardParams})");
            w.Line("{");
            w.Line($"    if (needDx) {kernels.Class}.{kernels.Backward}({saved}, dy, dx, {count}{value});");
            w.Line("}");
        }

        private static void SoftmaxLike(CodeWriter w, ShapedLayer l, string pre)
        {
            string name = l.Spec.Kind == LayerKind.Softmax ? "Softmax" : "LogSoftmax";
            int f = l.Out.Size;
            w.Line($"private static void {pre}_Forward({ForwardParams}) => {K}Ops.{name}(x, y, n, {f});");
            w.Line();
            w.Line($"private static void {pre}_Backward({BackwardParams})");
            w.Line("{");
            w.Line($"    if (needDx) {K}Ops.{name}Backward(y, dy, dx, n, {f});");
            w.Line("}");
        }
    }
}

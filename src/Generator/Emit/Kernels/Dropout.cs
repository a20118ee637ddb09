using System;
using System.Globalization;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>Dropout / Dropout2d (training only; the identity in inference) and Identity.</summary>
    internal static partial class LayerEmitter
    {
        private static void Dropout(CodeWriter w, ShapedLayer l, string pre)
        {
            int groups = MemoryPlan.DropoutGroups(l);
            int groupSize = l.Out.Size / groups;
            string what = l.Spec.Kind == LayerKind.Dropout2d ? "whole channels" : "elements";
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Forward({ForwardParams})"))
            {
                w.Line($"// Training: drop {what} with p = {Text.Number(l.Spec.Value)}, scale the rest by 1/(1 - p). Inference never calls this (identity).");
                using (w.Block("if (ws != null && ws.DropoutEnabled)"))
                {
                    w.Line($"{K}Ops.DropoutForward(x, y, mask, n * {groups}, {groupSize}, {F(l.Spec.Value)}, ws.Rng);");
                }
                using (w.Block("else"))
                {
                    w.Line($"new global::System.Span<float>(x, n * {l.Out.Size}).CopyTo(new global::System.Span<float>(y, n * {l.Out.Size}));");
                    w.Line($"new global::System.Span<float>(mask, n * {groups}).Fill(1f);");
                }
            }
            w.Line();
            w.Line($"private static void {pre}_Backward({BackwardParams})");
            w.Line("{");
            w.Line($"    if (needDx) {K}Ops.DropoutBackward(mask, dy, dx, n * {groups}, {groupSize});");
            w.Line("}");
        }

        private static void Identity(CodeWriter w, ShapedLayer l, string pre)
        {
            int size = l.Out.Size;
            w.Line("// Training only (inference skips it): y = x, dx = dy.");
            w.Line($"private static void {pre}_Forward({ForwardParams}) => new global::System.Span<float>(x, n * {size}).CopyTo(new global::System.Span<float>(y, n * {size}));");
            w.Line();
            w.Line($"private static void {pre}_Backward({BackwardParams})");
            w.Line("{");
            w.Line($"    if (needDx) new global::System.Span<float>(dy, n * {size}).CopyTo(new global::System.Span<float>(dx, n * {size}));");
            w.Line("}");
        }
    }
}

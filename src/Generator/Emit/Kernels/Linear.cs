using System;
using System.Globalization;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>Linear: y = x·Wᵀ + b as GEMMs over the batch.</summary>
    internal static partial class LayerEmitter
    {
        private static void Linear(CodeWriter w, ShapedLayer l, string pre)
        {
            var s = l.Spec;
            int I = s.In, O = s.Out, wOff = l.ParamOffset, bOff = l.ParamOffset + l.WeightCount;
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Forward({ForwardParams})"))
            {
                w.Line($"// y[n, {O}] = x[n, {I}] · W[{O}, {I}]ᵀ" + (s.Bias ? " + b" : ""));
                w.Line($"{K}Gemm.MultiplyNT(n, {O}, {I}, x, {I}, p + {wOff}, {I}, y, {O}, false);");
                if (s.Bias) w.Line($"{K}Ops.AddColumnBias(y, p + {bOff}, n, {O});");
            }
            w.Line();
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Backward({BackwardParams})"))
            {
                w.Line($"// dW[{O}, {I}] += dy[n, {O}]ᵀ · x[n, {I}]");
                w.Line($"{K}Gemm.MultiplyNN({O}, {I}, n, dy, 1, {O}, x, {I}, g + {wOff}, {I}, true);");
                if (s.Bias) w.Line($"{K}Ops.AddColumnSums(dy, g + {bOff}, n, {O});");
                w.Line($"// dx[n, {I}] = dy[n, {O}] · W[{O}, {I}]");
                w.Line($"if (needDx) {K}Gemm.MultiplyNN(n, {I}, {O}, dy, {O}, 1, p + {wOff}, {I}, dx, {I}, false);");
            }
        }
    }
}

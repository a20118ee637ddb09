using System;
using System.Globalization;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>BatchNorm2d: inference with running statistics, training with batch statistics.</summary>
    internal static partial class LayerEmitter
    {
        /// <summary>
        /// BatchNorm2d has its own signatures: inference reads the running statistics (rb: running_mean [C],
        /// running_var [C], num_batches_tracked [1]); training normalizes with the batch's statistics, saves them in
        /// stats [2C] and updates rb when asked.
        /// </summary>
        private static void BatchNorm(CodeWriter w, ShapedLayer l, string pre, Variants variants)
        {
            var s = l.Spec;
            int C = l.In.C, HW = l.In.H * l.In.W;
            string gamma = s.Bias ? $"p + {l.ParamOffset}" : "null";
            string beta = s.Bias ? $"p + {l.ParamOffset + l.WeightCount}" : "null";
            string eps = F(s.Value), momentum = F(s.Momentum);
            if ((variants & Variants.Inference) == 0)
            {
                w.Line("// Inference: folded into the convolution before it (FoldBatchNorm), so it has no inference method.");
            }
            else
            {
                w.Line($"// Inference: running statistics; y = (x − running_mean)/√(running_var + {eps})" + (s.Bias ? "·γ + β" : "") + ". x and y may alias.");
                w.Line($"private static void {pre}_Inference(float* x, float* y, float* p, float* rb, int n) =>");
                w.Line($"    {L}BatchNormInference(x, y, {gamma}, {beta}, rb, rb + {C}, n, {C}, {HW}, {eps});");
            }
            w.Line();
            w.Line($"// Training: the batch's mean and biased variance over (n, {l.In.H}, {l.In.W}); running statistics move by momentum {momentum} (unbiased variance) when update is set.");
            w.Line($"private static void {pre}_Forward(float* x, float* y, float* p, float* rb, float* stats, int n, bool update) =>");
            w.Line($"    {L}BatchNormTrainForward(x, y, {gamma}, {beta}, rb, rb + {C}, rb + {2 * C}, stats, n, {C}, {HW}, {eps}, {momentum}, update);");
            w.Line();
            w.Line($"private static void {pre}_Backward(float* x, float* dy, float* dx, float* p, float* g, float* stats, int n, bool needDx) =>");
            w.Line($"    {L}BatchNormTrainBackward(x, dy, dx, {gamma}, {(s.Bias ? $"g + {l.ParamOffset}" : "null")}, {(s.Bias ? $"g + {l.ParamOffset + l.WeightCount}" : "null")}, stats, n, {C}, {HW}, needDx);");
        }
    }
}

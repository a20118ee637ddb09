using System.Collections.Generic;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// Inference of branching models: a ReLU right after a convolution with its batch norm folded in (always folded, no
    /// declared bias: the folded bias b' is added in a pass of its own) or right after a residual add (past the block's
    /// end marker) runs in that pass: max(y + b', 0) or max(body + shortcut, 0), one pass over the output instead of
    /// two. The values are the same: the ReLU reads exactly what the pass would have stored. Training never fuses here.
    /// </summary>
    internal sealed class ReluFusion
    {
        private readonly HashSet<int> _fusedRelus = new HashSet<int>();
        private readonly HashSet<int> _fusingLayers = new HashSet<int>();

        public static ReluFusion For(ShapedModel m, BatchNormFold folds)
        {
            var f = new ReluFusion();
            for (int i = 0; i < m.Layers.Count; i++)
            {
                var k = m.Layers[i].Spec.Kind;
                int next;
                if (k == LayerKind.Add) next = NextPast(m, i + 1, LayerKind.BlockEnd);
                else if (folds.IsFoldedConv(i, out var pair) && pair.FoldFrom == 1 && !m.Layers[i].Spec.Bias) next = pair.BatchNorm + 1;
                else continue;
                if (next < m.Layers.Count && m.Layers[next].Spec.Kind == LayerKind.ReLU)
                {
                    f._fusingLayers.Add(i);
                    f._fusedRelus.Add(next);
                }
            }
            return f;
        }

        private static int NextPast(ShapedModel m, int i, LayerKind skip)
        {
            while (i < m.Layers.Count && m.Layers[i].Spec.Kind == skip) i++;
            return i;
        }

        /// <summary>Whether layer <paramref name="index"/> (a folded convolution or an Add) applies the ReLU after it.</summary>
        public bool AppliesRelu(int index) => _fusingLayers.Contains(index);

        /// <summary>Whether layer <paramref name="index"/> is a ReLU run by the pass before it (it has no inference code).</summary>
        public bool IsFusedRelu(int index) => _fusedRelus.Contains(index);
    }
}

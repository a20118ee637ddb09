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
    /// <para>The decision is an epilogue (bias + activation after a convolution): a SiLU after such a folded convolution runs in
    /// the same bias pass (LayerOps.AddChannelBiasSilu), and a ReLU or SiLU after a folded depthwise or direct (im2col-free) convolution
    /// (with or without a declared bias: b' carries it) in that kernel's store (Depthwise.Forward's, DirectConv.Forward's epilogue).</para>
    /// </summary>
    internal sealed class ReluFusion
    {
        private readonly HashSet<int> _fusedRelus = new HashSet<int>();
        private readonly Dictionary<int, LayerKind> _fusingLayers = new Dictionary<int, LayerKind>();

        public static ReluFusion For(ShapedModel m, BatchNormFold folds)
        {
            var f = new ReluFusion();
            for (int i = 0; i < m.Layers.Count; i++)
            {
                var k = m.Layers[i].Spec.Kind;
                int next;
                bool silu = false;
                if (k == LayerKind.Add) next = NextPast(m, i + 1, LayerKind.BlockEnd);
                else if (folds.IsFoldedConv(i, out var pair) && pair.FoldFrom == 1 && (pair.Scaled || !m.Layers[i].Spec.Bias || LayerEmitter.HasRun(m.Layers[i])))
                {
                    next = pair.BatchNorm + 1;
                    silu = true;
                }
                else continue;
                if (next < m.Layers.Count && (m.Layers[next].Spec.Kind == LayerKind.ReLU || silu && m.Layers[next].Spec.Kind == LayerKind.SiLU))
                {
                    f._fusingLayers.Add(i, m.Layers[next].Spec.Kind);
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
        public bool AppliesRelu(int index) => _fusingLayers.TryGetValue(index, out var k) && k == LayerKind.ReLU;

        /// <summary>The activation layer <paramref name="index"/> applies in its epilogue: 0 none, 1 ReLU, 2 SiLU (Depthwise.None/Relu/Silu).</summary>
        public int Epilogue(int index) => !_fusingLayers.TryGetValue(index, out var k) ? 0 : k == LayerKind.ReLU ? 1 : 2;

        /// <summary>Whether layer <paramref name="index"/> is a ReLU or SiLU run by the pass before it (it has no inference code).</summary>
        public bool IsFusedRelu(int index) => _fusedRelus.Contains(index);
    }
}

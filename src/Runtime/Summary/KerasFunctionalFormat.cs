// Compiled into the runtime and the generator, as SummaryFormat.cs is.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

#if CNNGEN_GENERATOR
namespace CnnGen.Generator.Emit
#else
namespace CnnGen
#endif
{
    /// <summary>
    /// The table tf.keras 2.x (2.9–2.12) prints for a functional model (<c>keras.Model(inputs, outputs)</c>) of the
    /// structure of a model with residual or squeeze-excitation blocks, restating Keras' <c>print_summary</c>
    /// (keras/utils/layer_utils.py) and <c>Functional._map_graph_network</c> (keras/engine/functional.py):
    /// <list type="bullet">
    /// <item>A model with a layer of several inputs (Add, Multiply) is not "sequential-like": line length 98, columns at
    /// int(98 · [0.33, 0.55, 0.67, 1]) = 32, 53, 65, 98, headers Layer (type) / Output Shape / Param # / Connected to.</item>
    /// <item>The first row is the InputLayer, named <c>input_1</c>, its output shape a list: <c>[(None, 32, 32, 3)]</c>;
    /// "Connected to" is the Python list of <c>f"{inbound.name}[{node_index}][{tensor_index}]"</c>, <c>[]</c> for the input.</item>
    /// <item>Row order is <c>model.layers</c>: by decreasing node depth (the longest path to the output, output 0), ties by
    /// the order a depth-first walk from the output, inputs in call order, first reaches the layer. The Keras model of a
    /// CnnGen residual is <c>add([body, shortcut])</c>, of a squeeze-excitation <c>multiply([x, gate])</c> (as Keras'
    /// EfficientNet), so a projection shortcut's layers interleave with the body's of the same depth, as in Keras' ResNet50.</item>
    /// <item>Rows are printed as in the sequential table (fields cut to the column, preferring a break after "),", "},",
    /// "]," or "',"), each followed by a line of 98 spaces.</item>
    /// </list>
    /// </summary>
#if CNNGEN_GENERATOR
    internal
#else
    public
#endif
    static class KerasFunctionalFormat
    {
        private sealed class Node
        {
            public string Name = "";
            public string Type = "";
            public string Shape = "";
            public long Params;
            public long NonTrainable;
            public readonly List<Node> Inputs = new List<Node>();
            public int Depth = -1;
            public int Index = -1;
        }

        /// <summary>True when the rows hold a residual or squeeze-excitation block (Keras would build a functional model).</summary>
        public static bool IsFunctional(IReadOnlyList<SummaryRow> rows)
        {
            foreach (var r in rows)
            {
                if (r.KerasName.Length == 0 && r.KerasType == SummaryFormat.BranchStart) return true;
            }
            return false;
        }

        /// <summary>The functional table: <paramref name="rows"/> in CnnGen's order with their branch markers, the model's input shape.</summary>
        public static string Text(IReadOnlyList<SummaryRow> rows, int[] inputShape, string modelName = "model")
        {
            var input = new Node { Name = "input_1", Type = "InputLayer", Shape = "[" + SummaryFormat.KerasShape(inputShape) + "]" };
            var nodes = new List<Node> { input };
            var current = input;
            var branches = new Stack<(Node Input, Node? Body)>();
            foreach (var row in rows)
            {
                if (row.KerasName.Length == 0)
                {
                    if (row.KerasType == SummaryFormat.BranchStart) branches.Push((current, null));
                    else if (row.KerasType == SummaryFormat.ShortcutStart)
                    {
                        var b = branches.Pop();
                        branches.Push((b.Input, current));
                        current = b.Input;
                    }
                    continue; // functional ops, a block's container row: no Keras layer
                }
                var node = new Node { Name = row.KerasName, Type = row.KerasType, Shape = SummaryFormat.KerasShape(row.Shape), Params = row.Parameters + row.KerasNonTrainable, NonTrainable = row.KerasNonTrainable };
                if (row.KerasType == "Add" || row.KerasType == "Multiply")
                {
                    var b = branches.Pop();
                    var body = b.Body ?? current;
                    // add([body, shortcut]); multiply([x, gate]) — the shortcut of a squeeze-excitation is its input.
                    if (row.KerasType == "Add") { node.Inputs.Add(body); node.Inputs.Add(current); }
                    else { node.Inputs.Add(current); node.Inputs.Add(body); }
                }
                else node.Inputs.Add(current);
                nodes.Add(node);
                current = node;
            }

            // Depths: consumers before producers (reverse of the order the layers were called), output at 0.
            current.Depth = 0;
            for (int i = nodes.Count - 1; i >= 0; i--)
            {
                var n = nodes[i];
                if (n.Depth < 0) n.Depth = 0; // not on a path to the output (cannot happen for CnnGen models)
                foreach (var p in n.Inputs) p.Depth = Math.Max(p.Depth, n.Depth + 1);
            }
            // Traversal order: depth-first from the output, a layer numbered when first reached, inputs in call order.
            int index = 0;
            var stack = new Stack<Node>();
            stack.Push(current);
            while (stack.Count > 0)
            {
                var n = stack.Pop();
                if (n.Index >= 0) continue;
                n.Index = index++;
                for (int k = n.Inputs.Count - 1; k >= 0; k--) stack.Push(n.Inputs[k]);
            }
            var ordered = new List<Node>(nodes);
            ordered.Sort((a, b) => a.Depth != b.Depth ? b.Depth.CompareTo(a.Depth) : a.Index.CompareTo(b.Index));

            const int lineLength = 98;
            int[] positions = { 32, 53, 65, 98 };
            var sb = new StringBuilder();
            SummaryFormat.KerasHeader(sb, modelName, new[] { "Layer (type)", "Output Shape", "Param #", "Connected to" }, positions);
            long total = 0, nonTrainable = 0;
            foreach (var n in ordered)
            {
                var connected = new StringBuilder("[");
                for (int k = 0; k < n.Inputs.Count; k++)
                {
                    if (k > 0) connected.Append(", ");
                    connected.Append('\'').Append(n.Inputs[k].Name).Append("[0][0]'");
                }
                connected.Append(']');
                SummaryFormat.KerasRow(sb, new[] { n.Name + " (" + n.Type + ")", n.Shape, n.Params.ToString(CultureInfo.InvariantCulture), connected.ToString() }, positions);
                sb.Append(' ', lineLength).Append('\n');
                total += n.Params;
                nonTrainable += n.NonTrainable;
            }
            SummaryFormat.KerasTotals(sb, lineLength, total, nonTrainable);
            return sb.ToString();
        }
    }
}

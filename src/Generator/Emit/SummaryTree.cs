using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// The hierarchical summary, in torchinfo's layout (<c>Layer (type:depth-idx)</c>, tree glyphs, containers before
    /// their children, a per-depth running index). The tree is the module tree PyTorch would have: it follows the
    /// safetensors key paths (<c>layer1.0.conv1</c> is conv1 in block 0 of the Sequential layer1); a residual's container
    /// is named by its module name (BasicBlock), other containers are Sequential. Leaves are the rows of
    /// torchsummary's flat table. torchinfo is not available here, so spacing follows its documented layout but is
    /// not checked character for character.
    /// </summary>
    internal static class SummaryTree
    {
        private sealed class Node
        {
            public string Name = "";
            public string Type = "Sequential";
            public Shape Out;
            public long Params;
            public bool Leaf;
            public readonly List<Node> Children = new List<Node>();
        }

        public static string Text(ShapedModel m, int batchSize = 1)
        {
            var root = new Node { Type = m.Model.ClassName.TrimStart('@'), Out = m.Output };
            var containers = new Dictionary<string, Node>();
            foreach (var l in m.Layers)
            {
                if (!l.HasTorchRow) continue;
                string[] path = l.KeyPrefix.Split('.');
                int containerDepth = l.Spec.Kind == LayerKind.BlockEnd ? path.Length : path.Length - 1;
                Node parent = root;
                for (int d = 1; d <= containerDepth; d++)
                {
                    string key = string.Join(".", path.Take(d));
                    if (!containers.TryGetValue(key, out var c))
                    {
                        c = new Node { Name = key };
                        containers[key] = c;
                        parent.Children.Add(c);
                    }
                    c.Out = l.Out; // a container's output is its last layer's
                    parent = c;
                }
                if (l.Spec.Kind == LayerKind.BlockEnd) parent.Type = l.TypeName;
                else parent.Children.Add(new Node { Name = l.KeyPrefix, Type = l.TypeName, Out = l.Out, Params = l.ParamCount, Leaf = true });
            }

            const string rule = "==========================================================================================";
            var sb = new StringBuilder();
            sb.Append(rule).Append('\n');
            sb.Append(Row("Layer (type:depth-idx)", "Output Shape", "Param #"));
            sb.Append(rule).Append('\n');
            sb.Append(Row(root.Type, ShapeText(root.Out, batchSize), "--"));
            var counters = new Dictionary<int, int>();
            void Walk(Node n, int depth)
            {
                foreach (var c in n.Children)
                {
                    counters.TryGetValue(depth, out int k);
                    counters[depth] = ++k;
                    string indent = depth == 1 ? "├─" : string.Concat(Enumerable.Repeat("│    ", depth - 1)) + "└─";
                    string param = c.Leaf && c.Params > 0 ? c.Params.ToString("N0", CultureInfo.InvariantCulture) : "--";
                    sb.Append(Row($"{indent}{c.Type}: {depth}-{k}", ShapeText(c.Out, batchSize), param));
                    Walk(c, depth + 1);
                }
            }
            Walk(root, 1);
            sb.Append(rule).Append('\n');
            string total = m.ParameterCount.ToString("N0", CultureInfo.InvariantCulture);
            sb.Append("Total params: ").Append(total).Append('\n');
            sb.Append("Trainable params: ").Append(total).Append('\n');
            sb.Append("Non-trainable params: 0\n");
            sb.Append(rule).Append('\n');
            return sb.ToString();
        }

        private static string Row(string a, string b, string c) => (a.PadRight(40) + b.PadRight(25) + c).TrimEnd() + "\n";

        private static string ShapeText(Shape s, int batch) =>
            "[" + batch.ToString(CultureInfo.InvariantCulture) + ", " + (s.Flat ? s.C.ToString(CultureInfo.InvariantCulture) : $"{s.C}, {s.H}, {s.W}") + "]";
    }
}

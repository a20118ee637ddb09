using System;
using System.Collections.Generic;
using System.Linq;
using static CnnGen.Tool.Importer;

namespace CnnGen.Tool;

/// <summary>
/// Walks an ONNX graph's data values from the input: each value's consumers decide what comes next (one node: a layer; two:
/// a fork, which is SiLU, a squeeze-excitation gate or a residual block). Branches are walked recursively, so a residual
/// body may hold SE gates, SiLUs and residuals of its own.
/// </summary>
internal sealed class Graph
{
    private readonly State _s;
    private readonly string _output;
    private readonly Dictionary<string, List<Onnx.NodeProto>> _consumers = new();
    private readonly Dictionary<Onnx.NodeProto, int> _order = new();
    private int _residuals;

    public Graph(List<Onnx.NodeProto> nodes, State s, string output)
    {
        _s = s; _output = output;
        for (int i = 0; i < nodes.Count; i++)
        {
            _order[nodes[i]] = i;
            foreach (string x in Data(nodes[i]).Distinct())
            {
                if (!_consumers.TryGetValue(x, out var l)) _consumers[x] = l = new List<Onnx.NodeProto>();
                l.Add(nodes[i]);
            }
        }
    }

    private List<string> Data(Onnx.NodeProto n) => n.Input.Where(x => x.Length > 0 && !_s.IsConstant(x)).ToList();

    /// <summary>The nodes that take value <paramref name="v"/> as a data input, in graph order.</summary>
    internal List<Onnx.NodeProto> Consumers(string v) => _consumers.TryGetValue(v, out var l) ? l : new List<Onnx.NodeProto>();

    private static string List(IEnumerable<Onnx.NodeProto> ns) =>
        string.Join(", ", ns.Select(n => $"'{(n.Name.Length > 0 ? n.Name : n.Output[0])}' ({n.OpType})"));

    /// <summary>Imports the chain from value <paramref name="v"/> into <paramref name="into"/> until the value
    /// <paramref name="until"/> (a branch's end) or the graph's output; <paramref name="first"/> forces the first node (the
    /// branch's side of a fork). Returns the last value.</summary>
    public string Walk(string v, string? until, Onnx.NodeProto? first, List<ImportedItem> into)
    {
        while (v != until)
        {
            var cs = first is not null ? new List<Onnx.NodeProto> { first } : Consumers(v);
            first = null;
            if (cs.Count == 0)
            {
                if (until is null && v == _output) return v;
                throw new ImportException(until is null
                    ? $"the value '{v}' is used by no node and is not the graph output '{_output}'"
                    : $"the value '{v}' is used by no node before the branch reaches '{until}'");
            }
            if (cs.Count == 1 && until is null && v == _output)
                throw new ImportException($"the graph output '{v}' is also the input of {List(cs)}: the output must be the last layer's");
            if (cs.Count > 2)
                throw new ImportException($"the value '{v}' feeds {cs.Count} nodes ({List(cs)}); a fork into two (residual Add, SE gate Mul, SiLU) is supported");
            v = cs.Count == 2 ? Fork(v, cs[0], cs[1], into) : Step(v, cs[0], into);
        }
        return v;
    }

    /// <summary>One node that takes <paramref name="v"/> as its only data input.</summary>
    private string Step(string v, Onnx.NodeProto n, List<ImportedItem> into)
    {
        var data = Data(n);
        if (data.Count != 1)
        {
            string ops = string.Join(", ", data.Select(d => "'" + d + "'"));
            string why = n.OpType switch
            {
                "Add" => $"a residual Add whose operands ({ops}) do not come from a common fork (the other operand is not computed from '{v}')",
                "Mul" => $"takes {ops}: a Mul is supported as SiLU (x * Sigmoid(x)) or an SE gate (x * Sigmoid(Conv(act(Conv(GlobalAveragePool(x)))))), and the other operand is not computed from '{v}'",
                "Conv" when n.Input.Count > 1 && !_s.IsConstant(n.Input[1]) => $"its weight '{n.Input[1]}' is not an initializer",
                _ => $"takes {ops}, not the previous layer's output '{v}' alone (one data input is supported)",
            };
            throw ImportException.AtNode(n, why);
        }
        if (n.OpType == "Mul")
            throw ImportException.AtNode(n, $"a Mul by a constant is not supported (a Mul is supported as SiLU or an SE gate)");
        if (n.OpType == "Add")
            throw ImportException.AtNode(n, $"an Add of a constant is supported only as a MatMul's bias");
        if (n.OpType == "MatMul")
        {
            var next = Consumers(n.Output[0]);
            if (next.Count != 1 || next[0].OpType != "Add" || Data(next[0]).Count != 1)
                throw ImportException.AtNode(n, "MatMul is supported only followed by Add of a bias initializer (Linear)");
            var add = next[0];
            string bias = add.Input.First(x => x != n.Output[0]);
            into.Add(Layers.MatMulAdd(_s, n, add, bias));
            return add.Output[0];
        }
        if (Layers.HasExporterFoldedBatchNorm(_s, n))
        {
            into.AddRange(Layers.ConvWithUnfoldedBatchNorm(_s, n));
            return n.Output[0];
        }
        ImportedLayer? layer = Layers.Map(_s, n);
        if (layer is not null) into.Add(layer);
        return n.Output[0];
    }

    /// <summary>A value that feeds two nodes: SiLU, an SE gate or a residual block.</summary>
    private string Fork(string v, Onnx.NodeProto a, Onnx.NodeProto b, List<ImportedItem> into)
    {
        // SiLU: Mul(x, Sigmoid(x))
        foreach (var (sig, mul) in new[] { (a, b), (b, a) })
            if (sig.OpType == "Sigmoid" && mul.OpType == "Mul" && mul.Input.Contains(sig.Output[0]) && Consumers(sig.Output[0]).Count == 1)
            {
                into.Add(Layers.Simple("SiLU"));
                return mul.Output[0];
            }
        foreach (var (pool, mul) in new[] { (a, b), (b, a) })
            if (pool.OpType == "GlobalAveragePool" && mul.OpType == "Mul")
            {
                into.Add(SqueezeExcitation.Match(_s, this, v, pool, mul));
                return mul.Output[0];
            }
        foreach (var m in new[] { a, b })
            if (m.OpType == "Mul")
                throw ImportException.AtNode(m, $"a Mul of '{v}' and another branch is not an SE gate: x * Sigmoid(Conv(act(Conv(GlobalAveragePool(x))))) is expected");
        return Residual(v, a, b, into);
    }

    /// <summary>Values computed from node <paramref name="n"/>'s outputs (forward closure).</summary>
    private HashSet<string> Reach(Onnx.NodeProto n)
    {
        var seen = new HashSet<string>();
        var stack = new Stack<string>(n.Output);
        while (stack.Count > 0)
        {
            string x = stack.Pop();
            if (!seen.Add(x)) continue;
            foreach (var c in Consumers(x)) foreach (string o in c.Output) stack.Push(o);
        }
        return seen;
    }

    private string Residual(string v, Onnx.NodeProto a, Onnx.NodeProto b, List<ImportedItem> into)
    {
        // the join: the first Add with one operand from each side (the identity side's operand being v itself)
        Onnx.NodeProto? join = null;
        string? endA = null, endB = null;
        Onnx.NodeProto? bodyFirst = null, shortcutFirst = null;
        foreach (var (x, y) in new[] { (a, b), (b, a) })
            if (y.OpType == "Add" && y.Input.Contains(v))
            {
                var ra = Reach(x);
                string other = y.Input.FirstOrDefault(i => i != v && i.Length > 0) ?? v;
                if (!ra.Contains(other))
                    throw ImportException.AtNode(y, $"a residual Add whose operands ('{v}', '{other}') do not come from a common fork: '{other}' is not computed from '{v}'");
                join = y; endA = other; bodyFirst = x;
            }
        if (join is null)
        {
            HashSet<string> ra = Reach(a), rb = Reach(b);
            foreach (var n in _order.Keys.Where(n => n.OpType == "Add").OrderBy(n => _order[n]))
            {
                var d = Data(n);
                if (d.Count != 2) continue;
                if (ra.Contains(d[0]) && !rb.Contains(d[0]) && rb.Contains(d[1]) && !ra.Contains(d[1])) { join = n; endA = d[0]; endB = d[1]; break; }
                if (ra.Contains(d[1]) && !rb.Contains(d[1]) && rb.Contains(d[0]) && !ra.Contains(d[0])) { join = n; endA = d[1]; endB = d[0]; break; }
            }
            if (join is null)
                throw new ImportException($"the value '{v}' feeds two nodes ({List(new[] { a, b })}) whose branches do not join in a residual Add");
            bodyFirst = a; shortcutFirst = b;
        }
        var start = _s.Shape;
        var body = new List<ImportedItem>();
        Walk(v, endA, bodyFirst, body);
        var bodyShape = _s.Shape;
        List<ImportedItem>? shortcut = null;
        if (shortcutFirst is not null)
        {
            _s.Shape = start;
            shortcut = new List<ImportedItem>();
            Walk(v, endB, shortcutFirst, shortcut);
            if (shortcut.Count == 0) shortcut = null;
        }
        else _s.Shape = start;
        if (shortcut is not null && Weighted(shortcut) > Weighted(body)) (body, shortcut) = (shortcut, body);
        var shortShape = _s.Shape;
        _s.Shape = bodyShape;
        if (start.F > 0 || bodyShape.F > 0) throw ImportException.AtNode(join!, "a residual over flattened features is not supported");
        if (bodyShape != shortShape && shortcut is not null)
        {
            // the walks may have run in either order: the shapes are compared, whichever branch is which
            var (c1, h1, w1, _) = bodyShape; var (c2, h2, w2, _) = shortShape;
            if ((c1, h1, w1) != (c2, h2, w2))
                throw ImportException.AtNode(join!, $"the branches' shapes differ ([{c1}, {h1}, {w1}] and [{c2}, {h2}, {w2}])");
        }
        if (shortcut is null && bodyShape != start)
            throw ImportException.AtNode(join!, $"the branch's shape [{bodyShape.C}, {bodyShape.H}, {bodyShape.W}] differs from the identity's [{start.C}, {start.H}, {start.W}]");
        if (body.Count == 0) throw ImportException.AtNode(join!, "both operands are the same value (x + x) — not a residual block");
        string outV = join!.Output[0];
        var after = Consumers(outV);
        bool relu = after.Count == 1 && after[0].OpType == "Relu";
        if (relu) outV = after[0].Output[0];
        var r = new ImportedResidual(body, shortcut, relu);
        NameResidual(r);
        into.Add(r);
        return outV;
    }

    private static int Weighted(List<ImportedItem> items) => items.Sum(i => i.Names().Count());

    /// <summary>The residual's Name is the weighted layers' common key path (torchvision's "layer1.0"), their names then relative
    /// to it ("conv1"; the shortcut's "downsample" + "0"), so the keys are the initializers' names; without one (generated
    /// names), "residualN" and the keys nest under it.</summary>
    private void NameResidual(ImportedResidual r)
    {
        var names = r.Body.SelectMany(i => i.Names()).Concat(r.Shortcut?.SelectMany(i => i.Names()) ?? Enumerable.Empty<string>()).ToList();
        string[] common = Common(names, minRest: 1);
        string[] shortcutCommon = r.Shortcut is null ? Array.Empty<string>()
            : Common(r.Shortcut.SelectMany(i => i.Names()).ToList(), minRest: 1);
        bool bodyOk = common.Length > 0 && !_s.Names.Contains(string.Join(".", common));
        bool shortcutOk = r.Shortcut is null || (shortcutCommon.Length > common.Length
            && r.Body.SelectMany(i => i.Names()).All(n => !n.StartsWith(string.Join(".", shortcutCommon) + ".", StringComparison.Ordinal)));
        if (bodyOk && shortcutOk)
        {
            string name = string.Join(".", common);
            int cut = name.Length + 1;
            foreach (var i in r.Body) Relocate(i, cut);
            if (r.Shortcut is not null)
            {
                r.ShortcutName = string.Join(".", shortcutCommon.Skip(common.Length));
                foreach (var i in r.Shortcut) Relocate(i, string.Join(".", shortcutCommon).Length + 1);
            }
            r.Name = name;
        }
        else
        {
            // made-up names are numbered inside the block (conv1, conv2), so blocks of the same structure are one class
            Renumber(r.Body);
            if (r.Shortcut is not null) Renumber(r.Shortcut);
            string name;
            do name = "residual" + (++_residuals).ToString(System.Globalization.CultureInfo.InvariantCulture); while (_s.Names.Contains(name));
            r.Name = name;
        }
        _s.Names.Add(r.Name);
    }

    private void Renumber(List<ImportedItem> items)
    {
        var counts = new Dictionary<string, int>();
        var taken = new HashSet<string>(items.Where(i => i.Name is not null && !_s.Generated.Contains(i.Name)).Select(i => i.Name!));
        foreach (var i in items)
        {
            if (i.Name is null || !_s.Generated.Contains(i.Name)) continue;
            string kind = i.Name.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9');
            counts.TryGetValue(kind, out int k);
            string n;
            do n = kind + (++k).ToString(System.Globalization.CultureInfo.InvariantCulture); while (taken.Contains(n));
            counts[kind] = k;
            i.Name = n;
        }
    }

    /// <summary>Strips <paramref name="cut"/> characters (the enclosing path and its dot) from the item's name.</summary>
    private static void Relocate(ImportedItem i, int cut)
    {
        if (i.Name is not null) i.Name = i.Name[cut..];
    }

    private static string[] Common(List<string> names, int minRest)
    {
        if (names.Count == 0) return Array.Empty<string>();
        var split = names.Select(n => n.Split('.')).ToList();
        int k = 0;
        while (split.All(p => p.Length - (k + 1) >= minRest && p[k] == split[0][k])) k++;
        return split[0].Take(k).ToArray();
    }
}

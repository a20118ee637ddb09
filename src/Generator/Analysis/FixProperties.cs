using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;
using P = CnnGen.Generator.Analysis.CnnAnalyzer.Properties;

namespace CnnGen.Generator.Analysis
{
    /// <summary>
    /// What the analyzer adds to a diagnostic for the code fixes (CnnGen.CodeFixes): for a diagnostic whose message
    /// states the one right value, which constructor argument to replace and with what; and the per-layer shape hints.
    /// Computed from the diagnostic's own arguments, so the fix can never disagree with the message.
    /// </summary>
    internal static class FixProperties
    {
        private static readonly Regex Flattened = new Regex(@"\[(\d+), (\d+), (\d+)\], flattened$", RegexOptions.CultureInvariant);

        public static ImmutableDictionary<string, string?>? For(DiagnosticInfo d)
        {
            // The properties the diagnostic carries itself (CNN0080's Suggestion, Namespace), then the fix's own.
            var own = Fix(d);
            if (d.Properties.Count < 2) return own;
            return own is null ? Firewall.Properties(d) : own.SetItems(Firewall.Properties(d));
        }

        private static ImmutableDictionary<string, string?>? Fix(DiagnosticInfo d)
        {
            var args = d.Args;
            switch (d.Id)
            {
                case "CNN0020": // Conv2d expects {1} input channels, but receives {2}
                    return Argument("inChannels", 0, args[2]);
                case "CNN0021": // Linear expects {1} input features, but receives {2} ({3})
                {
                    var p = Argument("inFeatures", 0, args[2]);
                    var m = Flattened.Match(args[3]);
                    return m.Success ? p.Add(P.Factors, m.Groups[1].Value + "," + m.Groups[2].Value + "," + m.Groups[3].Value) : p;
                }
                case "CNN0040": // BatchNorm2d expects {1} features, but receives {2}
                    return Argument("numFeatures", 0, args[2]);
                case "CNN0041": // AdaptiveAvgPool2d: only output size 1 is compiled
                    return Argument("outputSize", 0, "1");
                case "CNN0022": // Linear on an unflattened input: add [Flatten] before it
                    return ImmutableDictionary<string, string?>.Empty.Add(P.Fix, "InsertFlatten");
                case "CNN0002":
                    return ImmutableDictionary<string, string?>.Empty.Add(P.Fix, "Partial");
                default:
                    return null;
            }
        }

        private static ImmutableDictionary<string, string?> Argument(string parameter, int position, string value) =>
            ImmutableDictionary<string, string?>.Empty
                .Add(P.Fix, "Argument")
                .Add(P.Parameter, parameter)
                .Add(P.Position, position.ToString(CultureInfo.InvariantCulture))
                .Add(P.Value, value);

        /// <summary>
        /// One hint per layer attribute of the model's own declaration: its input and output shape and parameter count
        /// (a composite attribute such as [Residual] covers the layers it expands to). Attributes of [Block] classes get
        /// none: their shapes depend on the model that uses them.
        /// </summary>
        public static IEnumerable<(LocationInfo Location, string Text)> LayerHints(ModelSpec declared, ShapedModel model)
        {
            var layers = model.Layers;
            foreach (var own in declared.Layers)
            {
                if (own.Location is null) continue;
                int first = -1, last = -1;
                for (int i = 0; i < layers.Count; i++)
                {
                    if (layers[i].Spec.Location != own.Location) continue;
                    if (first < 0) first = i;
                    last = i;
                }
                if (first < 0) continue;
                long parameters = 0;
                for (int i = first; i <= last; i++) parameters += layers[i].ParamCount;
                string name = first == last && layers[first].HasRow ? layers[first].SummaryName : own.Kind.ToString();
                string text = name + ": " + layers[first].In + " → " + layers[last].Out + ", "
                    + parameters.ToString("N0", CultureInfo.InvariantCulture) + (parameters == 1 ? " parameter" : " parameters");
                yield return (own.Location, text);
            }
        }
    }
}

using System.Collections.Generic;
using CnnGen.Generator.Parsing;

namespace CnnGen.Generator.Shapes
{
    /// <summary>
    /// Pure shape inference: <see cref="ModelSpec"/> → <see cref="ShapedModel"/> plus diagnostics.
    /// No Roslyn types beyond the plain records, so it is unit-testable on its own.
    /// The shape formulas themselves live in <see cref="ShapeRules"/>.
    /// </summary>
    internal static class ShapeInference
    {
        public static ShapedModel Infer(ModelSpec model)
        {
            var diags = new List<DiagnosticInfo>(model.Diagnostics);
            bool ok = diags.Count == 0;

            Shape? current = null;
            string source = "the input";
            var input = model.Input;
            if (input != null && !input.ArgumentsOk)
            {
                diags.Add(DiagnosticInfo.Create(Diagnostics.UnreadableArguments, input.Location, "Input"));
                ok = false;
            }
            else if (input != null)
            {
                bool valid = true;
                valid &= CheckInput(diags, input, "channels", input.Channels);
                valid &= CheckInput(diags, input, "height", input.Height);
                valid &= CheckInput(diags, input, "width", input.Width);
                valid = valid && ShapeRules.CheckSize(diags, input.Location, "Input",
                    "the size of " + Shape.Spatial(input.Channels, input.Height, input.Width), (long)input.Channels * input.Height * input.Width);
                if (valid)
                {
                    current = Shape.Spatial(input.Channels, input.Height, input.Width);
                    source = "the input " + current;
                }
                else ok = false;
            }

            var layers = new List<ShapedLayer>();
            var kerasCounts = new Dictionary<string, int>();
            int row = 0, offset = 0;
            foreach (var spec in model.Layers)
            {
                string typeName = ShapeRules.TorchTypeName(spec.Kind);
                string summaryName = spec.Kind == LayerKind.Flatten ? "Flatten" : typeName + "-" + (++row);
                var (kerasBase, kerasType) = ShapeRules.KerasNameOf(spec.Kind);
                kerasCounts.TryGetValue(kerasBase, out int kc);
                kerasCounts[kerasBase] = kc + 1;
                string kerasName = kc == 0 ? kerasBase : kerasBase + "_" + kc;
                string keyPrefix = spec.Name ?? spec.Position.ToString(System.Globalization.CultureInfo.InvariantCulture);

                // 1. Arguments, independent of shapes: always checked, even after a shape error.
                bool argsOk = spec.ArgumentsOk;
                if (!spec.ArgumentsOk)
                {
                    diags.Add(DiagnosticInfo.Create(Diagnostics.UnreadableArguments, spec.Location, summaryName));
                }
                else
                {
                    argsOk = ShapeRules.ValidateArguments(spec, summaryName, diags);
                }
                if (!argsOk) ok = false;

                // 2. Shapes: only while every earlier shape is known.
                Shape? output = null;
                if (current is Shape inShape && argsOk)
                {
                    output = ShapeRules.OutputShape(spec, summaryName, inShape, source, diags);
                    if (output is null) ok = false;
                }
                else
                {
                    ok = false;
                }

                int weights = 0, biases = 0;
                if (argsOk) ShapeRules.ParameterCounts(spec, out weights, out biases);
                if (argsOk && !ShapeRules.CheckSize(diags, spec.Location, summaryName, "the model's parameter count up to this layer", (long)offset + weights + biases))
                {
                    ok = false;
                    weights = biases = 0;
                }
                layers.Add(new ShapedLayer(spec, typeName, summaryName, kerasName, kerasType, keyPrefix,
                    current ?? default, output ?? default, weights, biases, offset));
                offset += weights + biases;

                if (output is Shape o)
                {
                    source = spec.Kind == LayerKind.Flatten
                        ? (current is Shape c && !c.Flat ? source + ", flattened" : source)
                        : summaryName + " output " + o;
                }
                current = output;
            }

            bool allOk = ok && current != null && diags.Count == 0;
            return new ShapedModel(model, allOk,
                new EquatableArray<ShapedLayer>(layers.ToArray()),
                new EquatableArray<DiagnosticInfo>(diags.ToArray()),
                input != null ? Shape.Spatial(input.Channels, input.Height, input.Width) : default,
                current ?? default,
                offset);
        }

        private static bool CheckInput(List<DiagnosticInfo> diags, InputSpec input, string what, int value)
        {
            if (value >= 1) return true;
            diags.Add(DiagnosticInfo.Create(Diagnostics.InvalidInput, input.Location, what, value));
            return false;
        }
    }
}

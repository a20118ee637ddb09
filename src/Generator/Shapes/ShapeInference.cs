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
                    "the size of " + Shape.Spatial(input.Channels, input.Height, input.Width), ShapeRules.Mul(input.Channels, input.Height, input.Width));
                if (valid)
                {
                    current = Shape.Spatial(input.Channels, input.Height, input.Width);
                    source = "the input " + current;
                }
                else ok = false;
            }

            var layers = new List<ShapedLayer>();
            // Open branches (residual, squeeze-excitation): the kept input and, once the shortcut starts, the body's output.
            var branches = new Stack<Branch>();
            var kerasCounts = new Dictionary<string, int>();
            int row = 0, offset = 0, functional = 0;
            long buffers = 0;
            // Every safetensors key (parameters and batch norm buffers): two layers with the same key could be trained
            // but never saved or loaded (SaveWeights would throw after an epoch).
            var keys = new Dictionary<string, string>(System.StringComparer.Ordinal);
            foreach (var written in model.Layers)
            {
                var spec = KerasInference.WithInferredInput(written, current);
                string typeName = spec.Kind == LayerKind.BlockEnd ? spec.Block ?? "Block" : ShapeRules.TorchTypeName(spec.Kind);
                string summaryName = spec.Functional ? Functional.SummaryName(spec.Kind, ++functional)
                    : !ShapedLayer.KindHasRow(spec.Kind) ? typeName : typeName + "-" + (++row);
                var (kerasBase, kerasType) = KerasInference.KerasNameOf(spec);
                kerasCounts.TryGetValue(kerasBase, out int kc);
                kerasCounts[kerasBase] = kc + 1;
                string kerasName = kc == 0 || kerasBase.Length == 0 ? kerasBase : kerasBase + "_" + kc;
                string keyPrefix = spec.KeyPrefix ?? spec.Name ?? spec.Position.ToString(System.Globalization.CultureInfo.InvariantCulture);

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

                // 2. Shapes: only while every earlier shape is known. Structural kinds move between the branches.
                Shape? output = null;
                Shape? layerInput = current;
                if (IsStructural(spec.Kind))
                {
                    switch (spec.Kind)
                    {
                        case LayerKind.BranchBegin:
                            branches.Push(new Branch { Input = current, InputSource = source });
                            output = current;
                            break;
                        case LayerKind.ShortcutBegin:
                        {
                            var b = branches.Peek();
                            b.BodyOut = current;
                            b.BodySource = source;
                            output = layerInput = b.Input;
                            source = b.InputSource;
                            break;
                        }
                        case LayerKind.Add:
                        {
                            var b = branches.Pop();
                            layerInput = b.BodyOut;
                            if (b.BodyOut is Shape body && current is Shape shortcut)
                            {
                                if (body == shortcut) output = body;
                                else
                                {
                                    int stride = !body.Flat && !shortcut.Flat && body.H > 0 && shortcut.H % body.H == 0 ? shortcut.H / body.H : 1;
                                    diags.Add(DiagnosticInfo.Create(Diagnostics.ResidualShapeMismatch, spec.Location, $"Residual '{spec.KeyPrefix}'",
                                        body, b.BodySource, shortcut, source, b.Input?.C ?? shortcut.C, body.C, stride));
                                }
                            }
                            break;
                        }
                        case LayerKind.Scale:
                        {
                            var b = branches.Pop();
                            layerInput = b.BodyOut;
                            output = b.BodyOut is Shape && current is Shape x ? x : (Shape?)null;
                            break;
                        }
                        default: // BlockEnd: the container's row, same shape
                            output = current;
                            break;
                    }
                    if (output is null) ok = false;
                }
                else if (current is Shape inShape && argsOk)
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
                if (argsOk && spec.Kind == LayerKind.BatchNorm2d)
                {
                    // running_mean, running_var and num_batches_tracked live in the model's int-indexed Buffers array.
                    buffers += 2L * spec.Out + 1;
                    if (!ShapeRules.CheckSize(diags, spec.Location, summaryName, "the model's batch norm buffers up to this layer", buffers)) ok = false;
                }
                var shapedLayer = new ShapedLayer(spec, typeName, summaryName, kerasName, kerasType, keyPrefix,
                    layerInput ?? default, output ?? default, weights, biases, offset);
                if (argsOk && !CheckKeys(shapedLayer, keys, diags)) ok = false;
                layers.Add(shapedLayer);
                offset += weights + biases;

                if (output is Shape so && IsStructural(spec.Kind))
                {
                    if (spec.Kind == LayerKind.Add || spec.Kind == LayerKind.Scale) source = $"Residual '{spec.KeyPrefix}' output {so}";
                    if (spec.Kind == LayerKind.BlockEnd) source = summaryName + " output " + so;
                }
                else if (output is Shape o)
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

        /// <summary>Markers placed by <see cref="BlockExpansion"/>: no arguments, no parameters, shapes routed between branches.</summary>
        public static bool IsStructural(LayerKind k) =>
            k == LayerKind.BranchBegin || k == LayerKind.ShortcutBegin || k == LayerKind.Add || k == LayerKind.Scale || k == LayerKind.BlockEnd;

        private sealed class Branch
        {
            public Shape? Input;
            public string InputSource = "";
            public Shape? BodyOut;
            public string BodySource = "";
        }

        /// <summary>Reports CNN0052 when one of the layer's tensor keys is already taken by an earlier layer.</summary>
        private static bool CheckKeys(ShapedLayer layer, Dictionary<string, string> keys, List<DiagnosticInfo> diags)
        {
            var own = new List<string>();
            if (layer.Spec.Kind == LayerKind.Conv2d || layer.Spec.Kind == LayerKind.Linear || layer.Spec.Kind == LayerKind.BatchNorm2d)
            {
                // The keys of the layer's kind (Bias = false has no bias; BatchNorm2d without Affine has only its buffers).
                bool bn = layer.Spec.Kind == LayerKind.BatchNorm2d;
                if (!bn || layer.Spec.Bias) own.Add(layer.KeyPrefix + ".weight");
                if (layer.Spec.Bias) own.Add(layer.KeyPrefix + ".bias");
                if (layer.Spec.Kind == LayerKind.BatchNorm2d)
                {
                    own.Add(layer.KeyPrefix + ".running_mean");
                    own.Add(layer.KeyPrefix + ".running_var");
                    own.Add(layer.KeyPrefix + ".num_batches_tracked");
                }
            }
            foreach (string key in own)
            {
                if (keys.TryGetValue(key, out string? first))
                {
                    diags.Add(DiagnosticInfo.Create(Diagnostics.DuplicateKey, layer.Spec.Location, layer.SummaryName, key, first));
                    return false;
                }
            }
            foreach (string key in own) keys[key] = layer.SummaryName;
            return true;
        }

        private static bool CheckInput(List<DiagnosticInfo> diags, InputSpec input, string what, int value)
        {
            if (value >= 1) return true;
            diags.Add(DiagnosticInfo.Create(Diagnostics.InvalidInput, input.Location, what, value));
            return false;
        }
    }
}

using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Weights
{
    /// <summary>
    /// Binds a model that names <c>[Model(Weights = "...")]</c> to its file: finds the AdditionalFiles item,
    /// checks every tensor against the model's layers (key, dtype, shape; nothing missing, nothing extra) and
    /// takes the values. Pure: plain records in, plain records out. Models without Weights pass through unchanged.
    /// </summary>
    internal static class WeightsBinder
    {
        public static ShapedModel Bind(ShapedModel model, ImmutableArray<WeightsFileSpec> files)
        {
            var spec = model.Model;
            if (spec.Weights is null || !model.Ok) return model;
            string name = WeightsFile(spec.Weights);
            var diags = new List<DiagnosticInfo>();
            DiagnosticInfo Report(Microsoft.CodeAnalysis.DiagnosticDescriptor d, params object[] args) =>
                DiagnosticInfo.Create(d, spec.WeightsLocation, args);

            // By the path the item was included with, else by file name.
            var encoded = files.Where(f => f.Encoded).ToList();
            var matches = encoded.Where(f => f.Source == name).ToList();
            if (matches.Count == 0) matches = encoded.Where(f => f.FileName == name).ToList();
            if (matches.Count == 0)
            {
                var raw = files.Where(f => !f.Encoded && (f.Source == name || f.FileName == name || f.Source.EndsWith("/" + name, System.StringComparison.Ordinal))).ToList();
                if (raw.Count > 0)
                {
                    diags.Add(Report(Diagnostics.WeightsNotEncoded, spec.ClassName, spec.Weights));
                }
                else
                {
                    var known = files.Where(f => f.Encoded).Select(f => f.Source).Distinct().OrderBy(s => s, System.StringComparer.Ordinal).ToList();
                    string hint = known.Count == 0 ? " (the project has no .safetensors AdditionalFiles)" : " (the .safetensors AdditionalFiles are: " + string.Join(", ", known) + ")";
                    diags.Add(Report(Diagnostics.WeightsNotFound, spec.ClassName, spec.Weights, hint));
                }
                return Failed(model, diags);
            }
            if (matches.Select(m => m.Source).Distinct().Count() > 1)
            {
                diags.Add(Report(Diagnostics.WeightsAmbiguous, spec.ClassName, spec.Weights,
                    string.Join(", ", matches.Select(m => m.Source).Distinct().OrderBy(s => s, System.StringComparer.Ordinal))));
                return Failed(model, diags);
            }
            var file = matches[0];
            if (file.Error != null)
            {
                diags.Add(Report(Diagnostics.WeightsInvalid, spec.ClassName, spec.Weights, file.Error));
                return Failed(model, diags);
            }

            var byName = new Dictionary<string, TensorEntry>(System.StringComparer.Ordinal);
            foreach (var t in file.Tensors) byName[t.Name] = t;
            var values = new float[model.ParameterCount];
            var expected = new HashSet<string>(System.StringComparer.Ordinal);
            byte[] data = file.Data.ToArray();
            foreach (var l in model.Layers)
            {
                foreach (var tensor in l.Tensors()) Check(tensor.Key, tensor.Shape, tensor.Offset);

                void Check(string key, int[] shape, int offset)
                {
                    expected.Add(key);
                    string needShape = "[" + string.Join(", ", shape) + "]";
                    if (!byName.TryGetValue(key, out var t))
                    {
                        diags.Add(Report(Diagnostics.WeightsMissingTensor, spec.ClassName, spec.Weights, key, l.SummaryName, needShape));
                        return;
                    }
                    if (t.DType != "F32")
                    {
                        diags.Add(Report(Diagnostics.WeightsWrongDType, spec.ClassName, spec.Weights, key, t.ShapeText, t.DType, l.SummaryName));
                        return;
                    }
                    if (t.Shape.Count != shape.Length || !t.Shape.Zip(shape, (a, b) => a == b).All(x => x))
                    {
                        diags.Add(Report(Diagnostics.WeightsWrongShape, spec.ClassName, spec.Weights, key, t.ShapeText, l.SummaryName, needShape));
                        return;
                    }
                    // safetensors data is little-endian.
                    int count = (int)((t.End - t.Begin) / 4);
                    for (int i = 0; i < count; i++)
                    {
                        values[offset + i] = ReadSingleLittleEndian(data, (int)t.Begin + 4 * i);
                    }
                }
            }
            var modelKeys = string.Join(", ", model.Layers.SelectMany(l => l.Tensors()).Select(t => t.Key));
            foreach (var t in file.Tensors)
            {
                if (!expected.Contains(t.Name))
                    diags.Add(Report(Diagnostics.WeightsUnexpectedTensor, spec.ClassName, spec.Weights, t.Name, t.ShapeText, modelKeys));
            }
            if (diags.Count > 0) return Failed(model, diags);
            return model with { Baked = new BakedWeights(file.Source, file.Sha256, new EquatableArray<float>(values)) };
        }

        /// <summary>The Weights argument as a normalized path.</summary>
        private static string WeightsFile(string weights) => WeightsFileSpec.Normalize(weights);

        private static ShapedModel Failed(ShapedModel model, List<DiagnosticInfo> diags) =>
            model with { Ok = false, Diagnostics = new EquatableArray<DiagnosticInfo>(model.Diagnostics.Concat(diags).ToArray()) };

        private static float ReadSingleLittleEndian(byte[] data, int at)
        {
            if (System.BitConverter.IsLittleEndian) return System.BitConverter.ToSingle(data, at);
            return System.BitConverter.ToSingle(new[] { data[at + 3], data[at + 2], data[at + 1], data[at] }, 0);
        }
    }
}

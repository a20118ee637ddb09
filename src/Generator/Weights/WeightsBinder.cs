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
            if (file.Missing)
            {
                diags.Add(Report(Diagnostics.WeightsFileMissing, spec.ClassName, spec.Weights, file.Error ?? file.Source));
                return Failed(model, diags);
            }
            if (file.Error != null)
            {
                diags.Add(Report(Diagnostics.WeightsInvalid, spec.ClassName, spec.Weights, file.Error));
                return Failed(model, diags);
            }

            var byName = new Dictionary<string, TensorEntry>(System.StringComparer.Ordinal);
            foreach (var t in file.Tensors) byName[t.Name] = t;
            var values = new float[model.ParameterCount];
            var bufferTensors = ShapedModelBuffers.BufferTensors(model).ToList();
            var buffers = new float[bufferTensors.Sum(b => b.Count)];
            var expected = new HashSet<string>(System.StringComparer.Ordinal);
            var modelKeys = new List<string>(); // state_dict order: each layer's weight, bias, then its buffers
            byte[] data = file.Data.ToArray();
            foreach (var l in model.Layers)
            {
                foreach (var tensor in l.Tensors())
                {
                    if (Check(l, tensor.Key, tensor.Shape, "F32", out var t)) ReadF32(t, values, tensor.Offset);
                }
                foreach (var buffer in bufferTensors.Where(b => ReferenceEquals(b.Layer, l)))
                {
                    if (!Check(l, buffer.Key, buffer.Shape, buffer.DType, out var t)) continue;
                    if (buffer.DType == "F32") ReadF32(t, buffers, buffer.Offset);
                    else buffers[buffer.Offset] = ReadInt64LittleEndian(data, (int)t.Begin); // num_batches_tracked: a count, held as a float
                }
            }

            bool Check(ShapedLayer l, string key, int[] shape, string dtype, out TensorEntry t)
            {
                expected.Add(key);
                modelKeys.Add(key);
                string needShape = "[" + string.Join(", ", shape) + "]";
                if (!byName.TryGetValue(key, out t!))
                {
                    diags.Add(Report(Diagnostics.WeightsMissingTensor, spec.ClassName, spec.Weights, key, l.SummaryName, needShape));
                    return false;
                }
                if (t.DType != dtype)
                {
                    diags.Add(Report(Diagnostics.WeightsWrongDType, spec.ClassName, spec.Weights, key, t.ShapeText, t.DType, l.SummaryName, dtype));
                    return false;
                }
                if (t.Shape.Count != shape.Length || !t.Shape.Zip(shape, (a, b) => a == b).All(x => x))
                {
                    diags.Add(Report(Diagnostics.WeightsWrongShape, spec.ClassName, spec.Weights, key, t.ShapeText, l.SummaryName, needShape));
                    return false;
                }
                return true;
            }

            void ReadF32(TensorEntry t, float[] into, int offset)
            {
                // safetensors data is little-endian.
                int count = (int)((t.End - t.Begin) / 4);
                for (int i = 0; i < count; i++)
                {
                    into[offset + i] = ReadSingleLittleEndian(data, (int)t.Begin + 4 * i);
                }
                // Rejected as LoadWeights rejects it by default: the same file must give the same verdict.
                int bad = SafeTensorsFormat.FirstNonFinite(into, offset, count);
                if (bad >= 0)
                    diags.Add(Report(Diagnostics.WeightsNonFinite, spec.ClassName, spec.Weights, SafeTensorsFormat.NonFiniteProblem(t.Name, t.DType, bad, into[offset + bad])));
            }

            foreach (var t in file.Tensors)
            {
                if (!expected.Contains(t.Name))
                    diags.Add(Report(Diagnostics.WeightsUnexpectedTensor, spec.ClassName, spec.Weights, t.Name, t.ShapeText, string.Join(", ", modelKeys)));
            }
            if (diags.Count > 0) return Failed(model, diags);
            return model with { Baked = new BakedWeights(file.Source, file.Sha256, new EquatableArray<float>(values), new EquatableArray<float>(buffers)) };
        }

        /// <summary>The Weights argument as a normalized path.</summary>
        private static string WeightsFile(string weights) => WeightsFileSpec.Normalize(weights);

        private static ShapedModel Failed(ShapedModel model, List<DiagnosticInfo> diags) =>
            model with { Ok = false, Diagnostics = new EquatableArray<DiagnosticInfo>(model.Diagnostics.Concat(diags).ToArray()) };

        private static float ReadInt64LittleEndian(byte[] data, int at)
        {
            long v = 0;
            for (int i = 7; i >= 0; i--) v = (v << 8) | data[at + i];
            return v;
        }

        private static float ReadSingleLittleEndian(byte[] data, int at)
        {
            if (System.BitConverter.IsLittleEndian) return System.BitConverter.ToSingle(data, at);
            return System.BitConverter.ToSingle(new[] { data[at + 3], data[at + 2], data[at + 1], data[at] }, 0);
        }
    }
}

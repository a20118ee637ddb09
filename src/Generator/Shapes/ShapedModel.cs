using CnnGen.Generator.Parsing;

namespace CnnGen.Generator.Shapes
{
    /// <summary>A tensor shape for one sample: [C, H, W], or [C] when <see cref="Flat"/>.</summary>
    internal readonly record struct Shape(int C, int H, int W, bool Flat)
    {
        public static Shape Spatial(int c, int h, int w) => new Shape(c, h, w, false);
        public static Shape Features(int f) => new Shape(f, 1, 1, true);

        public int Size => Flat ? C : C * H * W;

        /// <summary>PyTorch-style list, e.g. "[16, 26, 26]" or "[32]".</summary>
        public override string ToString() => Flat ? $"[{C}]" : $"[{C}, {H}, {W}]";
    }

    /// <summary>
    /// A layer with everything resolved: input and output shape, parameter counts and offset into the
    /// flat parameter array, and the names the summaries and safetensors keys use.
    /// </summary>
    internal sealed record ShapedLayer(
        LayerSpec Spec,
        string TypeName,
        string SummaryName,
        string KerasName,
        string KerasType,
        string KeyPrefix,
        Shape In,
        Shape Out,
        int WeightCount,
        int BiasCount,
        int ParamOffset)
    {
        public int ParamCount => WeightCount + BiasCount;

        /// <summary>Flatten is a free reshape: no summary row, no code. Branch markers and joins have no torchsummary row either.</summary>
        public bool HasRow => KindHasRow(Spec.Kind);

        /// <summary>
        /// The layer's row in torchsummary's table: <see cref="HasRow"/> but for functional ops (<c>[F.ReLU]</c>, an
        /// <c>Activation</c> argument), which run like layers but are no modules.
        /// </summary>
        public bool HasTorchRow => HasRow && !Spec.Functional;

        public static bool KindHasRow(LayerKind k) =>
            k != LayerKind.Flatten && k != LayerKind.BranchBegin && k != LayerKind.ShortcutBegin && k != LayerKind.Add && k != LayerKind.Scale;

        /// <summary>
        /// The layer's tensors in PyTorch <c>state_dict</c> order: safetensors key, shape, offset in the flat parameter
        /// array and element count. The one place the keys are made (the slots table, baked weights and their checks use it).
        /// </summary>
        public System.Collections.Generic.IEnumerable<ParameterTensor> Tensors()
        {
            if (WeightCount > 0) yield return new ParameterTensor(KeyPrefix + ".weight", WeightShape, ParamOffset, WeightCount);
            if (BiasCount > 0) yield return new ParameterTensor(KeyPrefix + ".bias", new[] { BiasCount }, ParamOffset + WeightCount, BiasCount);
        }

        /// <summary>PyTorch weight shape, e.g. [16, 1, 3, 3] for Conv2d(1, 16, 3) or [10, 32] for Linear(32, 10).</summary>
        public int[] WeightShape => Spec.Kind switch
        {
            LayerKind.Conv2d => new[] { Spec.Out, Spec.In / Spec.Groups, Spec.KernelH, Spec.KernelW },
            LayerKind.Linear => new[] { Spec.Out, Spec.In },
            LayerKind.BatchNorm2d => new[] { Spec.Out },
            _ => System.Array.Empty<int>(),
        };
    }

    /// <summary>One named parameter tensor of a layer (not a pipeline value: computed from a <see cref="ShapedLayer"/> when needed).</summary>
    internal readonly struct ParameterTensor
    {
        public ParameterTensor(string key, int[] shape, int offset, int count) { Key = key; Shape = shape; Offset = offset; Count = count; }
        public string Key { get; }
        public int[] Shape { get; }
        public int Offset { get; }
        public int Count { get; }
        public string ShapeText => "[" + string.Join(", ", Shape) + "]";
    }

    /// <summary>
    /// The result of shape inference. <see cref="Ok"/> is false when any error was found; then
    /// <see cref="Layers"/> must not be used to emit code (shapes after an error are unknown).
    /// </summary>
    internal sealed record ShapedModel(
        ModelSpec Model,
        bool Ok,
        EquatableArray<ShapedLayer> Layers,
        EquatableArray<DiagnosticInfo> Diagnostics,
        Shape Input,
        Shape Output,
        int ParameterCount)
    {
        /// <summary>The trained weights compiled in (<c>[Model(Weights = "...")]</c>), checked against the layers; null when none.</summary>
        public BakedWeights? Baked { get; init; }
    }

    /// <summary>
    /// Weights to compile into a model: every parameter in <see cref="ShapedModel"/> order (PyTorch's
    /// <c>state_dict</c> order), taken from the safetensors file <see cref="File"/> with SHA-256 <see cref="Sha256"/>.
    /// </summary>
    /// <remarks><see cref="Buffers"/>: batch norm's running statistics in the order of <see cref="ShapedModelBuffers.BufferTensors"/> (empty without batch norm).</remarks>
    internal sealed record BakedWeights(string File, string Sha256, EquatableArray<float> Values, EquatableArray<float> Buffers);

    /// <summary>One buffer tensor of a batch norm layer: key, shape, dtype in a safetensors file, offset and count in the model's Buffers.</summary>
    internal readonly struct BufferTensor
    {
        public BufferTensor(ShapedLayer layer, string key, int[] shape, string dtype, int offset, int count)
        {
            Layer = layer; Key = key; Shape = shape; DType = dtype; Offset = offset; Count = count;
        }
        public ShapedLayer Layer { get; }
        public string Key { get; }
        public int[] Shape { get; }
        /// <summary>"F32", or "I64" for num_batches_tracked (PyTorch's dtype; one float in Buffers).</summary>
        public string DType { get; }
        public int Offset { get; }
        public int Count { get; }
        public string ShapeText => "[" + string.Join(", ", Shape) + "]";
    }

    internal static class ShapedModelBuffers
    {
        /// <summary>
        /// Batch norm's buffers, layer by layer as the model's Buffers holds them (the emitter's MemoryPlan assigns the same
        /// offsets): running_mean [C], running_var [C], num_batches_tracked [] per BatchNorm2d.
        /// </summary>
        public static System.Collections.Generic.IEnumerable<BufferTensor> BufferTensors(ShapedModel m)
        {
            int at = 0;
            foreach (var l in m.Layers)
            {
                if (l.Spec.Kind != LayerKind.BatchNorm2d) continue;
                int c = l.Out.C;
                yield return new BufferTensor(l, l.KeyPrefix + ".running_mean", new[] { c }, "F32", at, c);
                yield return new BufferTensor(l, l.KeyPrefix + ".running_var", new[] { c }, "F32", at + c, c);
                yield return new BufferTensor(l, l.KeyPrefix + ".num_batches_tracked", System.Array.Empty<int>(), "I64", at + 2 * c, 1);
                at += 2 * c + 1;
            }
        }
    }
}

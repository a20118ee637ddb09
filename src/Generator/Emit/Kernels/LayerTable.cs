using System;
using System.Collections.Generic;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit.Kernels
{
    /// <summary>What a layer kind is, as far as lowering and emission care.</summary>
    internal enum KindRole
    {
        /// <summary>A layer that runs code (a summary row, a Forward and a Backward).</summary>
        Layer,
        /// <summary>A free reshape (Flatten): no row, no code.</summary>
        Reshape,
        /// <summary>A composite as written (Residual, Sequential, SqueezeExcitation): BlockExpansion replaces it.</summary>
        Composite,
        /// <summary>A branch marker or join after expansion (BranchBegin, ShortcutBegin, Add, Scale, BlockEnd).</summary>
        Structural,
    }

    /// <summary>Where the saved tensor an element-wise backward reads comes from.</summary>
    internal enum BackwardReads
    {
        /// <summary>The layer's output y (ReLU: dy where y &gt; 0).</summary>
        Output,
        /// <summary>The layer's input x.</summary>
        Input,
        /// <summary>Both, x then y (ELU).</summary>
        InputAndOutput,
    }

    /// <summary>
    /// An element-wise activation's runtime kernels: <c>{Class}.{Forward}(x, y, count[, value])</c> and
    /// <c>{Class}.{Backward}(saved..., dy, dx, count[, value])</c>, where value is <see cref="LayerSpec.Value"/> when
    /// <see cref="TakesValue"/>. <see cref="Tanh"/> is the approximate variant chosen by <c>Approximate = "tanh"</c>.
    /// </summary>
    internal sealed record ActivationKernels(string Class, string Forward, string Backward, BackwardReads Reads, bool TakesValue = false)
    {
        /// <summary>The kernels of the <c>Approximate = "tanh"</c> form (GELU), or null.</summary>
        public ActivationKernels? Tanh { get; init; }
    }

    /// <summary>
    /// One row of the capability table: everything the back half of the generator needs to know about a layer kind
    /// (the shape rule itself lives in <see cref="ShapeRules"/>, which the row's names come from).
    /// </summary>
    internal sealed record LayerRow(LayerKind Kind, KindRole Role)
    {
        /// <summary>Element-wise: y[i] depends on x[i] only, so it runs unchanged in any data layout.</summary>
        public bool ElementWise => Activation is not null;
        /// <summary>The runtime kernels of an element-wise activation (null: not element-wise).</summary>
        public ActivationKernels? Activation { get; init; }
        /// <summary>Inference may run it in place (y = x).</summary>
        public bool InPlace { get; init; }
        /// <summary>Inference skips it: the identity in eval mode (Dropout, Identity).</summary>
        public bool SkippedAtInference { get; init; }
        /// <summary>A convolution right before it applies it itself (Conv2d → ReLU), in sequential models.</summary>
        public bool FusesIntoConv { get; init; }
        /// <summary>
        /// Has a channels-last form: element-wise kinds (any layout), or a dedicated channels-last kernel (Conv2d,
        /// MaxPool2d; whether one particular layer qualifies is the lowering's decision).
        /// </summary>
        public bool ChannelsLast { get; init; }
        /// <summary>Keeps running statistics in the model's Buffers (BatchNorm2d).</summary>
        public bool HasBuffers { get; init; }

        /// <summary>The module name torchsummary shows (ShapeRules).</summary>
        public string TorchName => ShapeRules.TorchTypeName(Kind);
        /// <summary>The Keras base name and class (ShapeRules).</summary>
        public (string Name, string Type) Keras => ShapeRules.KerasNameOf(Kind);
        /// <summary>Whether the kind has a torchsummary row.</summary>
        public bool HasRow => ShapedLayer.KindHasRow(Kind);

        /// <summary>Weights and biases of a layer of this kind (ShapeRules).</summary>
        public int ParameterCount(LayerSpec spec)
        {
            ShapeRules.ParameterCounts(spec, out int weights, out int biases);
            return weights + biases;
        }
    }

    /// <summary>
    /// The capability table: one row per <see cref="LayerKind"/> (a test fails on a kind without one). Emitters and the
    /// lowering ask the table; they do not keep lists of kinds of their own.
    /// </summary>
    internal static class LayerTable
    {
        private const string Ops = "global::CnnGen.Kernels.Ops";
        private const string LayerOps = "global::CnnGen.Kernels.LayerOps";
        private const string ActivationOps = "global::CnnGen.Kernels.ActivationOps";

        private static LayerRow Act(LayerKind k, ActivationKernels kernels, bool fusesIntoConv = false) =>
            new LayerRow(k, KindRole.Layer) { Activation = kernels, InPlace = true, ChannelsLast = true, FusesIntoConv = fusesIntoConv };

        private static readonly LayerRow[] s_rows =
        {
            new LayerRow(LayerKind.Conv2d, KindRole.Layer) { ChannelsLast = true },
            new LayerRow(LayerKind.MaxPool2d, KindRole.Layer) { ChannelsLast = true },
            new LayerRow(LayerKind.AvgPool2d, KindRole.Layer),
            Act(LayerKind.ReLU, new ActivationKernels(Ops, "Relu", "ReluBackward", BackwardReads.Output), fusesIntoConv: true),
            Act(LayerKind.LeakyReLU, new ActivationKernels(Ops, "LeakyRelu", "LeakyReluBackward", BackwardReads.Input, TakesValue: true)),
            Act(LayerKind.ELU, new ActivationKernels(Ops, "Elu", "EluBackward", BackwardReads.InputAndOutput, TakesValue: true)),
            Act(LayerKind.Sigmoid, new ActivationKernels(Ops, "Sigmoid", "SigmoidBackward", BackwardReads.Output)),
            Act(LayerKind.Tanh, new ActivationKernels(Ops, "Tanh", "TanhBackward", BackwardReads.Output)),
            new LayerRow(LayerKind.Softmax, KindRole.Layer),
            new LayerRow(LayerKind.LogSoftmax, KindRole.Layer),
            new LayerRow(LayerKind.Flatten, KindRole.Reshape),
            new LayerRow(LayerKind.Linear, KindRole.Layer),
            new LayerRow(LayerKind.Dropout, KindRole.Layer) { SkippedAtInference = true },
            new LayerRow(LayerKind.Dropout2d, KindRole.Layer) { SkippedAtInference = true },
            new LayerRow(LayerKind.BatchNorm2d, KindRole.Layer) { InPlace = true, HasBuffers = true },
            new LayerRow(LayerKind.AdaptiveAvgPool2d, KindRole.Layer),
            new LayerRow(LayerKind.GlobalAvgPool2d, KindRole.Layer),
            Act(LayerKind.ReLU6, new ActivationKernels(LayerOps, "Relu6", "Relu6Backward", BackwardReads.Output)),
            Act(LayerKind.SiLU, new ActivationKernels(LayerOps, "Silu", "SiluBackward", BackwardReads.Input)),
            new LayerRow(LayerKind.Identity, KindRole.Layer) { SkippedAtInference = true },
            Act(LayerKind.GELU, new ActivationKernels(ActivationOps, "Gelu", "GeluBackward", BackwardReads.Input)
                { Tanh = new ActivationKernels(ActivationOps, "GeluTanh", "GeluTanhBackward", BackwardReads.Input) }),
            Act(LayerKind.Hardswish, new ActivationKernels(ActivationOps, "Hardswish", "HardswishBackward", BackwardReads.Input)),
            Act(LayerKind.Hardsigmoid, new ActivationKernels(ActivationOps, "Hardsigmoid", "HardsigmoidBackward", BackwardReads.Input)),
            new LayerRow(LayerKind.Residual, KindRole.Composite),
            new LayerRow(LayerKind.Sequential, KindRole.Composite),
            new LayerRow(LayerKind.SqueezeExcitation, KindRole.Composite),
            new LayerRow(LayerKind.BranchBegin, KindRole.Structural),
            new LayerRow(LayerKind.ShortcutBegin, KindRole.Structural),
            new LayerRow(LayerKind.Add, KindRole.Structural),
            new LayerRow(LayerKind.Scale, KindRole.Structural),
            new LayerRow(LayerKind.BlockEnd, KindRole.Structural),
        };

        private static readonly Dictionary<LayerKind, LayerRow> s_byKind = Index();

        private static Dictionary<LayerKind, LayerRow> Index()
        {
            var d = new Dictionary<LayerKind, LayerRow>();
            foreach (var r in s_rows) d.Add(r.Kind, r); // a kind listed twice throws here, at the first use (the table test)
            return d;
        }

        /// <summary>Every row, in declaration order.</summary>
        public static IReadOnlyList<LayerRow> Rows => s_rows;

        /// <summary>The row of <paramref name="kind"/>; a kind without a row is a bug the table test catches.</summary>
        public static LayerRow Of(LayerKind kind) =>
            s_byKind.TryGetValue(kind, out var row) ? row : throw new InvalidOperationException("no capability row for layer kind " + kind);

        public static LayerRow Of(ShapedLayer l) => Of(l.Spec.Kind);
    }
}

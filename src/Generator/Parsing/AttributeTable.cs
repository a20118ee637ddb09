using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Parsing
{
    /// <summary>
    /// Which attribute classes are CnnGen's, and the layer kind each layer attribute stands for: the one table to extend
    /// when a layer attribute (or another name for one) is added to src/Attributes.
    /// </summary>
    /// <remarks>
    /// An attribute is ours only when its class comes from CnnGen's attribute assembly: a user's own
    /// <c>CnnGen.AddAttribute</c>, <c>CnnGen.ModelAttribute</c> or a user class deriving from <c>CnnGen.LayerAttribute</c>
    /// in the namespace <c>CnnGen</c> is never mistaken for one (the structural kinds <see cref="LayerKind.Add"/>,
    /// <see cref="LayerKind.Scale"/>, <see cref="LayerKind.BranchBegin"/>... have no attribute at all).
    /// </remarks>
    internal static class AttributeTable
    {
        /// <summary>The assembly CnnGen's attributes live in (src/Attributes).</summary>
        public const string AttributesAssembly = "CnnGen.Attributes";

        /// <summary>Metadata name of each layer attribute class → the layer kind it declares.</summary>
        private static readonly Dictionary<string, LayerKind> Layers = new Dictionary<string, LayerKind>(System.StringComparer.Ordinal)
        {
            ["CnnGen.Conv2dAttribute"] = LayerKind.Conv2d,
            ["CnnGen.MaxPool2dAttribute"] = LayerKind.MaxPool2d,
            ["CnnGen.AvgPool2dAttribute"] = LayerKind.AvgPool2d,
            ["CnnGen.ReLUAttribute"] = LayerKind.ReLU,
            ["CnnGen.LeakyReLUAttribute"] = LayerKind.LeakyReLU,
            ["CnnGen.ELUAttribute"] = LayerKind.ELU,
            ["CnnGen.SigmoidAttribute"] = LayerKind.Sigmoid,
            ["CnnGen.TanhAttribute"] = LayerKind.Tanh,
            ["CnnGen.SoftmaxAttribute"] = LayerKind.Softmax,
            ["CnnGen.LogSoftmaxAttribute"] = LayerKind.LogSoftmax,
            ["CnnGen.FlattenAttribute"] = LayerKind.Flatten,
            ["CnnGen.LinearAttribute"] = LayerKind.Linear,
            ["CnnGen.DropoutAttribute"] = LayerKind.Dropout,
            ["CnnGen.Dropout2dAttribute"] = LayerKind.Dropout2d,
            ["CnnGen.BatchNorm2dAttribute"] = LayerKind.BatchNorm2d,
            ["CnnGen.AdaptiveAvgPool2dAttribute"] = LayerKind.AdaptiveAvgPool2d,
            ["CnnGen.GlobalAvgPool2dAttribute"] = LayerKind.GlobalAvgPool2d,
            ["CnnGen.ReLU6Attribute"] = LayerKind.ReLU6,
            ["CnnGen.SiLUAttribute"] = LayerKind.SiLU,
            // [Swish] is [SiLU] under its other name: same layer, same summary row (PyTorch's nn.SiLU).
            ["CnnGen.SwishAttribute"] = LayerKind.SiLU,
            ["CnnGen.IdentityAttribute"] = LayerKind.Identity,
            ["CnnGen.ResidualAttribute"] = LayerKind.Residual,
            ["CnnGen.SequentialAttribute"] = LayerKind.Sequential,
            ["CnnGen.SqueezeExcitationAttribute"] = LayerKind.SqueezeExcitation,
            ["CnnGen.GELUAttribute"] = LayerKind.GELU,
            ["CnnGen.HardswishAttribute"] = LayerKind.Hardswish,
            ["CnnGen.HardsigmoidAttribute"] = LayerKind.Hardsigmoid,
            // Functional ops ([F.ReLU], nested in the static class CnnGen.F): the same kinds, flagged Functional by the parser.
            ["CnnGen.F.ReLUAttribute"] = LayerKind.ReLU,
            ["CnnGen.F.ReLU6Attribute"] = LayerKind.ReLU6,
            ["CnnGen.F.LeakyReLUAttribute"] = LayerKind.LeakyReLU,
            ["CnnGen.F.ELUAttribute"] = LayerKind.ELU,
            ["CnnGen.F.SigmoidAttribute"] = LayerKind.Sigmoid,
            ["CnnGen.F.TanhAttribute"] = LayerKind.Tanh,
            ["CnnGen.F.SiLUAttribute"] = LayerKind.SiLU,
            ["CnnGen.F.SoftmaxAttribute"] = LayerKind.Softmax,
            ["CnnGen.F.LogSoftmaxAttribute"] = LayerKind.LogSoftmax,
            ["CnnGen.F.MaxPool2dAttribute"] = LayerKind.MaxPool2d,
            ["CnnGen.F.AvgPool2dAttribute"] = LayerKind.AvgPool2d,
            ["CnnGen.F.AdaptiveAvgPool2dAttribute"] = LayerKind.AdaptiveAvgPool2d,
            ["CnnGen.F.DropoutAttribute"] = LayerKind.Dropout,
            ["CnnGen.F.Dropout2dAttribute"] = LayerKind.Dropout2d,
            ["CnnGen.F.FlattenAttribute"] = LayerKind.Flatten,
            // Keras' names (namespace CnnGen.Keras): KerasNames completes their arguments (inferred input channels).
            ["CnnGen.Keras.Conv2DAttribute"] = LayerKind.Conv2d,
            ["CnnGen.Keras.DenseAttribute"] = LayerKind.Linear,
            ["CnnGen.Keras.MaxPooling2DAttribute"] = LayerKind.MaxPool2d,
            ["CnnGen.Keras.AveragePooling2DAttribute"] = LayerKind.AvgPool2d,
            ["CnnGen.Keras.GlobalAveragePooling2DAttribute"] = LayerKind.GlobalAvgPool2d,
        };

        /// <summary>True when <paramref name="type"/> is the CnnGen attribute class <paramref name="metadataName"/> itself.</summary>
        public static bool Is(INamedTypeSymbol? type, string metadataName) =>
            type != null && IsOurs(type) && type.ToDisplayString() == metadataName;

        /// <summary>True when the type comes from CnnGen's attribute assembly.</summary>
        public static bool IsOurs(ITypeSymbol type) => type.ContainingAssembly?.Name == AttributesAssembly;

        /// <summary>True when <paramref name="type"/> derives from CnnGen's own <c>LayerAttribute</c>.</summary>
        public static bool IsLayerAttribute(INamedTypeSymbol type)
        {
            for (var t = type.BaseType; t != null; t = t.BaseType)
            {
                if (Is(t, "CnnGen.LayerAttribute")) return true;
            }
            return false;
        }

        /// <summary>True for one of our functional-op attributes (nested in the static class <c>CnnGen.F</c>).</summary>
        public static bool IsFunctional(INamedTypeSymbol type) =>
            IsOurs(type) && type.ContainingType is { } f && f.ContainingType is null && f.ToDisplayString() == "CnnGen.F";

        /// <summary>True for one of our Keras-named attributes (namespace <c>CnnGen.Keras</c>).</summary>
        public static bool IsKeras(INamedTypeSymbol type) =>
            IsOurs(type) && type.ContainingType is null && type.ContainingNamespace?.ToDisplayString() == "CnnGen.Keras";

        /// <summary>The layer kind of one of our layer attribute classes, or null for any other class.</summary>
        public static LayerKind? KindOf(INamedTypeSymbol type) =>
            IsOurs(type) && Layers.TryGetValue(type.ToDisplayString(), out var kind) ? kind : (LayerKind?)null;
    }
}

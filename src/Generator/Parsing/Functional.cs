using System.Collections.Generic;
using System.Globalization;

namespace CnnGen.Generator.Parsing
{
    /// <summary>
    /// Functional ops: <c>[F.ReLU]</c>, <c>[F.MaxPool2d(2)]</c>, ... (PyTorch's <c>torch.nn.functional</c> calls in a
    /// <c>forward</c>) and the activation an <c>Activation = "relu"</c> argument adds after its layer. They compute like
    /// the layer of the same kind, but are not modules: no torchsummary row, no row number (the numbers of the rows
    /// around them are those PyTorch gives), no key position (the position counter used for safetensors keys skips them,
    /// as a PyTorch model's <c>state_dict</c> has no entry for them) and no Keras row (Keras shows a layer's activation in
    /// the layer's row). Diagnostics and the generated shape table name them by the function and a running number
    /// of their own: <c>F.relu-f1</c>, <c>F.max_pool2d-f2</c>.
    /// </summary>
    internal static class Functional
    {
        /// <summary>The name of the static class the functional attributes are nested in: <c>CnnGen.F</c>.</summary>
        public const string ContainerName = "F";

        /// <summary>PyTorch's function for a layer kind (<c>F.relu</c>, <c>torch.sigmoid</c>), as diagnostics and the shape table name the op.</summary>
        public static string FunctionName(LayerKind kind) => kind switch
        {
            LayerKind.ReLU => "F.relu",
            LayerKind.ReLU6 => "F.relu6",
            LayerKind.LeakyReLU => "F.leaky_relu",
            LayerKind.ELU => "F.elu",
            LayerKind.Sigmoid => "torch.sigmoid",
            LayerKind.Tanh => "torch.tanh",
            LayerKind.SiLU => "F.silu",
            LayerKind.Softmax => "F.softmax",
            LayerKind.LogSoftmax => "F.log_softmax",
            LayerKind.MaxPool2d => "F.max_pool2d",
            LayerKind.AvgPool2d => "F.avg_pool2d",
            LayerKind.AdaptiveAvgPool2d or LayerKind.GlobalAvgPool2d => "F.adaptive_avg_pool2d",
            LayerKind.Dropout => "F.dropout",
            LayerKind.Dropout2d => "F.dropout2d",
            LayerKind.Flatten => "torch.flatten",
            _ => "F." + kind.ToString().ToLowerInvariant(),
        };

        /// <summary>
        /// The name of the <paramref name="number"/>-th functional op of a model (1-based, in its own sequence): the
        /// function, then "-f" and the number, so generated method names stay unique (<c>ReLU_f1</c>).
        /// </summary>
        public static string SummaryName(LayerKind kind, int number) =>
            FunctionName(kind) + "-f" + number.ToString(CultureInfo.InvariantCulture);

        /// <summary>
        /// Adds a parsed layer to <paramref name="specs"/> with its key position (<paramref name="position"/> counts the
        /// modules only), followed by what its arguments imply: the activation of an <c>Activation</c> argument, the free
        /// flatten after Keras' GlobalAveragePooling2D.
        /// </summary>
        public static void Append(List<LayerSpec> specs, LayerSpec spec, ref int position, List<DiagnosticInfo> diagnostics)
        {
            if (spec.Functional && spec.Name is string given)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.FunctionalOpName, spec.Location, "F." + spec.Kind, given, spec.Kind));
                spec = spec with { Name = null };
            }
            spec = spec with { Position = position, KerasType = spec.Functional ? spec.KerasType ?? "" : spec.KerasType };
            if (!spec.Functional) position++;
            specs.Add(spec);
            // Conv2d / Linear (and Conv2D / Dense): the activation runs after the layer. (SqueezeExcitation's Activation is its
            // inner one: BlockExpansion places it.)
            if (spec.Activation is string name && spec.ArgumentsOk && (spec.Kind == LayerKind.Conv2d || spec.Kind == LayerKind.Linear))
            {
                if (!KerasNames.TryActivation(name, out var activation))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnknownActivation, spec.Location, name, KerasNames.ActivationList));
                }
                else if (activation.Kind is LayerKind kind)
                {
                    specs.Add(new LayerSpec(kind, spec.Position, spec.Location) { Functional = true, Value = activation.Value, KerasType = "" });
                }
            }
            if (spec.KerasType == "" && spec.Kind == LayerKind.GlobalAvgPool2d && !spec.Functional)
            {
                // Keras' GlobalAveragePooling2D gives [C]: torchsummary's AdaptiveAvgPool2d row, then a free flatten that
                // shows the Keras row.
                specs.Add(new LayerSpec(LayerKind.Flatten, spec.Position, spec.Location) { Functional = true, KerasType = "GlobalAveragePooling2D" });
            }
        }
    }
}

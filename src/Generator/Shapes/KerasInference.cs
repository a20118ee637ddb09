using System.Text.RegularExpressions;
using CnnGen.Generator.Parsing;

namespace CnnGen.Generator.Shapes
{
    /// <summary>What Keras' aliases leave to the shapes: the input channels of Conv2D and the input features of Dense, and Keras' layer names.</summary>
    internal static class KerasInference
    {
        /// <summary>
        /// The layer with <see cref="LayerSpec.In"/> taken from the incoming shape when it is a Keras alias (Conv2D: the
        /// channels; Dense: the features, which the shape check then requires to be flat). With the incoming shape unknown
        /// (an earlier error), a placeholder that passes the argument checks: the shapes after an error are not used.
        /// </summary>
        public static LayerSpec WithInferredInput(LayerSpec spec, Shape? incoming)
        {
            if (!spec.InferIn) return spec;
            int placeholder = System.Math.Max(1, spec.Groups);
            int inferred = incoming is Shape s ? (spec.Kind == LayerKind.Linear ? s.Size : s.C) : placeholder;
            return spec with { In = inferred };
        }

        /// <summary>
        /// Keras' (name base, class) of a layer: the <see cref="LayerSpec.KerasType"/> override (functional ops: none), the
        /// branch markers that let KerasSummary() rebuild a functional model's graph, else the kind's (<see cref="ShapeRules.KerasNameOf"/>).
        /// </summary>
        public static (string Name, string Type) KerasNameOf(LayerSpec spec) => spec.KerasType is string kt ? NameOf(kt) : spec.Kind switch
        {
            LayerKind.BranchBegin => ("", Emit.SummaryFormat.BranchStart),
            LayerKind.ShortcutBegin => ("", Emit.SummaryFormat.ShortcutStart),
            _ => ShapeRules.KerasNameOf(spec.Kind),
        };

        /// <summary>Keras' (name, class) for a class named by <see cref="LayerSpec.KerasType"/>: ("", "") for none, else Keras' snake case.</summary>
        public static (string Name, string Type) NameOf(string kerasType) =>
            kerasType.Length == 0 ? ("", "") : (SnakeCase(kerasType), kerasType);

        /// <summary>Keras' <c>to_snake_case</c>: "GlobalAveragePooling2D" → "global_average_pooling2d".</summary>
        public static string SnakeCase(string name)
        {
            string intermediate = Regex.Replace(name, "(.)([A-Z][a-z0-9]+)", "$1_$2");
            return Regex.Replace(intermediate, "([a-z])([A-Z])", "$1_$2").ToLowerInvariant();
        }
    }
}

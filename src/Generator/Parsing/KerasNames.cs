using System;
using System.Collections.Generic;
using System.Linq;

namespace CnnGen.Generator.Parsing
{
    /// <summary>
    /// Keras' names: the layer aliases of namespace <c>CnnGen.Keras</c> (Conv2D, Dense, MaxPooling2D, ...), the activation
    /// names of the <c>Activation</c> argument, and the hints CNN0080 gives for a layer name CnnGen does not have
    /// (a Keras name without <c>using CnnGen.Keras;</c>, another Keras spelling, a misspelling).
    /// </summary>
    internal static class KerasNames
    {
        public const string Namespace = "CnnGen.Keras";

        /// <summary>One activation by Keras' name; <see cref="Kind"/> null for "linear" (no activation).</summary>
        public readonly struct Activation
        {
            public Activation(string name, LayerKind? kind, double value = 0) { Name = name; Kind = kind; Value = value; }
            public string Name { get; }
            public LayerKind? Kind { get; }
            /// <summary>The layer's <see cref="LayerSpec.Value"/>: ELU's alpha, LeakyReLU's slope (Keras' defaults).</summary>
            public double Value { get; }
        }

        /// <summary>
        /// The activations an <c>Activation</c> argument takes, by Keras' names (<c>keras.activations</c>). A new activation
        /// layer kind needs one row here (e.g. ("gelu", LayerKind.GELU)).
        /// </summary>
        private static readonly Activation[] Activations =
        {
            new Activation("relu", LayerKind.ReLU),
            new Activation("sigmoid", LayerKind.Sigmoid),
            new Activation("tanh", LayerKind.Tanh),
            new Activation("softmax", LayerKind.Softmax),
            new Activation("log_softmax", LayerKind.LogSoftmax),
            new Activation("elu", LayerKind.ELU, 1.0),
            new Activation("leaky_relu", LayerKind.LeakyReLU, 0.2), // keras.activations.leaky_relu(negative_slope=0.2)
            new Activation("relu6", LayerKind.ReLU6),
            new Activation("silu", LayerKind.SiLU),
            new Activation("swish", LayerKind.SiLU),
            new Activation("linear", null),
        };

        public static string ActivationList => string.Join(", ", Activations.Select(a => "\"" + a.Name + "\""));

        public static bool TryActivation(string name, out Activation activation)
        {
            foreach (var a in Activations)
            {
                if (a.Name == name) { activation = a; return true; }
            }
            activation = default;
            return false;
        }

        /// <summary>The layer kind of a <c>CnnGen.Keras</c> attribute (name without "Attribute").</summary>
        public static bool TryKind(string name, out LayerKind kind)
        {
            switch (name)
            {
                case "Conv2D": kind = LayerKind.Conv2d; return true;
                case "Dense": kind = LayerKind.Linear; return true;
                case "MaxPooling2D": kind = LayerKind.MaxPool2d; return true;
                case "AveragePooling2D": kind = LayerKind.AvgPool2d; return true;
                case "GlobalAveragePooling2D": kind = LayerKind.GlobalAvgPool2d; return true;
                default: kind = default; return false;
            }
        }

        /// <summary>
        /// A Keras alias's arguments in PyTorch form. <paramref name="ctor"/>: the constructor's int arguments (0 when
        /// unreadable); <paramref name="named"/>: the named arguments as written.
        /// </summary>
        public static LayerSpec Complete(LayerSpec spec, int[] ctor, IReadOnlyDictionary<string, object?> named, List<DiagnosticInfo> diagnostics)
        {
            int? Int(string key) => named.TryGetValue(key, out var v) && v is int x ? x : (int?)null;
            bool useBias = !named.TryGetValue("UseBias", out var b) || b is not bool bb || bb;
            string padding = named.TryGetValue("Padding", out var p) && p is string ps ? ps : "valid";
            string? activation = named.TryGetValue("Activation", out var a) ? a as string : null;
            int At(int i) => i < ctor.Length ? ctor[i] : 0;
            switch (spec.Kind)
            {
                case LayerKind.Conv2d:
                {
                    int kh = At(1), kw = ctor.Length > 2 ? At(2) : At(1);
                    int stride = Int("Strides") ?? 1, dilation = Int("DilationRate") ?? 1;
                    spec = spec with
                    {
                        InferIn = true, Out = At(0), KernelH = kh, KernelW = kw, StrideH = stride, StrideW = stride,
                        DilationH = dilation, DilationW = dilation, Groups = Int("Groups") ?? 1, Bias = useBias, Activation = activation,
                    };
                    return Pad(spec, padding, diagnostics);
                }
                case LayerKind.Linear:
                    return spec with { InferIn = true, Out = At(0), Bias = useBias, Activation = activation };
                case LayerKind.MaxPool2d:
                case LayerKind.AvgPool2d:
                {
                    int k = At(0), stride = Int("Strides") ?? 0;
                    if (stride == 0) stride = k; // Keras' strides=None: the pool size
                    return Pad(spec with { KernelH = k, KernelW = k, StrideH = stride, StrideW = stride }, padding, diagnostics);
                }
                default: // GlobalAveragePooling2D: AdaptiveAvgPool2d(1) without a Keras row; Functional.Append adds the flatten that shows it
                    return spec with { Out = 1, KerasType = "" };
            }
        }

        /// <summary>Keras' padding: "valid" is none; "same" is symmetric (k − 1)·d / 2 for stride 1 and odd kernels, which is all CnnGen compiles.</summary>
        private static LayerSpec Pad(LayerSpec spec, string padding, List<DiagnosticInfo> diagnostics)
        {
            if (padding == "valid") return spec;
            int spanH = spec.DilationH * (spec.KernelH - 1), spanW = spec.DilationW * (spec.KernelW - 1);
            if (padding == "same" && spec.StrideH == 1 && spec.StrideW == 1 && spanH % 2 == 0 && spanW % 2 == 0)
                return spec with { PadH = spanH / 2, PadW = spanW / 2 };
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.KerasPaddingUnsupported, spec.Location, padding));
            return spec; // unpadded: the model has an error, so its shapes are not used
        }

        // ---- CNN0080: a layer name CnnGen does not have ------------------------------------------

        /// <summary>Keras' classes CnnGen.Keras has, with their PyTorch form.</summary>
        private static readonly (string Keras, string Torch)[] KerasClasses =
        {
            ("Conv2D", "Conv2d(in, out, kernelSize)"),
            ("Dense", "Linear(in, out)"),
            ("MaxPooling2D", "MaxPool2d(kernelSize)"),
            ("AveragePooling2D", "AvgPool2d(kernelSize)"),
            ("GlobalAveragePooling2D", "GlobalAvgPool2d] then [Flatten"),
        };

        /// <summary>Other Keras spellings: (name, the CnnGen.Keras alias or null, the PyTorch form).</summary>
        private static readonly (string Name, string? Keras, string Torch)[] KerasSpellings =
        {
            ("Convolution2D", "Conv2D", "Conv2d"),
            ("MaxPool2D", "MaxPooling2D", "MaxPool2d"),
            ("AvgPool2D", "AveragePooling2D", "AvgPool2d"),
            ("GlobalAvgPool2D", "GlobalAveragePooling2D", "GlobalAvgPool2d"),
            ("GlobalAveragePooling2d", "GlobalAveragePooling2D", "GlobalAvgPool2d"),
            ("BatchNormalization", null, "BatchNorm2d"),
            ("SpatialDropout2D", null, "Dropout2d"),
        };

        private static readonly string[] OtherAttributes = { "Model", "Input", "Block", "Swish" };

        /// <summary>The functional ops nested in <c>CnnGen.F</c>.</summary>
        private static readonly string[] FunctionalNames =
        {
            "ReLU", "ReLU6", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "SiLU", "Softmax", "LogSoftmax",
            "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Dropout", "Dropout2d", "Flatten",
        };

        private static IEnumerable<string> CnnGenNames() =>
            Enum.GetNames(typeof(LayerKind)).Where(n => !IsStructural(n)).Concat(OtherAttributes);

        private static bool IsStructural(string n) =>
            n == nameof(LayerKind.BranchBegin) || n == nameof(LayerKind.ShortcutBegin) || n == nameof(LayerKind.Add) ||
            n == nameof(LayerKind.Scale) || n == nameof(LayerKind.BlockEnd);

        /// <summary>
        /// CNN0080 for an attribute whose class does not exist (the compiler reports CS0246 too), when CnnGen can name
        /// the right spelling; null otherwise. <paramref name="written"/>: the attribute name as written (<c>Dense</c>,
        /// <c>F.Relu</c>, <c>DenseAttribute</c>).
        /// </summary>
        public static DiagnosticInfo? UnknownName(string written, LocationInfo? location)
        {
            string qualifier = "", name = written;
            int dot = written.LastIndexOf('.');
            if (dot >= 0) { qualifier = written.Substring(0, dot); name = written.Substring(dot + 1); }
            if (name.EndsWith("Attribute", StringComparison.Ordinal) && name.Length > "Attribute".Length)
                name = name.Substring(0, name.Length - "Attribute".Length);
            bool functional = qualifier == Functional.ContainerName || qualifier.EndsWith("." + Functional.ContainerName, StringComparison.Ordinal);
            string? suggestion = null, ns = null, why = null;

            if (!functional && KerasClasses.FirstOrDefault(k => k.Keras == name) is { Keras: not null } kc)
            {
                suggestion = name;
                ns = Namespace;
                why = $"{name} is Keras' name: write [{kc.Torch}] or add `using {Namespace};` for [{KerasForm(name)}]";
            }
            else if (!functional && KerasSpellings.FirstOrDefault(k => k.Name == name) is { Name: not null } ks)
            {
                suggestion = ks.Keras ?? ks.Torch;
                ns = ks.Keras is null ? null : Namespace;
                why = ks.Keras is null
                    ? $"{name} is Keras' name: write [{ks.Torch}]"
                    : $"{name} is another Keras spelling of {ks.Keras}: write [{ks.Torch}], or [{KerasForm(ks.Keras)}] with `using {Namespace};`";
            }
            else if (!functional && name == "Activation")
            {
                why = "Activation is Keras' layer: write an Activation = \"relu\" argument on the layer before, or the activation's own layer ([ReLU], [Sigmoid], ...)";
            }
            else
            {
                var candidates = functional ? FunctionalNames : CnnGenNames().Concat(KerasClasses.Select(k => k.Keras)).ToArray();
                string? best = candidates.FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
                if (best is null && name.Length >= 4)
                {
                    int bestDistance = 3;
                    foreach (var c in candidates)
                    {
                        int d = Distance(name.ToLowerInvariant(), c.ToLowerInvariant());
                        if (d < bestDistance) { bestDistance = d; best = c; }
                    }
                }
                if (best is null) return null;
                bool keras = !functional && KerasClasses.Any(k => k.Keras == best);
                suggestion = functional ? qualifier + "." + best : best;
                ns = keras ? Namespace : null;
                why = keras
                    ? $"write [{best}] (Keras' name, with `using {Namespace};`) or its PyTorch form [{KerasClasses.First(k => k.Keras == best).Torch}]"
                    : $"write [{suggestion}]";
            }
            var info = DiagnosticInfo.Create(Diagnostics.UnknownLayerName, location, written, why);
            var properties = new List<string>();
            if (suggestion != null) { properties.Add("Suggestion"); properties.Add(suggestion); }
            if (ns != null) { properties.Add("Namespace"); properties.Add(ns); }
            return info with { Properties = new EquatableArray<string>(properties.ToArray()) };
        }

        private static string KerasForm(string keras) => keras switch
        {
            "Conv2D" => "Conv2D(filters, kernelSize)",
            "Dense" => "Dense(units)",
            "MaxPooling2D" => "MaxPooling2D(poolSize)",
            "AveragePooling2D" => "AveragePooling2D(poolSize)",
            _ => keras,
        };

        /// <summary>Levenshtein distance (names are short).</summary>
        private static int Distance(string a, string b)
        {
            var row = new int[b.Length + 1];
            for (int j = 0; j <= b.Length; j++) row[j] = j;
            for (int i = 1; i <= a.Length; i++)
            {
                int diag = row[0];
                row[0] = i;
                for (int j = 1; j <= b.Length; j++)
                {
                    int up = row[j];
                    row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] == b[j - 1] ? 0 : 1));
                    diag = up;
                }
            }
            return row[b.Length];
        }
    }
}

namespace CnnGen.Generator.Parsing
{
    // Everything in this file flows through the incremental pipeline, so it must stay structurally
    // equatable: records of primitives, strings and EquatableArray only; no ISymbol, SyntaxNode,
    // Compilation or Location (see LocationInfo). Tests walk these types and fail on a banned member.

    /// <summary>The layer kinds CnnGen knows, one per layer attribute.</summary>
    internal enum LayerKind
    {
        Conv2d,
        MaxPool2d,
        AvgPool2d,
        ReLU,
        LeakyReLU,
        ELU,
        Sigmoid,
        Tanh,
        Softmax,
        LogSoftmax,
        Flatten,
        Linear,
        Dropout,
        Dropout2d,
        BatchNorm2d,
        AdaptiveAvgPool2d,
        GlobalAvgPool2d,
        ReLU6,
        SiLU,
        Identity,
        GELU,
        Hardswish,
        Hardsigmoid,
        // Composite layers as written; BlockExpansion replaces them by the structural kinds below.
        Residual,
        Sequential,
        SqueezeExcitation,
        // Structural kinds (after expansion): a branch starts (its input is kept), the shortcut starts (from the
        // kept input), the two are joined (Add: body + shortcut; Scale: input · body, per channel), and the
        // container module's summary row (torchsummary hooks it after its children).
        BranchBegin,
        ShortcutBegin,
        Add,
        Scale,
        BlockEnd,
    }

    /// <summary>
    /// One layer attribute as written, with every PyTorch argument resolved (square forms expanded to
    /// height/width, pooling stride defaulted to the kernel). Values are not validated here.
    /// </summary>
    internal sealed record LayerSpec(LayerKind Kind, int Position, LocationInfo? Location)
    {
        /// <summary>The <c>Name</c> argument, replacing the position in safetensors keys.</summary>
        public string? Name { get; init; }
        /// <summary>Conv2d in channels / Linear in features.</summary>
        public int In { get; init; }
        /// <summary>Conv2d out channels / Linear out features.</summary>
        public int Out { get; init; }
        public int KernelH { get; init; }
        public int KernelW { get; init; }
        public int StrideH { get; init; } = 1;
        public int StrideW { get; init; } = 1;
        public int PadH { get; init; }
        public int PadW { get; init; }
        public int DilationH { get; init; } = 1;
        public int DilationW { get; init; } = 1;
        public int Groups { get; init; } = 1;
        public bool Bias { get; init; } = true;
        /// <summary>Dropout probability, LeakyReLU slope, ELU alpha or BatchNorm2d eps.</summary>
        public double Value { get; init; }
        /// <summary>GELU: "none" (the exact erf form) or "tanh" (the tanh approximation), as torch.nn.GELU(approximate=...).</summary>
        public string Approximate { get; init; } = "none";
        /// <summary>BatchNorm2d momentum.</summary>
        public double Momentum { get; init; }
        /// <summary>Residual / Sequential: the [Block] class (fully qualified); BlockEnd: the module name its row shows.</summary>
        public string? Block { get; init; }
        /// <summary>Residual: the shortcut [Block] class, or null for the identity.</summary>
        public string? Shortcut { get; init; }
        /// <summary>Residual: the shortcut's key segment ("downsample").</summary>
        public string ShortcutName { get; init; } = "downsample";
        /// <summary>Residual: ReLU after the addition.</summary>
        public bool ReLU { get; init; }
        /// <summary>Set by BlockExpansion: the full key prefix ("layer1.0.conv1") of a layer inside a block.</summary>
        public string? KeyPrefix { get; init; }
        /// <summary>False when the attribute's arguments could not be read (a C# error on the attribute).</summary>
        public bool ArgumentsOk { get; init; } = true;
        /// <summary>Which named arguments were given (for messages), e.g. "Stride".</summary>
        public EquatableArray<string> NamedArguments { get; init; } = EquatableArray<string>.Empty;
        /// <summary>
        /// A functional op (<c>[F.ReLU]</c>, or the op an <c>Activation</c> argument adds): computes like the layer, but has
        /// no torchsummary row, no row number and no key position (see <see cref="Functional"/>).
        /// </summary>
        public bool Functional { get; init; }
        /// <summary>The <c>Activation</c> argument as written (Keras' name), or null; <see cref="Functional"/> turns it into a layer.</summary>
        public string? Activation { get; init; }
        /// <summary>Keras aliases Conv2D and Dense: <see cref="In"/> is taken from the incoming shape during shape inference.</summary>
        public bool InferIn { get; init; }
        /// <summary>SqueezeExcitation: the gate's activation (Keras' name, "sigmoid" by default).</summary>
        public string? ScaleActivation { get; init; }
        /// <summary>SqueezeExcitation: the bottleneck's channels when given (SqueezeChannels), else 0.</summary>
        public int Squeeze { get; init; }
        /// <summary>The Keras class whose row this layer shows in KerasSummary(), overriding the kind's; "" for no Keras row.</summary>
        public string? KerasType { get; init; }
    }

    /// <summary>A parsed [Block] class: its fully qualified name, the module name summaries show, its layers.</summary>
    internal sealed record BlockSpec(
        string FullName,
        string DisplayName,
        string? ModuleName,
        EquatableArray<LayerSpec> Layers,
        EquatableArray<DiagnosticInfo> Diagnostics,
        LocationInfo? Location);

    /// <summary>The declared input shape (one sample, channels first).</summary>
    internal sealed record InputSpec(int Channels, int Height, int Width, LocationInfo? Location)
    {
        /// <summary>False when the attribute's arguments could not be read (a C# error on the attribute).</summary>
        public bool ArgumentsOk { get; init; } = true;
    }

    /// <summary>A type that contains the model class (nested models).</summary>
    internal sealed record ContainingTypeSpec(string Keyword, string Name);

    /// <summary>A parsed [Model] class: where it lives, its input and its layers, plus parse errors.</summary>
    internal sealed record ModelSpec(
        string? Namespace,
        string ClassName,
        string Keyword,
        EquatableArray<ContainingTypeSpec> ContainingTypes,
        InputSpec? Input,
        EquatableArray<LayerSpec> Layers,
        EquatableArray<DiagnosticInfo> Diagnostics,
        LocationInfo? Location)
    {
        /// <summary>
        /// Fully qualified name used for the hint name, e.g. "Samples.MnistCnn", without the '@' of escaped
        /// keywords (ClassName, ContainingTypes names and Namespace are C# identifiers: <c>@event</c>), since
        /// '@' is not allowed in a hint name.
        /// </summary>
        public string FullName
        {
            get
            {
                string prefix = Namespace is null ? "" : Namespace + ".";
                foreach (var c in ContainingTypes) prefix += c.Name + ".";
                return (prefix + ClassName).Replace("@", "");
            }
        }

        /// <summary>
        /// The hint name for AddSource, e.g. "Samples.MnistCnn.3f9a0c12.g.cs". Roslyn compares hint names
        /// ignoring case, so <see cref="FullName"/> alone makes models T.M and T.m (or namespaces T and t)
        /// collide and the generator crash; the FNV-1a hash of the exact, case-sensitive name keeps them apart.
        /// </summary>
        public string HintName
        {
            get
            {
                string name = FullName;
                uint hash = 2166136261;
                foreach (char c in name)
                {
                    unchecked { hash = (hash ^ c) * 16777619; }
                }
                return name + "." + hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + ".g.cs";
            }
        }

        /// <summary>True when the class itself can't take generated members (not partial, generic...).</summary>
        public bool CannotEmit { get; init; }

        /// <summary>The <c>[Model(Weights = "...")]</c> argument: a safetensors file to compile in, or null.</summary>
        public string? Weights { get; init; }

        /// <summary>Where the weights diagnostics go: the <c>Weights = "..."</c> argument (or the [Model] attribute).</summary>
        public LocationInfo? WeightsLocation { get; init; }
    }
}

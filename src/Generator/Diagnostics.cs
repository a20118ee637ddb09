using Microsoft.CodeAnalysis;

namespace CnnGen.Generator
{
    /// <summary>
    /// Every diagnostic CnnGen reports, in one place. Each is documented with a wrong and a right
    /// example in docs/diagnostics.md; keep the two in step.
    /// </summary>
    internal static class Diagnostics
    {
        private const string Category = "CnnGen";

        private static DiagnosticDescriptor Error(string id, string title, string message) =>
            new DiagnosticDescriptor(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
                description: "See docs/diagnostics.md#" + id.ToLowerInvariant() + " for a wrong and a right example.");

        // ---- declaration errors ------------------------------------------------------------------
        public static readonly DiagnosticDescriptor MissingInput = Error("CNN0001",
            "Model has no [Input]",
            "Model '{0}' has no [Input(channels, height, width)] attribute: CnnGen needs the input shape to check the layers");

        public static readonly DiagnosticDescriptor NotPartial = Error("CNN0002",
            "Model class must be partial",
            "Model class '{0}' must be declared 'partial' so CnnGen can add the generated members");

        public static readonly DiagnosticDescriptor NoLayers = Error("CNN0003",
            "Model has no layers",
            "Model '{0}' declares no layers: add layer attributes such as [Conv2d(...)] or [Linear(...)] after [Input]");

        public static readonly DiagnosticDescriptor LayersSpread = Error("CNN0004",
            "Layer attributes spread over several partial declarations",
            "Model '{0}' has layer attributes on more than one partial declaration, so their order is ambiguous: keep all layer attributes on one declaration");

        public static readonly DiagnosticDescriptor UnsupportedType = Error("CNN0005",
            "Unsupported model type",
            "Model '{0}' cannot get generated members: {1}");

        public static readonly DiagnosticDescriptor UnreadableArguments = Error("CNN0006",
            "Layer arguments could not be read",
            "{0}: the attribute's arguments could not be read; fix the C# error on this attribute");

        public static readonly DiagnosticDescriptor UnknownLayer = Error("CNN0007",
            "Unknown layer attribute",
            "'{0}' derives from CnnGen.LayerAttribute but is not a layer CnnGen knows how to compile");

        public static readonly DiagnosticDescriptor UnsafeNotAllowed = Error("CNN0008",
            "CnnGen models need unsafe code",
            "Model '{0}': the generated kernels use pointers; add <AllowUnsafeBlocks>true</AllowUnsafeBlocks> to the project (the CnnGen package sets it for you)");

        // ---- invalid argument values -------------------------------------------------------------
        public static readonly DiagnosticDescriptor InvalidValue = Error("CNN0010",
            "Invalid layer argument",
            "{0}: {1} is {2}, but must be {3}");

        public static readonly DiagnosticDescriptor GroupsDoNotDivide = Error("CNN0011",
            "Groups must divide both channel counts",
            "{0}: Groups = {1} must divide both in channels ({2}) and out channels ({3})");

        public static readonly DiagnosticDescriptor PoolPaddingTooLarge = Error("CNN0012",
            "Pooling padding larger than half the kernel",
            "{0}: padding {1} must be at most half the kernel size {2} (PyTorch rejects padding > kernel / 2)");

        public static readonly DiagnosticDescriptor InvalidInput = Error("CNN0013",
            "Invalid input shape",
            "Input: {0} is {1}, but must be at least 1");

        public static readonly DiagnosticDescriptor TooLarge = Error("CNN0014",
            "Model too large for its buffers",
            "{0} needs {1} floats per sample, more than a .NET array can hold (2,147,483,591); make the input or the channels smaller");

        // ---- shape errors --------------------------------------------------------------------------
        public static readonly DiagnosticDescriptor ChannelMismatch = Error("CNN0020",
            "Input channel mismatch",
            "{0} expects {1} input channels, but receives {2} ({3})");

        public static readonly DiagnosticDescriptor FeatureMismatch = Error("CNN0021",
            "Linear input feature mismatch",
            "{0} expects {1} input features, but receives {2} ({3})");

        public static readonly DiagnosticDescriptor NotFlattened = Error("CNN0022",
            "Linear layer on an unflattened input",
            "{0} needs a flattened input, but receives {1} ({2}); add [Flatten] before it (it would then receive {3} features)");

        public static readonly DiagnosticDescriptor OutputTooSmall = Error("CNN0023",
            "Spatial size falls to zero",
            "{0}: the {1} does not fit the input {2} ({3}): output {4} would be {5}");

        public static readonly DiagnosticDescriptor NeedsSpatialInput = Error("CNN0024",
            "Layer needs a [C, H, W] input",
            "{0} needs a [C, H, W] input, but receives the flattened {1} ({2})");

        public static readonly DiagnosticDescriptor NeedsFlatInput = Error("CNN0025",
            "Softmax needs a flattened input",
            "{0} works over the features of a flattened input, but receives {1} ({2}); add [Flatten] before it");

        // ---- baked weights ([Model(Weights = "...")]) -----------------------------------------------
        public static readonly DiagnosticDescriptor WeightsNotFound = Error("CNN0030",
            "Weights file not found",
            "Model '{0}': the weights file '{1}' was not found among the project's AdditionalFiles{2}; add <AdditionalFiles Include=\"{1}\" /> to the project file");

        public static readonly DiagnosticDescriptor WeightsNotEncoded = Error("CNN0031",
            "Weights file not prepared by the CnnGen build step",
            "Model '{0}': '{1}' is an AdditionalFiles item, but CnnGen's build step did not encode it for the compiler: import CnnGen.targets (the CnnGen package does this for you; a project that references CnnGen's projects directly must import src/Runtime/build/CnnGen.targets)");

        public static readonly DiagnosticDescriptor WeightsInvalid = Error("CNN0032",
            "Weights file is not valid safetensors",
            "Model '{0}': the weights file '{1}' is not a valid safetensors file: {2}");

        public static readonly DiagnosticDescriptor WeightsMissingTensor = Error("CNN0033",
            "Weights file lacks a tensor",
            "Model '{0}': the weights file '{1}' has no tensor '{2}' ({3} needs shape {4})");

        public static readonly DiagnosticDescriptor WeightsWrongShape = Error("CNN0034",
            "Weights tensor has the wrong shape",
            "Model '{0}': tensor '{2}' in '{1}' has shape {3}, but {4} needs {5}");

        public static readonly DiagnosticDescriptor WeightsWrongDType = Error("CNN0035",
            "Weights tensor has the wrong dtype",
            "Model '{0}': tensor '{2}' {3} in '{1}' is {4}, but {5} needs {6}");

        public static readonly DiagnosticDescriptor WeightsUnexpectedTensor = Error("CNN0036",
            "Weights file has a tensor the model does not",
            "Model '{0}': the weights file '{1}' has a tensor '{2}' {3} that no layer of the model has (the model's keys: {4})");

        public static readonly DiagnosticDescriptor WeightsAmbiguous = Error("CNN0037",
            "Weights file name is ambiguous",
            "Model '{0}': '{1}' matches more than one AdditionalFiles item ({2}); name the file by the path it is included with");
        // ---- baked weights, continued (CNN0047–CNN0049) ----------------------------------------------
        public static readonly DiagnosticDescriptor WeightsFileMissing = Error("CNN0047",
            "Weights file does not exist",
            "Model '{0}': '{1}' is an AdditionalFiles item, but the file {2} does not exist; check the path (relative to the project directory) or create the file");

        public static readonly DiagnosticDescriptor WeightsNonFinite = Error("CNN0048",
            "Weights file holds a non-finite value",
            "Model '{0}': the weights file '{1}' cannot be baked: {2} (a model with such a weight computes NaN for every input)");

        // ---- issue 6: batch norm, global pooling, blocks (CNN0040–CNN0059) -------------------------
        public static readonly DiagnosticDescriptor BatchNormFeatureMismatch = Error("CNN0040",
            "BatchNorm2d feature mismatch",
            "{0} expects {1} features (channels), but receives {2} ({3})");

        public static readonly DiagnosticDescriptor AdaptiveOutputUnsupported = Error("CNN0041",
            "Adaptive pooling output size not supported",
            "{0}: output size {1} is not supported; CnnGen compiles AdaptiveAvgPool2d(1) (global average pooling)");

        public static readonly DiagnosticDescriptor ResidualShapeMismatch = Error("CNN0042",
            "Residual branches disagree in shape",
            "{0}: the residual branch gives {1} ({2}), but the shortcut gives {3} ({4}); they must match to be added: give the residual a projection shortcut, e.g. Shortcut = typeof(...) on a [Block] with [Conv2d({5}, {6}, 1, Stride = {7}, Bias = false)] and [BatchNorm2d({6})]");

        public static readonly DiagnosticDescriptor ReductionDoesNotDivide = Error("CNN0043",
            "Squeeze-excitation reduction must divide the channels",
            "{0}: reduction {1} must divide the channels ({2})");

        public static readonly DiagnosticDescriptor NotABlock = Error("CNN0044",
            "Not a [Block] class",
            "{0}: '{1}' is not a [Block] class; mark it [Block] and give it layer attributes");

        public static readonly DiagnosticDescriptor BlockCycle = Error("CNN0045",
            "Block uses itself",
            "{0}: block '{1}' would contain itself ({2})");

        public static readonly DiagnosticDescriptor EmptyBlock = Error("CNN0046",
            "Block has no layers",
            "{0}: block '{1}' declares no layers");

        // ---- issue 15: limits, user strings, declarations (CNN0050–CNN0079) ---------------------------
        public static readonly DiagnosticDescriptor TooManyLayers = Error("CNN0050",
            "Too many layers after block expansion",
            "{0}: the model would have more than {1} layers once its blocks are expanded (blocks that repeat each other multiply); CnnGen compiles at most {1}: repeat fewer blocks");

        public static readonly DiagnosticDescriptor InvalidKeyName = Error("CNN0051",
            "Invalid name",
            "{0}: {1} {2} is not a valid {3}: {4}");

        public static readonly DiagnosticDescriptor DuplicateKey = Error("CNN0052",
            "Duplicate weight key",
            "{0}: the weight key '{1}' is already used by {2}, so the weights could not be saved or loaded; give one of the layers another Name");

        public static readonly DiagnosticDescriptor MemberClash = Error("CNN0053",
            "Member clashes with a generated member",
            "Model '{0}': the {1} '{2}' clashes with the {3} CnnGen generates; rename or remove it");

        public static readonly DiagnosticDescriptor ConstructorNotChained = Error("CNN0054",
            "Constructor does not call a generated constructor",
            "Model '{0}': the constructor '{1}' must call a generated constructor (add ': this(seed)' or ': this(0)'), or the model's parameters are never allocated");

        /// <summary>
        /// The last line of defence (<see cref="ModelGenerator"/>): an unexpected exception while compiling one model.
        /// Never reported on purpose, so it is not in <see cref="All"/> (whose entries all have a wrong example in the docs).
        /// </summary>
        public static readonly DiagnosticDescriptor InternalError = Error("CNN0079",
            "CnnGen failed on this model",
            "Model '{0}': CnnGen failed unexpectedly while {1} ({2}: {3}); the other models are still generated. Please report this with the declaration.");

        // ---- issue 16: functional ops, Keras names (CNN0080–CNN0089) --------------------------------
        public static readonly DiagnosticDescriptor UnknownLayerName = Error("CNN0080",
            "Unknown layer name",
            "'{0}' is not a CnnGen layer: {1}");

        public static readonly DiagnosticDescriptor UnknownActivation = Error("CNN0081",
            "Unknown activation name",
            "Activation = \"{0}\" is not an activation CnnGen compiles; use one of {1}");

        public static readonly DiagnosticDescriptor KerasPaddingUnsupported = Error("CNN0082",
            "Keras padding not supported",
            "Padding = \"{0}\": CnnGen compiles Keras' \"valid\", and \"same\" with stride 1 and an odd kernel (symmetric padding); for other cases use the PyTorch form with Padding = n");

        public static readonly DiagnosticDescriptor FunctionalOpName = Error("CNN0083",
            "A functional op has no name",
            "{0} is a functional op: it is no module, has no keys and takes no Name; remove Name = \"{1}\", or use the module form [{2}(Name = \"{1}\")]");

        public static readonly DiagnosticDescriptor[] All =
        {
            MissingInput, NotPartial, NoLayers, LayersSpread, UnsupportedType, UnreadableArguments, UnknownLayer, UnsafeNotAllowed,
            InvalidValue, GroupsDoNotDivide, PoolPaddingTooLarge, InvalidInput, TooLarge,
            ChannelMismatch, FeatureMismatch, NotFlattened, OutputTooSmall, NeedsSpatialInput, NeedsFlatInput,
            WeightsNotFound, WeightsNotEncoded, WeightsInvalid, WeightsMissingTensor, WeightsWrongShape, WeightsWrongDType,
            WeightsUnexpectedTensor, WeightsAmbiguous, WeightsFileMissing, WeightsNonFinite,
            BatchNormFeatureMismatch, AdaptiveOutputUnsupported, ResidualShapeMismatch, ReductionDoesNotDivide, NotABlock, BlockCycle, EmptyBlock,
            TooManyLayers, InvalidKeyName, DuplicateKey, MemberClash, ConstructorNotChained,
            UnknownLayerName, UnknownActivation, KerasPaddingUnsupported, FunctionalOpName,
        };

        public static DiagnosticDescriptor ById(string id)
        {
            foreach (var d in All)
            {
                if (d.Id == id) return d;
            }
            if (id == InternalError.Id) return InternalError;
            throw new System.ArgumentException("unknown diagnostic " + id);
        }
    }
}

using CnnGen.Generator.Emit;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;
using CnnGen.Generator.Weights;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator
{
    /// <summary>
    /// CnnGen's incremental generator. The pipeline, in order:
    /// [Model] classes → <see cref="Parser"/> (Roslyn → ModelSpec) → <see cref="ShapeInference"/>
    /// (ModelSpec → ShapedModel + diagnostics) → <see cref="WeightsBinder"/> (baked weights, for models that
    /// name a safetensors file) → <see cref="ModelEmitter"/> (text).
    /// Only equatable records flow between the steps, so unrelated edits hit the cache.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class ModelGenerator : IIncrementalGenerator
    {
        /// <summary>Tracking names of the pipeline steps (tests assert on their caching).</summary>
        public static class Steps
        {
            /// <summary>Attribute data parsed into a ModelSpec.</summary>
            public const string Parse = "CnnGen.Parse";
            /// <summary>Shapes inferred.</summary>
            public const string Infer = "CnnGen.Infer";
            /// <summary>[Block] classes parsed into BlockSpecs.</summary>
            public const string Blocks = "CnnGen.Blocks";
            /// <summary>Compilation options the emitter depends on.</summary>
            public const string Options = "CnnGen.Options";
            /// <summary>The project's safetensors AdditionalFiles, decoded and parsed.</summary>
            public const string WeightsFiles = "CnnGen.WeightsFiles";
            /// <summary>Models bound to the weights they name (checked against the layers).</summary>
            public const string BindWeights = "CnnGen.BindWeights";
        }

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var models = context.SyntaxProvider
                .ForAttributeWithMetadataName(Parser.ModelAttribute,
                    predicate: static (node, _) => node is TypeDeclarationSyntax,
                    transform: static (ctx, ct) => Parser.Parse(ctx, ct))
                .WithTrackingName(Steps.Parse);

            // [Block] classes (residual branches, shortcuts, inlined sequences), parsed on their own so an edit to a
            // block in another file re-runs the models that use it.
            var blocks = context.SyntaxProvider
                .ForAttributeWithMetadataName(Parser.BlockAttribute,
                    predicate: static (node, _) => node is TypeDeclarationSyntax,
                    transform: static (ctx, ct) => Parser.ParseBlock(ctx, ct))
                .WithTrackingName(Steps.Blocks);

            var shaped = models
                .Combine(blocks.Collect())
                .Select(static (pair, _) => ShapeInference.Infer(BlockExpansion.Expand(pair.Left, pair.Right)))
                .WithTrackingName(Steps.Infer);

            // [Model(Weights = "x.safetensors")]: CnnGen.targets encodes each .safetensors AdditionalFiles item as
            // text (Roslyn reads AdditionalFiles as text). Only those files are read, and only their parsed,
            // equatable form flows on; a model without Weights passes the bind step unchanged.
            var weightsFiles = context.AdditionalTextsProvider
                .Where(static f => WeightsFileSpec.IsWeightsPath(f.Path))
                .Select(static (f, ct) => WeightsFileSpec.From(f, ct))
                .WithTrackingName(Steps.WeightsFiles)
                .Collect();

            var bound = shaped
                .Combine(weightsFiles)
                .Select(static (pair, _) => WeightsBinder.Bind(pair.Left, pair.Right))
                .WithTrackingName(Steps.BindWeights);

            // Only a bool crosses from the compilation, so unrelated edits still hit the cache.
            var allowUnsafe = context.CompilationProvider
                .Select(static (c, _) => c.Options is CSharpCompilationOptions o && o.AllowUnsafe)
                .WithTrackingName(Steps.Options);

            context.RegisterSourceOutput(bound.Combine(allowUnsafe), static (spc, pair) => Execute(spc, pair.Left, pair.Right));
        }

        private static void Execute(SourceProductionContext context, ShapedModel model, bool allowUnsafe)
        {
            if (!allowUnsafe && model.Ok)
            {
                context.ReportDiagnostic(Diagnostic.Create(Diagnostics.UnsafeNotAllowed, model.Model.Location?.ToLocation(), model.Model.ClassName));
                model = model with { Ok = false };
            }
            foreach (var d in model.Diagnostics)
            {
                var properties = System.Collections.Immutable.ImmutableDictionary<string, string?>.Empty;
                for (int i = 0; i + 1 < d.Properties.Count; i += 2) properties = properties.SetItem(d.Properties[i], d.Properties[i + 1]);
                context.ReportDiagnostic(Diagnostic.Create(Diagnostics.ById(d.Id), d.Location?.ToLocation(), properties, d.Args.ToArray()));
            }
            if (model.Ok && MemoryPlan.For(model).TooLarge(model) is { } big)
            {
                context.ReportDiagnostic(Diagnostic.Create(Diagnostics.TooLarge, big.Where?.ToLocation(), big.What,
                    big.Floats.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)));
                model = model with { Ok = false };
            }
            if (model.Model.CannotEmit) return;
            context.AddSource(model.Model.HintName, ModelEmitter.Emit(model));
        }
    }
}

using CnnGen.Generator.Analysis;
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
            /// <summary>Whether the generator reports the CNN diagnostics (only when analyzers do not run).</summary>
            public const string ReportOption = "CnnGen.ReportOption";
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

            // build_property.CnnGenGeneratorDiagnostics = true: the build runs no analyzers, so the generator reports.
            var report = context.AnalyzerConfigOptionsProvider
                .Select(static (o, _) => CnnAnalyzer.GeneratorReports(o.GlobalOptions))
                .WithTrackingName(Steps.ReportOption);

            context.RegisterSourceOutput(bound.Combine(allowUnsafe).Combine(report),
                static (spc, pair) => Execute(spc, pair.Left.Left, pair.Left.Right, pair.Right));
        }

        private static void Execute(SourceProductionContext context, ShapedModel model, bool allowUnsafe, bool report)
        {
            var (checkedModel, diagnostics) = ModelChecks.Check(model, allowUnsafe);
            // CnnAnalyzer reports these (live in editors, once in builds); the generator reports them only when the
            // build runs no analyzers (CnnGen.targets sets CnnGenGeneratorDiagnostics then).
            if (report)
            {
                foreach (var d in diagnostics)
                {
                    context.ReportDiagnostic(Diagnostic.Create(Diagnostics.ById(d.Id), d.Location?.ToLocation(), d.Args.ToArray()));
                }
            }
            if (checkedModel.Model.CannotEmit) return;
            context.AddSource(checkedModel.Model.HintName, ModelEmitter.Emit(checkedModel));
        }
    }
}

using System.Linq;
using CnnGen.Generator.Analysis;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Emit.Plan;
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
    /// name a safetensors file) → <see cref="Lowering"/> (ShapedModel → ExecutionPlan) → <see cref="ModelEmitter"/> (text).
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
                    transform: static (ctx, ct) => Firewall.Parse(ctx, ct))
                .WithTrackingName(Steps.Parse);

            // [Block] classes (residual branches, shortcuts, inlined sequences), parsed on their own so an edit to a
            // block in another file re-runs the models that use it.
            var blocks = context.SyntaxProvider
                .ForAttributeWithMetadataName(Parser.BlockAttribute,
                    predicate: static (node, _) => node is TypeDeclarationSyntax,
                    transform: static (ctx, ct) => Firewall.ParseBlock(ctx, ct))
                .WithTrackingName(Steps.Blocks);

            var shaped = models
                .Combine(blocks.Collect())
                .Select(static (pair, _) => Firewall.Infer(pair.Left, pair.Right))
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
                .Select(static (pair, _) => Firewall.Bind(pair.Left, pair.Right))
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
            // Every step before this one runs inside the Firewall; this is its last part (see Firewall).
            int attempted = 0;
            var diagnostics = model.Diagnostics.ToList();
            try
            {
                Firewall.TestFault?.Invoke("emit", model.Model.ClassName);
                var (checkedModel, all, lowered) = ModelChecks.Check(model, allowUnsafe);
                diagnostics = all;
                model = checkedModel;
                // CnnAnalyzer reports these (live in editors, once in builds); the generator reports them only when the
                // build runs no analyzers (CnnGen.targets sets CnnGenGeneratorDiagnostics then).
                if (report)
                {
                    foreach (var d in diagnostics)
                    {
                        attempted++;
                        context.ReportDiagnostic(Firewall.ToDiagnostic(d));
                    }
                }
                if (model.Model.CannotEmit) return;
                context.AddSource(model.Model.HintName, ModelEmitter.Emit(model, lowered));
            }
            catch (System.Exception e) when (e is not System.OperationCanceledException)
            {
                // The analyzer never sees an exception of the emitter: this one is reported whatever `report` says.
                context.ReportDiagnostic(Firewall.ToDiagnostic(Firewall.Error(model.Model.Location, model.Model.ClassName, "writing the code", e)));
                if (report)
                {
                    foreach (var d in diagnostics.Skip(attempted)) TryReport(context, d); // not the one that failed
                }
                if (model.Model.CannotEmit) return;
                try
                {
                    // The member signatures alone (throwing bodies), so the user sees this error, not "member not found" ones.
                    context.AddSource(model.Model.HintName, ModelEmitter.Emit(model with { Ok = false, Layers = EquatableArray<ShapedLayer>.Empty }, null));
                }
                catch (System.Exception e2) when (e2 is not System.OperationCanceledException)
                {
                    // Nothing more can be done for this model; the other models are unaffected.
                    _ = e2;
                }
            }
        }

        private static void TryReport(SourceProductionContext context, DiagnosticInfo d)
        {
            try
            {
                context.ReportDiagnostic(Firewall.ToDiagnostic(d));
            }
            catch (System.ArgumentException)
            {
                // A diagnostic that cannot be created (its location lies outside the compilation): CNN0079 was reported.
            }
        }
    }
}

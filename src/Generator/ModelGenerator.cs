using System.Linq;
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

            context.RegisterSourceOutput(bound.Combine(allowUnsafe), static (spc, pair) => Execute(spc, pair.Left, pair.Right));
        }

        private static void Execute(SourceProductionContext context, ShapedModel model, bool allowUnsafe)
        {
            // Every step before this one runs inside the Firewall; this is its last part (see Firewall).
            int attempted = 0;
            try
            {
                Firewall.TestFault?.Invoke("emit", model.Model.ClassName);
                if (!allowUnsafe && model.Ok)
                {
                    context.ReportDiagnostic(Diagnostic.Create(Diagnostics.UnsafeNotAllowed, model.Model.Location?.ToLocation(), model.Model.ClassName));
                    model = model with { Ok = false };
                }
                foreach (var d in model.Diagnostics)
                {
                    attempted++;
                    context.ReportDiagnostic(Firewall.ToDiagnostic(d));
                }
                // Lowering: every decision about how the model runs, made once; the size check reads its final memory plan.
                var lowered = model.Ok ? Lowering.Lower(model) : null;
                if (lowered is not null && lowered.Memory.TooLarge(model) is { } big)
                {
                    context.ReportDiagnostic(Diagnostic.Create(Diagnostics.TooLarge, big.Where?.ToLocation(), big.What,
                        big.Floats.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)));
                    model = model with { Ok = false };
                    lowered = null;
                }
                if (model.Model.CannotEmit) return;
                context.AddSource(model.Model.HintName, ModelEmitter.Emit(model, lowered));
            }
            catch (System.Exception e) when (e is not System.OperationCanceledException)
            {
                context.ReportDiagnostic(Firewall.ToDiagnostic(Firewall.Error(model.Model.Location, model.Model.ClassName, "writing the code", e)));
                foreach (var d in model.Diagnostics.Skip(attempted)) TryReport(context, d); // not the one that failed
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

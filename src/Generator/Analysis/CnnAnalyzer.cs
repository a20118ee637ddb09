using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;
using CnnGen.Generator.Weights;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CnnGen.Generator.Analysis
{
    /// <summary>
    /// Reports CnnGen's CNN diagnostics as an analyzer, which every Roslyn host (Visual Studio, C# Dev Kit, Rider,
    /// csharp-ls) runs as you type, and the command-line compiler runs once per build. It runs the generator's own steps
    /// on the same inputs: <see cref="Parser"/> on the [Model] class and the [Block] classes it uses, then
    /// <see cref="BlockExpansion"/>, <see cref="ShapeInference"/>, <see cref="WeightsBinder"/> (the weights AdditionalFiles)
    /// and <see cref="ModelChecks"/>. The generator itself reports nothing unless the build runs no analyzers
    /// (<see cref="GeneratorReports"/>), so a build shows each error once.
    /// Beside the errors it reports one hidden CNN0090 per layer attribute of a correct model with the layer's shapes
    /// and parameter count (editors that show hints show it under the attribute; builds never print hidden diagnostics).
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class CnnAnalyzer : DiagnosticAnalyzer
    {
        /// <summary>The MSBuild property (a CompilerVisibleProperty of CnnGen.targets) that makes the generator report.</summary>
        public const string GeneratorDiagnosticsProperty = "build_property.CnnGenGeneratorDiagnostics";

        /// <summary>Diagnostic properties the code fixes read (see <see cref="FixProperties"/>).</summary>
        public static class Properties
        {
            /// <summary>The name of the constructor parameter whose argument is wrong (e.g. "inFeatures").</summary>
            public const string Parameter = "Parameter";
            /// <summary>Its position among the constructor arguments ("0").</summary>
            public const string Position = "Position";
            /// <summary>The one right value of that argument ("1568").</summary>
            public const string Value = "Value";
            /// <summary>For a flattened input: the [C, H, W] it was flattened from, "32,7,7".</summary>
            public const string Factors = "Factors";
            /// <summary>Which fix applies: "Argument", "InsertFlatten" or "Partial".</summary>
            public const string Fix = "Fix";
        }

        /// <summary>CNN0090: a layer's input and output shape and parameter count, for the editor (hidden severity).</summary>
        public static readonly DiagnosticDescriptor LayerShape = new DiagnosticDescriptor("CNN0090",
            "Layer shape", "{0}", "CnnGen", DiagnosticSeverity.Hidden, isEnabledByDefault: true,
            description: "The shapes CnnGen inferred for this layer attribute: input, output and parameter count (a hint, never an error).");

        private static readonly ImmutableArray<DiagnosticDescriptor> Supported =
            Diagnostics.All.Concat(new[] { Diagnostics.InternalError, LayerShape }).ToImmutableArray();

        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => Supported;

        /// <summary>True when the generator, not this analyzer, must report (the build runs no analyzers).</summary>
        public static bool GeneratorReports(AnalyzerConfigOptions globalOptions) =>
            globalOptions.TryGetValue(GeneratorDiagnosticsProperty, out var v) && string.Equals(v?.Trim(), "true", System.StringComparison.OrdinalIgnoreCase);

        // Decoded weights files, kept while the host keeps the AdditionalText (an editor re-runs analyzers on every edit).
        private static readonly ConditionalWeakTable<AdditionalText, WeightsFileSpec> DecodedWeights = new();

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.EnableConcurrentExecution();
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.RegisterCompilationStartAction(start =>
            {
                if (GeneratorReports(start.Options.AnalyzerConfigOptionsProvider.GlobalOptions)) return;
                // Matched by name like the generator's ForAttributeWithMetadataName (no symbol: a project may see two).
                var state = new CompilationState(start.Compilation, start.Options);
                start.RegisterSymbolAction(state.AnalyzeType, SymbolKind.NamedType);
            });
        }

        private sealed class CompilationState
        {
            private readonly Compilation compilation;
            private readonly AnalyzerOptions options;
            private readonly bool allowUnsafe;
            private readonly ConcurrentDictionary<ISymbol, ImmutableArray<UsedBlock>> blocks = new(SymbolEqualityComparer.Default);
            private readonly ConcurrentDictionary<ISymbol, List<(Diagnostic, INamedTypeSymbol?)>> results = new(SymbolEqualityComparer.Default);
            private INamedTypeSymbol[]? models;
            private readonly object gate = new();
            private WeightsFileSpec[]? weights;
            private Dictionary<string, SyntaxTree>? trees;

            public CompilationState(Compilation compilation, AnalyzerOptions options)
            {
                this.compilation = compilation;
                this.options = options;
                allowUnsafe = compilation.Options is CSharpCompilationOptions o && o.AllowUnsafe;
            }

            public void AnalyzeType(SymbolAnalysisContext context)
            {
                var symbol = (INamedTypeSymbol)context.Symbol;
                var ct = context.CancellationToken;
                // A diagnostic inside a [Block] class is reported from that block's symbol (an editor analyzing the
                // block's file shows only what the symbols declared there report); everything else from the model's.
                if (Has(symbol, Parser.ModelAttribute, "ModelAttribute"))
                {
                    foreach (var (d, owner) in Results(symbol, ct))
                    {
                        if (owner is null) context.ReportDiagnostic(d);
                    }
                }
                if (Has(symbol, Parser.BlockAttribute, "BlockAttribute"))
                {
                    foreach (var model in Models(ct))
                    {
                        foreach (var (d, owner) in Results(model, ct))
                        {
                            if (SymbolEqualityComparer.Default.Equals(owner, symbol)) context.ReportDiagnostic(d);
                        }
                    }
                }
            }

            private static bool Has(INamedTypeSymbol type, string attribute, string name) =>
                type.GetAttributes().Any(a => a.AttributeClass is { } c && c.Name == name && c.ToDisplayString() == attribute);

            /// <summary>Every model of this compilation's source (for a block, to find the models that use it).</summary>
            private ImmutableArray<INamedTypeSymbol> Models(CancellationToken ct)
            {
                lock (gate)
                {
                    if (models is null)
                    {
                        models = compilation.GetSymbolsWithName(_ => true, SymbolFilter.Type, ct).OfType<INamedTypeSymbol>()
                            .Where(t => Has(t, Parser.ModelAttribute, "ModelAttribute")).ToArray();
                    }
                    return models.ToImmutableArray();
                }
            }

            /// <summary>The diagnostics of a model, each with the [Block] class whose declaration it lies in (null: none).</summary>
            private List<(Diagnostic Diagnostic, INamedTypeSymbol? Owner)> Results(INamedTypeSymbol symbol, CancellationToken ct) =>
                results.GetOrAdd(symbol, s => Analyze((INamedTypeSymbol)s, ct));

            private List<(Diagnostic, INamedTypeSymbol?)> Analyze(INamedTypeSymbol symbol, CancellationToken ct)
            {
                var output = new List<(Diagnostic, INamedTypeSymbol?)>();
                // One parse per declaration that carries [Model], like the generator's ForAttributeWithMetadataName.
                var byDeclaration = new Dictionary<TypeDeclarationSyntax, List<AttributeData>>();
                var order = new List<TypeDeclarationSyntax>();
                foreach (var a in symbol.GetAttributes())
                {
                    if (a.AttributeClass is not { Name: "ModelAttribute" } cls || cls.ToDisplayString() != Parser.ModelAttribute) continue;
                    if (a.ApplicationSyntaxReference?.GetSyntax(ct).FirstAncestorOrSelf<TypeDeclarationSyntax>() is not { } decl) continue;
                    if (!byDeclaration.TryGetValue(decl, out var list))
                    {
                        byDeclaration[decl] = list = new List<AttributeData>();
                        order.Add(decl);
                    }
                    list.Add(a);
                }
                var blocksUsed = BlocksOf(symbol, ct);
                var specs = blocksUsed.Select(b => b.Spec).ToImmutableArray();
                INamedTypeSymbol? Owner(Location location)
                {
                    foreach (var b in blocksUsed)
                    {
                        if (b.Declaration.SyntaxTree == location.SourceTree && b.Declaration.Span.Contains(location.SourceSpan)) return b.Symbol;
                    }
                    return null;
                }
                foreach (var decl in order)
                {
                    ct.ThrowIfCancellationRequested();
                    // The generator's own guarded steps (Firewall): an unexpected exception is CNN0079 here too, never AD0001.
                    var spec = Firewall.Parse(symbol, decl, byDeclaration[decl].ToImmutableArray(), compilation, ct);
                    var shaped = Firewall.Infer(spec, specs);
                    var bound = Firewall.Bind(shaped, Weights(ct));
                    ShapedModel model;
                    List<DiagnosticInfo> diagnostics;
                    try
                    {
                        (model, diagnostics, _) = ModelChecks.Check(bound, allowUnsafe);
                    }
                    catch (System.Exception e) when (e is not System.OperationCanceledException)
                    {
                        model = bound with { Ok = false };
                        diagnostics = bound.Diagnostics.Concat(new[] { Firewall.Error(bound.Model.Location, bound.Model.ClassName, "planning the code", e) }).ToList();
                    }
                    foreach (var d in diagnostics)
                    {
                        var location = Map(d.Location);
                        output.Add((Diagnostic.Create(Diagnostics.ById(d.Id), location, FixProperties.For(d), d.Args.ToArray()), Owner(location)));
                    }
                    if (model.Ok)
                    {
                        foreach (var (location, text) in FixProperties.LayerHints(spec, model))
                        {
                            output.Add((Diagnostic.Create(LayerShape, Map(location), text), null));
                        }
                    }
                }
                return output;
            }

            /// <summary>A source location in this compilation's tree of that path (code fixes need one), else the path-only form.</summary>
            private Location Map(LocationInfo? info)
            {
                if (info is null) return Location.None;
                Dictionary<string, SyntaxTree> byPath;
                lock (gate)
                {
                    if (trees is null)
                    {
                        trees = new Dictionary<string, SyntaxTree>();
                        foreach (var t in compilation.SyntaxTrees)
                        {
                            if (!trees.ContainsKey(t.FilePath)) trees[t.FilePath] = t;
                        }
                    }
                    byPath = trees;
                }
                return byPath.TryGetValue(info.FilePath, out var tree) && info.Span.End <= tree.Length
                    ? Location.Create(tree, info.Span)
                    : info.ToLocation();
            }

            private ImmutableArray<WeightsFileSpec> Weights(CancellationToken ct)
            {
                lock (gate)
                {
                    if (weights is null)
                    {
                        var list = new List<WeightsFileSpec>();
                        foreach (var file in options.AdditionalFiles)
                        {
                            if (WeightsFileSpec.IsWeightsPath(file.Path)) list.Add(DecodedWeights.GetValue(file, f => WeightsFileSpec.From(f, ct)));
                        }
                        weights = list.ToArray();
                    }
                    return weights.ToImmutableArray();
                }
            }

            /// <summary>
            /// The [Block] classes declared in this compilation's source that <paramref name="type"/>'s layer attributes name
            /// (typeof arguments), transitively: the blocks the generator would look the model's composite layers up in.
            /// </summary>
            private List<UsedBlock> BlocksOf(INamedTypeSymbol type, CancellationToken ct)
            {
                var result = new List<UsedBlock>();
                var seen = new HashSet<ISymbol>(SymbolEqualityComparer.Default) { type };
                var queue = new Queue<INamedTypeSymbol>();
                queue.Enqueue(type);
                while (queue.Count > 0)
                {
                    var current = queue.Dequeue();
                    foreach (var referenced in TypeArguments(current))
                    {
                        if (!seen.Add(referenced)) continue;
                        var specs = blocks.GetOrAdd(referenced, t => ParseBlock((INamedTypeSymbol)t, ct));
                        if (specs.IsDefaultOrEmpty) continue;
                        result.AddRange(specs);
                        queue.Enqueue(referenced);
                    }
                }
                return result;
            }

            private ImmutableArray<UsedBlock> ParseBlock(INamedTypeSymbol type, CancellationToken ct)
            {
                var specs = ImmutableArray.CreateBuilder<UsedBlock>();
                var done = new HashSet<SyntaxNode>();
                foreach (var a in type.GetAttributes())
                {
                    if (a.AttributeClass is not { Name: "BlockAttribute" } cls || cls.ToDisplayString() != Parser.BlockAttribute) continue;
                    if (a.ApplicationSyntaxReference?.GetSyntax(ct).FirstAncestorOrSelf<TypeDeclarationSyntax>() is not { } decl) continue;
                    if (!compilation.ContainsSyntaxTree(decl.SyntaxTree) || !done.Add(decl)) continue;
                    specs.Add(new UsedBlock(Firewall.ParseBlock(type, decl, ct), type, decl));
                }
                return specs.ToImmutable();
            }

            /// <summary>A [Block] declaration: its parsed form, its class and the declaration node.</summary>
            private sealed record UsedBlock(BlockSpec Spec, INamedTypeSymbol Symbol, TypeDeclarationSyntax Declaration);

            private static IEnumerable<INamedTypeSymbol> TypeArguments(INamedTypeSymbol type)
            {
                foreach (var a in type.GetAttributes())
                {
                    foreach (var c in a.ConstructorArguments) if (c.Kind == TypedConstantKind.Type && c.Value is INamedTypeSymbol t) yield return t;
                    foreach (var n in a.NamedArguments) if (n.Value.Kind == TypedConstantKind.Type && n.Value.Value is INamedTypeSymbol t) yield return t;
                }
            }
        }
    }
}

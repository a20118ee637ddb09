using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;
using CnnGen.Generator.Weights;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator
{
    /// <summary>
    /// The last line of defence: each pipeline step of <see cref="ModelGenerator"/> runs through one of these wrappers, so
    /// an unexpected exception while compiling one model becomes a CNN0079 diagnostic on that model (with the
    /// exception's type and message) instead of CS8785, which silently drops the output of every model in the
    /// compilation. The model still gets its member signatures (throwing bodies) when its declaration allows it.
    /// Every known problem has its own diagnostic; tests assert none of them reaches this path.
    /// </summary>
    internal static class Firewall
    {
        /// <summary>Tests only: called with (stage, model or block name) at the start of each step, to plant a fault.</summary>
        internal static Action<string, string>? TestFault;

        public static ModelSpec Parse(GeneratorAttributeSyntaxContext context, CancellationToken ct) =>
            Parse((INamedTypeSymbol)context.TargetSymbol, (TypeDeclarationSyntax)context.TargetNode, context.Attributes,
                context.SemanticModel.Compilation, ct);

        /// <summary><see cref="Parser.Parse(INamedTypeSymbol, TypeDeclarationSyntax, ImmutableArray{AttributeData}, Compilation, CancellationToken)"/>, guarded (generator and analyzer).</summary>
        public static ModelSpec Parse(INamedTypeSymbol symbol, TypeDeclarationSyntax node, ImmutableArray<AttributeData> attributes,
            Compilation compilation, CancellationToken ct)
        {
            try
            {
                TestFault?.Invoke("parse", symbol.Name);
                return Parser.Parse(symbol, node, attributes, compilation, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Fallback(symbol, node, e);
            }
        }

        public static BlockSpec ParseBlock(GeneratorAttributeSyntaxContext context, CancellationToken ct) =>
            ParseBlock((INamedTypeSymbol)context.TargetSymbol, (TypeDeclarationSyntax)context.TargetNode, ct);

        /// <summary><see cref="Parser.ParseBlock(INamedTypeSymbol, TypeDeclarationSyntax, CancellationToken)"/>, guarded (generator and analyzer).</summary>
        public static BlockSpec ParseBlock(INamedTypeSymbol symbol, TypeDeclarationSyntax node, CancellationToken ct)
        {
            try
            {
                TestFault?.Invoke("block", symbol.Name);
                return Parser.ParseBlock(symbol, node, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The models that use the block report its diagnostics (BlockExpansion.Resolve).
                var location = LocationInfo.From(node.Identifier.GetLocation());
                var error = Error(location, symbol.Name, "reading the [Block] class", e);
                return new BlockSpec(Parser.BlockName(symbol), symbol.Name, null,
                    EquatableArray<LayerSpec>.Empty, new EquatableArray<DiagnosticInfo>(new[] { error }), location);
            }
        }

        public static ShapedModel Infer(ModelSpec model, ImmutableArray<BlockSpec> blocks)
        {
            try
            {
                TestFault?.Invoke("infer", model.ClassName);
                return ShapeInference.Infer(BlockExpansion.Expand(model, blocks));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Failed(model, model.Diagnostics, "inferring the shapes", e);
            }
        }

        public static ShapedModel Bind(ShapedModel model, ImmutableArray<WeightsFileSpec> files)
        {
            try
            {
                TestFault?.Invoke("bind", model.Model.ClassName);
                return WeightsBinder.Bind(model, files);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Failed(model.Model, model.Diagnostics, "binding the baked weights", e);
            }
        }

        /// <summary>A model whose inference or binding failed: no layers, not Ok (only member signatures are emitted).</summary>
        private static ShapedModel Failed(ModelSpec model, EquatableArray<DiagnosticInfo> before, string stage, Exception e)
        {
            var diags = before.Concat(new[] { Error(model.Location, model.ClassName, stage, e) }).ToArray();
            return new ShapedModel(model, false, EquatableArray<ShapedLayer>.Empty, new EquatableArray<DiagnosticInfo>(diags), default, default, 0);
        }

        /// <summary>CNN0079 on <paramref name="location"/>: what was being done and the exception's type and first message line.</summary>
        public static DiagnosticInfo Error(LocationInfo? location, string model, string stage, Exception e)
        {
            string message = (e.Message ?? "").Split('\n')[0].Trim();
            if (message.Length > 300) message = message.Substring(0, 300) + "...";
            return DiagnosticInfo.Create(Diagnostics.InternalError, location, model, stage, e.GetType().FullName ?? e.GetType().Name, message);
        }

        public static Diagnostic ToDiagnostic(DiagnosticInfo d) =>
            Diagnostic.Create(Diagnostics.ById(d.Id), d.Location?.ToLocation(), Properties(d), d.Args.ToArray());

        /// <summary>
        /// The properties a diagnostic carries (code fixes read them, e.g. CNN0080's "Suggestion"); they travel through the
        /// pipeline as a flat key, value, key, value list.
        /// </summary>
        public static ImmutableDictionary<string, string?> Properties(DiagnosticInfo d)
        {
            var properties = ImmutableDictionary<string, string?>.Empty;
            for (int i = 0; i + 1 < d.Properties.Count; i += 2) properties = properties.SetItem(d.Properties[i], d.Properties[i + 1]);
            return properties;
        }

        /// <summary>
        /// The spec of a model whose parsing failed: its name and place (so the member signatures can still be emitted when
        /// the class is a plain partial class) and the CNN0079 error.
        /// </summary>
        private static ModelSpec Fallback(INamedTypeSymbol symbol, TypeDeclarationSyntax node, Exception e)
        {
            var location = LocationInfo.From(node.Identifier.GetLocation());
            var error = new EquatableArray<DiagnosticInfo>(new[] { Error(location, symbol.Name, "reading the declaration", e) });
            try
            {
                bool emittable = symbol.TypeKind == TypeKind.Class && symbol.Arity == 0 && !symbol.IsStatic && !symbol.IsFileLocal
                    && node.ParameterList is null && AllPartial(symbol);
                var containing = new List<ContainingTypeSpec>();
                for (var outer = symbol.ContainingType; outer != null; outer = outer.ContainingType)
                {
                    emittable &= outer.Arity == 0 && !outer.IsFileLocal && AllPartial(outer);
                    containing.Insert(0, new ContainingTypeSpec(Parser.KeywordOf(outer), Parser.Identifier(outer.Name)));
                }
                string? ns = symbol.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
                return new ModelSpec(ns, Parser.Identifier(symbol.Name), symbol.IsRecord ? "record" : "class",
                    new EquatableArray<ContainingTypeSpec>(containing.ToArray()), null, EquatableArray<LayerSpec>.Empty, error, location)
                {
                    CannotEmit = !emittable,
                };
            }
            catch (Exception e2) when (e2 is not OperationCanceledException)
            {
                return new ModelSpec(null, symbol.Name, "class", EquatableArray<ContainingTypeSpec>.Empty, null, EquatableArray<LayerSpec>.Empty, error, location)
                {
                    CannotEmit = true,
                };
            }
        }

        private static bool AllPartial(INamedTypeSymbol type) =>
            type.DeclaringSyntaxReferences.All(r => r.GetSyntax() is TypeDeclarationSyntax d && d.Modifiers.Any(SyntaxKind.PartialKeyword));
    }
}

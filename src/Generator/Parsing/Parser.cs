using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Parsing
{
    /// <summary>Roslyn → <see cref="ModelSpec"/>. The only place that touches symbols and syntax.</summary>
    internal static class Parser
    {
        public const string ModelAttribute = "CnnGen.ModelAttribute";
        public const string BlockAttribute = "CnnGen.BlockAttribute";
        private const string InputAttribute = "CnnGen.InputAttribute";

        public static ModelSpec Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken) =>
            Parse((INamedTypeSymbol)context.TargetSymbol, (TypeDeclarationSyntax)context.TargetNode, context.Attributes, context.SemanticModel.Compilation,
                cancellationToken);

        /// <summary>
        /// The one parser of a [Model] declaration, shared by the generator (from ForAttributeWithMetadataName) and the
        /// analyzer (from a symbol action): <paramref name="node"/> is the declaration carrying <paramref name="modelAttributes"/>.
        /// </summary>
        public static ModelSpec Parse(INamedTypeSymbol symbol, TypeDeclarationSyntax node, System.Collections.Immutable.ImmutableArray<AttributeData> modelAttributes,
            Compilation compilation, CancellationToken cancellationToken)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var classLocation = LocationInfo.From(node.Identifier.GetLocation());
            bool cannotEmit = false;
            if (!modelAttributes.Any(a => AttributeTable.Is(a.AttributeClass, ModelAttribute)))
            {
                // A user's own CnnGen.ModelAttribute: not a model.
                return new ModelSpec(null, Identifier(symbol.Name), "class", EquatableArray<ContainingTypeSpec>.Empty, null,
                    EquatableArray<LayerSpec>.Empty, EquatableArray<DiagnosticInfo>.Empty, classLocation) { CannotEmit = true };
            }

            // ---- the class itself ----
            string keyword = node is RecordDeclarationSyntax ? "record" : "class";
            foreach (var reference in symbol.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax decl && !decl.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NotPartial, LocationInfo.From(decl.Identifier.GetLocation()), symbol.Name));
                    cannotEmit = true;
                    break;
                }
            }
            if (symbol.TypeKind != TypeKind.Class)
            {
                // [Model] is only valid on classes (the compiler reports CS0592); emitting 'partial class' for a
                // struct or interface would only add a CS0261 in generated code.
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsupportedType, classLocation, symbol.Name, "a model must be a class or a record class"));
                cannotEmit = true;
            }
            if (symbol.IsFileLocal)
            {
                // Generated code lives in another file, where a 'file' class isn't visible: the members would
                // silently go to a different, new class of the same name.
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsupportedType, classLocation, symbol.Name,
                    "a file-local class cannot get members from generated code, which lives in another file; remove 'file'"));
                cannotEmit = true;
            }
            // Arity, not IsGenericType: IsGenericType is also true for a non-generic class nested in a
            // generic one, which is reported below as a containing-type problem.
            if (symbol.Arity > 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsupportedType, classLocation, symbol.Name, "generic model classes are not supported; remove the type parameters"));
                cannotEmit = true;
            }
            if (symbol.IsStatic)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsupportedType, classLocation, symbol.Name, "a model class cannot be static"));
                cannotEmit = true;
            }

            var containing = new List<ContainingTypeSpec>();
            for (var outer = symbol.ContainingType; outer != null; outer = outer.ContainingType)
            {
                bool outerPartial = outer.DeclaringSyntaxReferences.All(r =>
                    r.GetSyntax(cancellationToken) is TypeDeclarationSyntax d && d.Modifiers.Any(SyntaxKind.PartialKeyword));
                if (!outerPartial || outer.Arity > 0 || outer.IsFileLocal)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsupportedType, classLocation, symbol.Name,
                        $"its containing type '{outer.Name}' must be a non-generic partial type" + (outer.IsFileLocal ? " (and not file-local)" : "")));
                    cannotEmit = true;
                }
                containing.Insert(0, new ContainingTypeSpec(KeywordOf(outer), Identifier(outer.Name)));
            }

            // ---- attributes, in source order ----
            InputSpec? input = null;
            var layers = new List<(AttributeData Data, SyntaxReference Ref)>();
            foreach (var attribute in symbol.GetAttributes())
            {
                var cls = attribute.AttributeClass;
                if (cls is null || attribute.ApplicationSyntaxReference is null) continue;
                if (AttributeTable.Is(cls, InputAttribute))
                {
                    input = ParseInput(attribute, cancellationToken);
                }
                else if (AttributeTable.IsLayerAttribute(cls))
                {
                    layers.Add((attribute, attribute.ApplicationSyntaxReference));
                }
                else if (cls.TypeKind == TypeKind.Error && UnknownName(attribute, cancellationToken) is { } unknownName)
                {
                    diagnostics.Add(unknownName);
                }
            }

            var trees = layers.Select(l => l.Ref.SyntaxTree.FilePath + "|" + FindDeclaration(l.Ref, cancellationToken)).Distinct().Count();
            if (trees > 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.LayersSpread, classLocation, symbol.Name));
            }
            layers.Sort((a, b) =>
            {
                int c = string.CompareOrdinal(a.Ref.SyntaxTree.FilePath, b.Ref.SyntaxTree.FilePath);
                return c != 0 ? c : a.Ref.Span.Start.CompareTo(b.Ref.Span.Start);
            });

            var specs = ParseLayers(layers, diagnostics, cancellationToken);

            if (input is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.MissingInput, classLocation, symbol.Name));
            }
            if (layers.Count == 0 && !diagnostics.Any(d => d.Id == Diagnostics.UnknownLayerName.Id)) // a misspelled layer is reported as such
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NoLayers, classLocation, symbol.Name));
            }

            // ---- [Model(Weights = "...")] ----
            string? weights = null;
            LocationInfo? weightsLocation = null;
            foreach (var model in modelAttributes.Where(a => AttributeTable.Is(a.AttributeClass, ModelAttribute)))
            {
                foreach (var kv in model.NamedArguments)
                {
                    if (kv.Key != "Weights" || kv.Value.Kind == TypedConstantKind.Error) continue;
                    weights = kv.Value.Value as string;
                    var syntax = model.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
                    var argument = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == "Weights");
                    weightsLocation = LocationInfo.From((SyntaxNode?)argument ?? syntax);
                }
            }

            cannotEmit |= DeclarationChecks.Check(symbol, compilation, weights != null, classLocation, diagnostics, cancellationToken);

            string? ns = symbol.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
            return new ModelSpec(ns, Identifier(symbol.Name), keyword, new EquatableArray<ContainingTypeSpec>(containing.ToArray()), input,
                new EquatableArray<LayerSpec>(specs.ToArray()), new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()), classLocation)
            {
                CannotEmit = cannotEmit,
                Weights = weights,
                WeightsLocation = weightsLocation ?? classLocation,
            };
        }

        private static List<LayerSpec> ParseLayers(List<(AttributeData Data, SyntaxReference Ref)> layers, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
        {
            var specs = new List<LayerSpec>();
            int position = 0; // the key position: counts modules, not functional ops (Functional.Append)
            for (int i = 0; i < layers.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var spec = ParseLayer(layers[i].Data, i, diagnostics, cancellationToken, out string? unknown);
                if (spec is null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnknownLayer,
                        LocationInfo.From(layers[i].Ref.GetSyntax(cancellationToken)), unknown ?? "?"));
                    position++;
                    continue;
                }
                Functional.Append(specs, spec, ref position, diagnostics);
            }
            return specs;
        }

        /// <summary>The name a [Block] class is referred to by (typeof arguments and <see cref="BlockSpec.FullName"/>).</summary>
        public static string BlockName(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

        /// <summary>A [Block] class: its layers (in source order) and the problems found reading them.</summary>
        public static BlockSpec ParseBlock(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken) =>
            ParseBlock((INamedTypeSymbol)context.TargetSymbol, (TypeDeclarationSyntax)context.TargetNode, cancellationToken);

        /// <summary>The one parser of a [Block] declaration (generator and analyzer).</summary>
        public static BlockSpec ParseBlock(INamedTypeSymbol symbol, TypeDeclarationSyntax node, CancellationToken cancellationToken)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var classLocation = LocationInfo.From(node.Identifier.GetLocation());
            string? moduleName = null;
            var layers = new List<(AttributeData Data, SyntaxReference Ref)>();
            if (!symbol.GetAttributes().Any(a => AttributeTable.Is(a.AttributeClass, BlockAttribute)))
            {
                // A user's own CnnGen.BlockAttribute: a name no typeof(...) resolves to, so uses report CNN0044.
                return new BlockSpec("(not a CnnGen block) " + BlockName(symbol), symbol.Name, null, EquatableArray<LayerSpec>.Empty,
                    EquatableArray<DiagnosticInfo>.Empty, classLocation);
            }
            foreach (var attribute in symbol.GetAttributes())
            {
                var cls = attribute.AttributeClass;
                if (cls is null || attribute.ApplicationSyntaxReference is null) continue;
                if (AttributeTable.Is(cls, BlockAttribute))
                {
                    foreach (var kv in attribute.NamedArguments)
                    {
                        if (kv.Key != "ModuleName" || kv.Value.Value is not string mn) continue;
                        moduleName = mn;
                        if (!UserStrings.IsModuleName(mn))
                        {
                            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InvalidKeyName, LocationInfo.From(attribute.ApplicationSyntaxReference.GetSyntax(cancellationToken)),
                                $"Block '{symbol.Name}'", "ModuleName", UserStrings.Quote(mn), "module name", UserStrings.ModuleRule));
                        }
                    }
                }
                else if (AttributeTable.IsLayerAttribute(cls))
                {
                    layers.Add((attribute, attribute.ApplicationSyntaxReference));
                }
                else if (cls.TypeKind == TypeKind.Error && UnknownName(attribute, cancellationToken) is { } unknownName)
                {
                    diagnostics.Add(unknownName);
                }
            }
            if (layers.Select(l => l.Ref.SyntaxTree.FilePath + "|" + FindDeclaration(l.Ref, cancellationToken)).Distinct().Count() > 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.LayersSpread, classLocation, symbol.Name));
            }
            layers.Sort((a, b) =>
            {
                int c = string.CompareOrdinal(a.Ref.SyntaxTree.FilePath, b.Ref.SyntaxTree.FilePath);
                return c != 0 ? c : a.Ref.Span.Start.CompareTo(b.Ref.Span.Start);
            });
            var specs = ParseLayers(layers, diagnostics, cancellationToken);
            return new BlockSpec(BlockName(symbol), symbol.Name, moduleName, new EquatableArray<LayerSpec>(specs.ToArray()),
                new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()), classLocation);
        }

        private static int NamedArgumentsInSyntax(AttributeData attribute, CancellationToken ct) =>
            attribute.ApplicationSyntaxReference?.GetSyntax(ct) is AttributeSyntax syntax && syntax.ArgumentList is { } list
                ? list.Arguments.Count(a => a.NameEquals != null)
                : 0;

        /// <summary>The name as a C# identifier: a keyword used as a name (<c>@event</c>) keeps its '@'.</summary>
        internal static string Identifier(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

        private static string FindDeclaration(SyntaxReference reference, CancellationToken ct)
        {
            var decl = reference.GetSyntax(ct).FirstAncestorOrSelf<TypeDeclarationSyntax>();
            return decl is null ? "" : decl.SpanStart.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        internal static string KeywordOf(INamedTypeSymbol type)
        {
            if (type.IsRecord) return type.TypeKind == TypeKind.Struct ? "record struct" : "record";
            switch (type.TypeKind)
            {
                case TypeKind.Struct: return "struct";
                case TypeKind.Interface: return "interface";
                default: return "class";
            }
        }

        private static InputSpec? ParseInput(AttributeData attribute, CancellationToken ct)
        {
            var location = LocationInfo.From(attribute.ApplicationSyntaxReference!.GetSyntax(ct));
            var args = attribute.ConstructorArguments;
            // A C# error in the arguments (reported by the compiler) is not an invalid shape: flag it
            // rather than reporting made-up zero dimensions.
            if (attribute.AttributeConstructor is null || args.Length != 3 || args.Any(a => a.Kind == TypedConstantKind.Error || a.Value is not int)
                || NamedArgumentsInSyntax(attribute, ct) != attribute.NamedArguments.Length)
                return new InputSpec(0, 0, 0, location) { ArgumentsOk = false };
            return new InputSpec((int)args[0].Value!, (int)args[1].Value!, (int)args[2].Value!, location);
        }

        /// <summary>CNN0080 for an attribute whose class does not exist, when <see cref="KerasNames"/> knows the right spelling.</summary>
        private static DiagnosticInfo? UnknownName(AttributeData attribute, CancellationToken ct) =>
            attribute.ApplicationSyntaxReference?.GetSyntax(ct) is AttributeSyntax syntax
                ? KerasNames.UnknownName(syntax.Name.ToString().Replace("global::", ""), LocationInfo.From(syntax))
                : null;

        private static LayerSpec? ParseLayer(AttributeData attribute, int position, List<DiagnosticInfo> diagnostics, CancellationToken ct, out string? unknownName)
        {
            unknownName = null;
            var cls = attribute.AttributeClass!;
            var location = LocationInfo.From(attribute.ApplicationSyntaxReference!.GetSyntax(ct));
            // [F.ReLU]: nested in the static class CnnGen.F (a functional op); [Dense]: namespace CnnGen.Keras (Keras' names).
            bool functional = AttributeTable.IsFunctional(cls);
            bool keras = AttributeTable.IsKeras(cls);
            if (AttributeTable.KindOf(cls) is not LayerKind kind)
            {
                unknownName = cls.ToDisplayString();
                return null;
            }

            var ctor = attribute.ConstructorArguments;
            bool ok = attribute.AttributeConstructor != null && ctor.All(a => a.Kind != TypedConstantKind.Error);
            var named = new Dictionary<string, object?>();
            foreach (var kv in attribute.NamedArguments)
            {
                if (kv.Value.Kind == TypedConstantKind.Error) ok = false;
                else named[kv.Key] = kv.Value.Value;
            }
            // A misspelled property (Strid = 2) is dropped from NamedArguments without an error kind: the
            // layer would silently compile without it. Count the named arguments as written instead.
            if (NamedArgumentsInSyntax(attribute, ct) != attribute.NamedArguments.Length) ok = false;

            int Ctor(int i) => ok && i < ctor.Length && ctor[i].Value is int v ? v : 0;
            double CtorD(int i, double fallback) => ok && i < ctor.Length && ctor[i].Value is double v ? v : fallback;
            int? Named(string key) => named.TryGetValue(key, out var v) && v is int x ? x : (int?)null;

            var spec = new LayerSpec(kind, position, location)
            {
                ArgumentsOk = ok,
                Name = named.TryGetValue("Name", out var n) ? n as string : null,
                NamedArguments = new EquatableArray<string>(named.Keys.OrderBy(k => k, System.StringComparer.Ordinal).ToArray()),
                Functional = functional,
                Activation = named.TryGetValue("Activation", out var act) ? act as string : null,
            };
            if (keras) return KerasNames.Complete(spec, Enumerable.Range(0, ctor.Length).Select(Ctor).ToArray(), named, diagnostics);

            switch (kind)
            {
                case LayerKind.Conv2d:
                case LayerKind.MaxPool2d:
                case LayerKind.AvgPool2d:
                {
                    bool conv = kind == LayerKind.Conv2d;
                    int k = conv ? Ctor(2) : Ctor(0);
                    int kh = Named("KernelHeight") ?? k, kw = Named("KernelWidth") ?? k;
                    // Pooling stride defaults to the kernel size (PyTorch's stride=None).
                    int? s = Named("Stride");
                    int sh = Named("StrideHeight") ?? s ?? (conv ? 1 : kh);
                    int sw = Named("StrideWidth") ?? s ?? (conv ? 1 : kw);
                    int p = Named("Padding") ?? 0;
                    int d = Named("Dilation") ?? 1;
                    spec = spec with
                    {
                        In = conv ? Ctor(0) : 0,
                        Out = conv ? Ctor(1) : 0,
                        KernelH = kh,
                        KernelW = kw,
                        StrideH = sh,
                        StrideW = sw,
                        PadH = Named("PaddingHeight") ?? p,
                        PadW = Named("PaddingWidth") ?? p,
                        DilationH = Named("DilationHeight") ?? d,
                        DilationW = Named("DilationWidth") ?? d,
                        Groups = Named("Groups") ?? 1,
                        Bias = !named.TryGetValue("Bias", out var b) || b is not bool bb || bb,
                    };
                    break;
                }
                case LayerKind.Linear:
                    spec = spec with
                    {
                        In = Ctor(0),
                        Out = Ctor(1),
                        Bias = !named.TryGetValue("Bias", out var lb) || lb is not bool lbb || lbb,
                    };
                    break;
                case LayerKind.GELU:
                    // PyTorch's approximate='none' | 'tanh'; anything else is reported by ShapeRules.ValidateArguments.
                    spec = spec with { Approximate = named.TryGetValue("Approximate", out var ap) ? ap as string ?? "null" : "none" };
                    break;
                case LayerKind.LeakyReLU:
                    spec = spec with { Value = CtorD(0, 0.01) };
                    break;
                case LayerKind.ELU:
                    spec = spec with { Value = CtorD(0, 1.0) };
                    break;
                case LayerKind.Dropout:
                case LayerKind.Dropout2d:
                    spec = spec with { Value = CtorD(0, 0.5) };
                    break;
                case LayerKind.BatchNorm2d:
                {
                    double? NamedD(string key) => named.TryGetValue(key, out var v) && v is double x ? x : (double?)null;
                    // In = Out = num_features; Bias carries Affine (weight and bias come and go together).
                    spec = spec with
                    {
                        In = Ctor(0),
                        Out = Ctor(0),
                        Value = NamedD("Eps") ?? 1e-5,
                        Momentum = NamedD("Momentum") ?? 0.1,
                        Bias = !named.TryGetValue("Affine", out var af) || af is not bool afb || afb,
                    };
                    break;
                }
                case LayerKind.AdaptiveAvgPool2d:
                    spec = spec with { Out = Ctor(0) };
                    break;
                case LayerKind.Residual:
                case LayerKind.Sequential:
                {
                    string? TypeArg(object? v) => v is ITypeSymbol t && t.TypeKind != TypeKind.Error ? BlockName(t) : null;
                    string? block = ok && ctor.Length > 0 ? TypeArg(ctor[0].Value) : null;
                    spec = spec with
                    {
                        ArgumentsOk = ok && block != null,
                        Block = block,
                        Shortcut = named.TryGetValue("Shortcut", out var sc) ? TypeArg(sc) : null,
                        ShortcutName = named.TryGetValue("ShortcutName", out var sn) && sn is string sns ? sns : "downsample",
                        ReLU = named.TryGetValue("ReLU", out var r) && r is bool rb && rb,
                    };
                    break;
                }
                case LayerKind.SqueezeExcitation:
                    // In = channels, Out = reduction; Activation (inner, default "relu") and ScaleActivation (the gate) by Keras' names.
                    spec = spec with
                    {
                        In = Ctor(0), Out = Ctor(1), Squeeze = Named("SqueezeChannels") ?? 0,
                        Activation = spec.Activation ?? "relu",
                        ScaleActivation = named.TryGetValue("ScaleActivation", out var sa) && sa is string sas ? sas : "sigmoid",
                    };
                    break;
                case LayerKind.GlobalAvgPool2d:
                    spec = spec with { Out = 1 };
                    break;
            }
            return spec;
        }
    }
}

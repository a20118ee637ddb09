using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Parsing
{
    /// <summary>
    /// Declaration shapes the generated members cannot be added to: a primary constructor, a base class without a
    /// constructor the generated ones can call, members whose names CnnGen generates, constructors that would clash with
    /// the generated ones or leave the parameters unallocated. Each gets a diagnostic that says what to change.
    /// </summary>
    internal static class DeclarationChecks
    {
        /// <summary>
        /// Every member name CnnGen generates into a model class (src/Generator/Emit), public and private: the one list
        /// user members are checked against. Keep it in step with the emitters (GeneratedMemberTests compares it with the
        /// members of generated models).
        /// </summary>
        public static readonly string[] GeneratedMembers =
        {
            // public API
            "InputSize", "OutputSize", "ParameterCount", "Summary", "KerasSummary", "SummaryTree", "Parameters", "LayerNames",
            "ParameterSlots", "Buffers", "BufferSlots", "LoadWeights", "SaveWeights", "ResetParameters", "Forward", "ForwardTrain",
            "Backward", "CreateWorkspace", "LoadBakedWeights", "BakedWeights", "BakedBuffers", "BakedWeightsFile", "BakedWeightsSha256", "ExportOnnx",
            // private helpers
            "SummaryRows", "ActivationsPerSample", "IndicesPerSample", "MaxLayerSize", "ColumnScratch", "BufferCount", "CheckWorkspace",
            "FoldBatchNorm", "FoldedCount", "FoldedFloats", "ChannelsLastPack", "ChannelsLastWeights", "PackForTraining",
            "PackFlippedForTraining", "AllocateBuffers", "s_slots", "s_layerNames", "s_bufferSlots", "s_state", "s_onnx", "_channelsLast",
            "t_bufferA", "t_bufferB", "t_buffers", "t_columns", "t_folded",
        };

        /// <summary>
        /// Public generated methods a user may overload: name → the parameter types of each generated overload. A user
        /// method with the same name and other parameter types is a legal overload and is kept.
        /// </summary>
        private static readonly Dictionary<string, string[][]> Overloadable = new Dictionary<string, string[][]>(System.StringComparer.Ordinal)
        {
            ["Summary"] = new[] { new[] { "int" } },
            ["KerasSummary"] = new[] { new string[0] },
            ["SummaryTree"] = new[] { new string[0] },
            ["LoadWeights"] = new[] { new[] { "string" } },
            ["SaveWeights"] = new[] { new[] { "string" } },
            ["ExportOnnx"] = new[] { new[] { "string" }, new[] { "System.IO.Stream" } },
            ["LoadBakedWeights"] = new[] { new string[0] },
            ["ResetParameters"] = new[] { new[] { "int", "CnnGen.Initializer" } },
            ["CreateWorkspace"] = new[] { new[] { "int", "ulong" } },
            ["Forward"] = new[] { new[] { "System.ReadOnlySpan<float>", "System.Span<float>" }, new[] { "System.ReadOnlySpan<float>", "System.Span<float>", "int" } },
            ["ForwardTrain"] = new[] { new[] { "CnnGen.TrainingWorkspace", "System.ReadOnlySpan<float>", "System.Span<float>", "int" } },
            ["Backward"] = new[] { new[] { "CnnGen.TrainingWorkspace", "System.ReadOnlySpan<float>", "System.Span<float>", "System.Span<float>" } },
        };

        /// <summary>The per-layer methods: kind, row number, suffix (<c>Conv2d_1_Forward</c>, <c>Conv2d_1_MaxPool2d_3_ForwardChannelsLast</c>).</summary>
        private static readonly Regex LayerMethod = new Regex(
            "^(" + string.Join("|", System.Enum.GetNames(typeof(LayerKind))) + ")_[0-9]+(_[A-Za-z0-9_]*)?$", RegexOptions.CultureInvariant);

        private static readonly HashSet<string> Reserved = new HashSet<string>(GeneratedMembers, System.StringComparer.Ordinal);

        /// <summary>True when CnnGen generates a member named <paramref name="name"/>.</summary>
        public static bool IsGeneratedName(string name) => Reserved.Contains(name) || LayerMethod.IsMatch(name);

        /// <summary>
        /// True when every declaration of <paramref name="member"/> is in a file CnnGen generated (its header). The generator
        /// never sees its own output, but <c>CnnAnalyzer</c> analyzes the compilation the generator's output was added to.
        /// </summary>
        private static bool FromCnnGen(ISymbol member, CancellationToken ct) =>
            member.DeclaringSyntaxReferences.Length > 0 && member.DeclaringSyntaxReferences.All(r => IsCnnGenOutput(r.SyntaxTree, ct));

        /// <summary>True for a syntax tree written by CnnGen's generator (it starts with the auto-generated and CnnGen header lines).</summary>
        public static bool IsCnnGenOutput(SyntaxTree tree, CancellationToken ct)
        {
            var text = tree.GetText(ct);
            string head = text.ToString(new Microsoft.CodeAnalysis.Text.TextSpan(0, System.Math.Min(text.Length, 80)));
            return head.StartsWith("// <auto-generated/>", System.StringComparison.Ordinal) && head.IndexOf("// CnnGen ", System.StringComparison.Ordinal) > 0;
        }

        /// <summary>Adds the diagnostics; returns true when the class cannot take the generated members at all.</summary>
        public static bool Check(INamedTypeSymbol symbol, Compilation compilation, bool baked, LocationInfo? classLocation,
            List<DiagnosticInfo> diagnostics, CancellationToken ct)
        {
            bool cannotEmit = false;
            foreach (var reference in symbol.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(ct) is TypeDeclarationSyntax { ParameterList: { } parameters } decl)
                {
                    // The generated constructors would have to call the primary one (CS8862), with arguments CnnGen can't know.
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsupportedType, LocationInfo.From(parameters), symbol.Name,
                        "a primary constructor (or positional record parameters) cannot be combined with the constructors CnnGen generates; " +
                        "remove the parameter list and declare the values as properties"));
                    cannotEmit = true;
                    break;
                }
            }
            if (symbol.TypeKind == TypeKind.Class && symbol.BaseType is { SpecialType: not SpecialType.System_Object } baseType && baseType.TypeKind == TypeKind.Class
                && !baseType.InstanceConstructors.Any(c => c.Parameters.All(p => p.IsOptional || p.IsParams) && compilation.IsSymbolAccessibleWithin(c, symbol)))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsupportedType, classLocation, symbol.Name,
                    $"its base class '{baseType.Name}' has no parameterless constructor the generated constructors can call; add one (protected is enough)"));
                cannotEmit = true;
            }

            foreach (var member in symbol.GetMembers())
            {
                // The analyzer's compilation holds the generator's output: CnnGen's own members are not clashes.
                if (member.IsImplicitlyDeclared || FromCnnGen(member, ct)) continue;
                if (member is IMethodSymbol { MethodKind: MethodKind.Constructor } ctor)
                {
                    cannotEmit |= CheckConstructor(symbol, ctor, baked, diagnostics, ct);
                    continue;
                }
                // An explicit implementation (ICnnModel.InputSize) clashes only with CnnGen's own implementation of ICnnModel.
                string name = member.Name;
                int dot = name.LastIndexOf('.');
                if (dot >= 0 && !name.Contains("CnnGen.ICnnModel.")) continue;
                if (!IsGeneratedName(name.Substring(dot + 1)) || (dot < 0 && IsOverload(member))) continue;
                var location = member.Locations.FirstOrDefault(l => l.IsInSource);
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.MemberClash, location is null ? classLocation : LocationInfo.From(location),
                    symbol.Name, KindName(member), member.Name, "member"));
                cannotEmit = true;
            }
            // Inherited members the generated ones would hide (CS0108 in generated code): the first one is enough.
            for (var t = symbol.TypeKind == TypeKind.Class ? symbol.BaseType : null; t != null && t.SpecialType != SpecialType.System_Object; t = t.BaseType)
            {
                var hidden = t.GetMembers().FirstOrDefault(m => !m.IsImplicitlyDeclared && m.DeclaredAccessibility != Accessibility.Private
                    && m is not IMethodSymbol { MethodKind: MethodKind.Constructor } && IsGeneratedName(m.Name) && !IsOverload(m));
                if (hidden is null) continue;
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.MemberClash, classLocation, symbol.Name,
                    "inherited " + KindName(hidden), t.Name + "." + hidden.Name, "member"));
                cannotEmit = true;
                break;
            }
            return cannotEmit;
        }

        private static bool CheckConstructor(INamedTypeSymbol type, IMethodSymbol ctor, bool baked, List<DiagnosticInfo> diagnostics, CancellationToken ct)
        {
            if (ctor.IsStatic) return false;
            var syntax = ctor.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(ct) as ConstructorDeclarationSyntax;
            if (syntax is null) return false; // a primary constructor (reported above)
            var location = LocationInfo.From(syntax.Identifier.GetLocation());
            string signature = type.Name + "(" + string.Join(", ", ctor.Parameters.Select(p => p.Type.ToDisplayString())) + ")";
            bool seedOnly = ctor.Parameters.Length == 1 && ctor.Parameters[0].Type.SpecialType == SpecialType.System_Int32;
            if (seedOnly || (baked && ctor.Parameters.Length == 0))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.MemberClash, location, type.Name, "constructor", signature,
                    baked ? $"constructors {type.Name}() and {type.Name}(int seed)" : $"constructor {type.Name}(int seed = 0)"));
                return true;
            }
            // A record's copy constructor copies the parameters of the original; any other must chain to a generated one.
            bool copy = type.IsRecord && ctor.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(ctor.Parameters[0].Type, type);
            if (!copy && syntax.Initializer is not { ThisOrBaseKeyword.ValueText: "this" })
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.ConstructorNotChained, location, type.Name, signature));
            }
            return false;
        }

        /// <summary>A user method with a generated method's name but other parameter types: a legal overload.</summary>
        private static bool IsOverload(ISymbol member)
        {
            if (member is not IMethodSymbol { MethodKind: MethodKind.Ordinary } method || !Overloadable.TryGetValue(method.Name, out var generated)) return false;
            var types = method.Parameters.Select(p => p.Type.WithNullableAnnotation(NullableAnnotation.None).ToDisplayString()).ToArray();
            return !generated.Any(g => g.SequenceEqual(types));
        }

        private static string KindName(ISymbol member) => member switch
        {
            IMethodSymbol => "method",
            IPropertySymbol => "property",
            IFieldSymbol { IsConst: true } => "constant",
            IFieldSymbol => "field",
            IEventSymbol => "event",
            INamedTypeSymbol => "nested type",
            _ => "member",
        };
    }
}

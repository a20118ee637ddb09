using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using CnnGen.Generator.Analysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace CnnGen.Analyzer.Tests
{
    /// <summary>
    /// Roslyn's code-fix test (a real AdhocWorkspace, the fix applied as an editor applies it) set up for CnnGen: the
    /// framework assemblies of this process (no reference-pack download) plus CnnGen.Attributes, unsafe code allowed.
    /// </summary>
    internal sealed class CnnFixTest<TAnalyzer, TFix> : CSharpCodeFixTest<TAnalyzer, TFix, DefaultVerifier>
        where TAnalyzer : DiagnosticAnalyzer, new()
        where TFix : CodeFixProvider, new()
    {
        internal static readonly ImmutableArray<MetadataReference> References = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is var n && (n.StartsWith("System.", StringComparison.Ordinal) || n is "mscorlib.dll" or "netstandard.dll"))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(ModelAttribute).Assembly.Location))
            .ToImmutableArray();

        public CnnFixTest(bool hints = false)
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(References);
            FixedState.AdditionalReferences.AddRange(References);
            if (!hints) DisabledDiagnostics.Add(CnnAnalyzer.LayerShape.Id);
            SolutionTransforms.Add((solution, id) =>
            {
                var options = (CSharpCompilationOptions)solution.GetProject(id)!.CompilationOptions!;
                return solution.WithProjectCompilationOptions(id, options.WithAllowUnsafe(true));
            });
        }
    }

    internal static class Verify
    {
        /// <summary>The analyzer reports exactly <paramref name="expected"/> (markup in <paramref name="source"/>) and the fix turns it into <paramref name="fixedSource"/>.</summary>
        public static Task Fix<TFix>(string source, string fixedSource, params DiagnosticResult[] expected) where TFix : CodeFixProvider, new()
        {
            var test = new CnnFixTest<CnnAnalyzer, TFix> { TestCode = source, FixedCode = fixedSource };
            test.ExpectedDiagnostics.AddRange(expected);
            return test.RunAsync(CancellationToken.None);
        }

        /// <summary>The analyzer reports exactly the markup diagnostics of <paramref name="source"/> (and no fix changes anything).</summary>
        public static Task Analyzer(string source, bool hints = false, string? globalConfig = null, params DiagnosticResult[] expected)
        {
            var test = new CnnFixTest<CnnAnalyzer, EmptyCodeFixProvider>(hints) { TestCode = source };
            if (globalConfig != null) test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\n" + globalConfig));
            test.ExpectedDiagnostics.AddRange(expected);
            return test.RunAsync(CancellationToken.None);
        }

        public static DiagnosticResult Diagnostic(string id) => new DiagnosticResult(id, DiagnosticSeverity.Error);
    }
}

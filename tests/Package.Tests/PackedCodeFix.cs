using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Package.Tests;

/// <summary>
/// Runs the restored package's own analyzer and code fixes (analyzers/dotnet/cs/*.dll, loaded from the consumer's
/// NuGet folder) on a document, the way a Roslyn host that loads package code fixes (Visual Studio, C# Dev Kit, Rider)
/// computes the light-bulb fix.
/// </summary>
public static class PackedCodeFix
{
    /// <summary>The fix the package offers for the first <paramref name="id"/> diagnostic in <paramref name="source"/>: its title and the fixed text.</summary>
    public static (string Title, string Fixed) Apply(string packageDirectory, string source, string id)
    {
        string analyzers = Path.Combine(packageDirectory, "analyzers", "dotnet", "cs");
        var generator = Assembly.LoadFrom(Path.Combine(analyzers, "CnnGen.Generator.dll"));
        var codeFixes = Assembly.LoadFrom(Path.Combine(analyzers, "CnnGen.CodeFixes.dll"));
        var analyzerInstances = generator.GetTypes()
            .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() != null)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
            .ToImmutableArray();
        if (analyzerInstances.IsEmpty) throw new InvalidOperationException("the packed CnnGen.Generator.dll has no DiagnosticAnalyzer");
        var providers = codeFixes.GetTypes()
            .Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t) && t.GetCustomAttribute<ExportCodeFixProviderAttribute>() != null)
            .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!)
            .Where(p => p.FixableDiagnosticIds.Contains(id))
            .ToList();
        if (providers.Count == 0) throw new InvalidOperationException($"the packed CnnGen.CodeFixes.dll has no code fix for {id}");

        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is var n && (n.StartsWith("System.", StringComparison.Ordinal) || n is "mscorlib.dll" or "netstandard.dll"))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(Path.Combine(packageDirectory, "lib", "net10.0", "CnnGen.Attributes.dll")));
        using var workspace = new AdhocWorkspace();
        var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Create(), "Consumer", "Consumer", LanguageNames.CSharp,
            compilationOptions: new CSharpCompilationOptions(OutputKind.ConsoleApplication, allowUnsafe: true),
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
            metadataReferences: references));
        var document = workspace.AddDocument(project.Id, "Program.cs", SourceText.From(source));
        var compilation = document.Project.GetCompilationAsync().GetAwaiter().GetResult()!;
        var diagnostics = compilation.WithAnalyzers(analyzerInstances).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        var diagnostic = diagnostics.FirstOrDefault(d => d.Id == id)
            ?? throw new InvalidOperationException($"the packed analyzer reports no {id}; it reports: " + string.Join("; ", diagnostics));

        var actions = new List<CodeAction>();
        foreach (var provider in providers)
        {
            var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
            provider.RegisterCodeFixesAsync(context).GetAwaiter().GetResult();
        }
        var fix = actions.FirstOrDefault() ?? throw new InvalidOperationException($"the packed code fixes offer nothing for {diagnostic}");
        var operations = fix.GetOperationsAsync(CancellationToken.None).GetAwaiter().GetResult();
        var changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
        string text = changed.GetDocument(document.Id)!.GetTextAsync().GetAwaiter().GetResult().ToString();
        return (fix.Title, text);
    }
}

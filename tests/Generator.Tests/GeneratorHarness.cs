using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using CnnGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Generator.Tests
{
    /// <summary>Compiles test sources with the CnnGen generator, like a consumer's build would.</summary>
    internal static class GeneratorHarness
    {
        private static readonly Lazy<MetadataReference[]> References = new(() =>
        {
            var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
            var refs = tpa.Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
                .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
            refs.Add(MetadataReference.CreateFromFile(typeof(CnnGen.ModelAttribute).Assembly.Location));
            refs.Add(MetadataReference.CreateFromFile(typeof(CnnGen.SummaryFormat).Assembly.Location));
            return refs.ToArray();
        });

        public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

        public static CSharpCompilation CreateCompilation(params string[] sources) =>
            CSharpCompilation.Create("TestModels",
                sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: i == 0 ? "Model.cs" : $"Model{i}.cs")),
                References.Value,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));

        public static GeneratorDriver CreateDriver() =>
            CSharpGeneratorDriver.Create(new[] { new ModelGenerator().AsSourceGenerator() }, parseOptions: ParseOptions,
                driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

        public sealed record Result(Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics, ImmutableArray<Diagnostic> CompilationDiagnostics, GeneratorDriverRunResult Run)
        {
            public string GeneratedSource => string.Join("\n", Run.Results.SelectMany(r => r.GeneratedSources).Select(s => s.SourceText.ToString()));

            public IEnumerable<Diagnostic> Errors => GeneratorDiagnostics.Concat(CompilationDiagnostics).Where(d => d.Severity == DiagnosticSeverity.Error);

            public IEnumerable<Diagnostic> Cnn => GeneratorDiagnostics.Where(d => d.Id.StartsWith("CNN", StringComparison.Ordinal));
        }

        public static Result Run(params string[] sources)
        {
            var compilation = CreateCompilation(sources);
            var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var genDiags);
            var run = driver.GetRunResult();
            foreach (var r in run.Results)
            {
                if (r.Exception != null) throw new Exception("generator crashed", r.Exception);
            }
            return new Result(output, genDiags, output.GetDiagnostics(), run);
        }

        /// <summary>Compiles and loads the assembly (the model must be error-free).</summary>
        public static Assembly Load(Result result)
        {
            using var ms = new MemoryStream();
            var emit = result.Output.Emit(ms);
            if (!emit.Success)
                throw new Exception("compilation failed:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
            ms.Position = 0;
            return new AssemblyLoadContext(null, isCollectible: true).LoadFromStream(ms);
        }

        public static object? CallStatic(Assembly asm, string type, string method, params object?[] args)
        {
            var t = asm.GetType(type) ?? throw new Exception("no type " + type);
            var m = t.GetMethod(method, BindingFlags.Public | BindingFlags.Static) ?? throw new Exception("no method " + method);
            return m.Invoke(null, args);
        }

        public static object? Const(Assembly asm, string type, string name) =>
            asm.GetType(type)!.GetField(name, BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue();
    }
}

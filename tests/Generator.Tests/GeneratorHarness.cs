using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using CnnGen.Generator;
using CnnGen.Generator.Analysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

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

        /// <summary>
        /// A driver in the "no analyzers" configuration (CnnGenGeneratorDiagnostics = true, which CnnGen.targets sets when a
        /// build runs no analyzers): the generator reports the CNN diagnostics itself.
        /// </summary>
        public static GeneratorDriver CreateDriver(params AdditionalText[] additionalFiles) =>
            CSharpGeneratorDriver.Create(new[] { new ModelGenerator().AsSourceGenerator() }, additionalFiles, ParseOptions, GeneratorReportsOptions.Instance,
                new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

        /// <param name="GeneratorDiagnostics">What the user sees from CnnGen: the generator's own diagnostics (e.g. CS8785)
        /// and the CNN errors, which <see cref="CnnAnalyzer"/> reports (checked to equal what the generator reports when
        /// analyzers are off).</param>
        /// <param name="CompilationDiagnostics">The compiler's diagnostics of the output compilation.</param>
        public sealed record Result(Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics, ImmutableArray<Diagnostic> CompilationDiagnostics, GeneratorDriverRunResult Run)
        {
            public string GeneratedSource => string.Join("\n", Run.Results.SelectMany(r => r.GeneratedSources).Select(s => s.SourceText.ToString()));

            public IEnumerable<Diagnostic> Errors => GeneratorDiagnostics.Concat(CompilationDiagnostics).Where(d => d.Severity == DiagnosticSeverity.Error);

            public IEnumerable<Diagnostic> Cnn => GeneratorDiagnostics.Where(d => d.Id.StartsWith("CNN", StringComparison.Ordinal));

            /// <summary>The analyzer's hidden per-layer shape hints (CNN0090), which builds never print.</summary>
            public ImmutableArray<Diagnostic> LayerHints { get; init; } = ImmutableArray<Diagnostic>.Empty;
        }

        public static Result Run(params string[] sources) => Run(CreateCompilation(sources));

        /// <summary>
        /// Runs the generator (reporting its diagnostics, as without analyzers) and then <see cref="CnnAnalyzer"/> on the
        /// output, like a build; checks that both report the same CNN diagnostics (one implementation, two entry points)
        /// and returns the analyzer's.
        /// </summary>
        public static Result Run(Compilation compilation, params AdditionalText[] additionalFiles)
        {
            var driver = CreateDriver(additionalFiles).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var genDiags);
            var run = driver.GetRunResult();
            foreach (var r in run.Results)
            {
                if (r.Exception != null) throw new Exception("generator crashed", r.Exception);
            }
            var all = output.WithAnalyzers(ImmutableArray.Create<Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer>(new CnnAnalyzer()),
                    new Microsoft.CodeAnalysis.Diagnostics.AnalyzerOptions(additionalFiles.ToImmutableArray()))
                .GetAllDiagnosticsAsync().GetAwaiter().GetResult();
            static bool IsCnn(Diagnostic d) => d.Id.StartsWith("CNN", StringComparison.Ordinal);
            var analyzer = all.Where(d => IsCnn(d) && d.Id != CnnAnalyzer.LayerShape.Id).ToList();
            // An exception while writing the code happens in the generator only (the analyzer never emits code): the
            // generator reports that CNN0079 in every build, so it is the generator's alone.
            static bool EmitFailure(Diagnostic d) => d.Id == "CNN0079" && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("while writing the code");
            var generatorOnly = genDiags.Where(EmitFailure).ToList();
            var fromGenerator = genDiags.Where(d => IsCnn(d) && !EmitFailure(d)).Select(Key).OrderBy(k => k, StringComparer.Ordinal).ToList();
            var fromAnalyzer = analyzer.Select(Key).OrderBy(k => k, StringComparer.Ordinal).ToList();
            if (!fromGenerator.SequenceEqual(fromAnalyzer))
                throw new Exception("the analyzer and the generator disagree:\ngenerator:\n  " + string.Join("\n  ", fromGenerator)
                    + "\nanalyzer:\n  " + string.Join("\n  ", fromAnalyzer)
                    + "\nanalyzer failures:\n  " + string.Join("\n  ", all.Where(d => d.Id.StartsWith("AD", StringComparison.Ordinal))));
            foreach (var d in analyzer)
            {
                if (!d.Location.IsInSource) throw new Exception("the analyzer reported outside the source (no code fix could find it): " + d);
            }
            return new Result(output, genDiags.Where(d => !IsCnn(d)).Concat(generatorOnly).Concat(analyzer).ToImmutableArray(), all.Where(d => !IsCnn(d)).ToImmutableArray(), run)
            {
                LayerHints = all.Where(d => d.Id == CnnAnalyzer.LayerShape.Id).ToImmutableArray(),
            };
        }

        private static string Key(Diagnostic d)
        {
            var span = d.Location.GetLineSpan();
            return $"{d.Id} {span.Path}{span.Span} {d.Severity} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
        }

        /// <summary>Global options with build_property.CnnGenGeneratorDiagnostics = true.</summary>
        private sealed class GeneratorReportsOptions : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider
        {
            public static readonly GeneratorReportsOptions Instance = new();
            private static readonly Options Global = new(new Dictionary<string, string> { [CnnAnalyzer.GeneratorDiagnosticsProperty] = "true" });
            private static readonly Options None = new(new Dictionary<string, string>());
            public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GlobalOptions => Global;
            public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(SyntaxTree tree) => None;
            public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(AdditionalText textFile) => None;

            private sealed class Options : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
            {
                private readonly Dictionary<string, string> values;
                public Options(Dictionary<string, string> values) { this.values = values; }
                public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
            }
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

using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using CnnGen.Generator.Analysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace CnnGen.Analyzer.Tests
{
    /// <summary>CnnAnalyzer on its own, without the generator (as an editor runs it on every keystroke).</summary>
    public class AnalyzerTests
    {
        private const string Hinted = "using CnnGen;\n[Model]\n[Input(1, 28, 28)]\n[{|#0:Conv2d(1, 16, 3)|}]\n[{|#1:ReLU|}]\n[{|#2:MaxPool2d(2)|}]\n[{|#3:Flatten|}]\n[{|#4:Linear(16 * 13 * 13, 10)|}]\npublic partial class M { }\n";

        [Fact]
        public Task Every_layer_attribute_of_a_correct_model_gets_a_hidden_hint_with_its_shapes_and_parameters() =>
            Verify.Analyzer(Hinted, hints: true, globalConfig: null,
                Hint(0, "Conv2d-1: [1, 28, 28] → [16, 26, 26], 160 parameters"),
                Hint(1, "ReLU-2: [16, 26, 26] → [16, 26, 26], 0 parameters"),
                Hint(2, "MaxPool2d-3: [16, 26, 26] → [16, 13, 13], 0 parameters"),
                Hint(3, "Flatten: [16, 13, 13] → [2704], 0 parameters"),
                Hint(4, "Linear-4: [2704] → [10], 27,050 parameters"));

        [Fact]
        public Task A_model_with_an_error_gets_the_error_and_no_hints() =>
            Verify.Analyzer("using CnnGen;\n[Model]\n[Input(1, 28, 28)]\n[Conv2d(1, 16, 3)]\n[{|#0:Conv2d(8, 16, 3)|}]\npublic partial class M { }\n", hints: true, globalConfig: null,
                Verify.Diagnostic("CNN0020").WithLocation(0).WithArguments("Conv2d-2", "8", "16", "Conv2d-1 output [16, 26, 26]"));

        [Fact]
        public Task Nothing_is_reported_when_the_build_makes_the_generator_report() =>
            Verify.Analyzer("using CnnGen;\n[Model]\n[Input(1, 28, 28)]\n[Conv2d(8, 16, 3)]\npublic partial class M { }\n", hints: true,
                globalConfig: "build_property.CnnGenGeneratorDiagnostics = true");

        [Fact]
        public Task A_missing_weights_file_is_reported_on_the_Weights_argument() =>
            Verify.Analyzer("using CnnGen;\n[Model({|#0:Weights = \"w.safetensors\"|})]\n[Input(1, 2, 2)]\n[Flatten]\n[Linear(4, 2)]\npublic partial class M { }\n", false, null,
                Verify.Diagnostic("CNN0030").WithLocation(0).WithArguments("M", "w.safetensors", " (the project has no .safetensors AdditionalFiles)"));

        [Fact]
        public async Task An_error_inside_a_block_in_another_file_is_found_through_the_model()
        {
            var test = new CnnFixTest<CnnAnalyzer, EmptyCodeFixProvider>();
            test.TestState.Sources.Add("using CnnGen;\n[Model]\n[Input(4, 8, 8)]\n[Sequential(typeof(B))]\npublic partial class M { }\n");
            test.TestState.Sources.Add("using CnnGen;\n[Block]\n[{|#0:Conv2d(3, 4, 3)|}]\npublic class B { }\n");
            test.ExpectedDiagnostics.Add(Verify.Diagnostic("CNN0020").WithLocation(0));
            await test.RunAsync();
        }

        /// <summary>
        /// An editor analyzes one file at a time: it shows what the symbols declared in that file report there. An error
        /// inside a [Block] in another file must come from the block's file, and a whole build must still see it once.
        /// </summary>
        [Fact]
        public async Task An_error_inside_a_block_is_reported_when_the_blocks_file_is_analyzed_and_once_in_a_build()
        {
            var model = CSharpSyntaxTree.ParseText("using CnnGen;\n[Model]\n[Input(4, 8, 8)]\n[Sequential(typeof(B))]\npublic partial class M { }\n",
                new CSharpParseOptions(LanguageVersion.Latest), path: "M.cs");
            var block = CSharpSyntaxTree.ParseText("using CnnGen;\n[Block]\n[Conv2d(3, 4, 3, Padding = 1)]\npublic class B { }\n",
                new CSharpParseOptions(LanguageVersion.Latest), path: "B.cs");
            var compilation = CSharpCompilation.Create("T", new[] { model, block }, CnnFixTest<CnnAnalyzer, EmptyCodeFixProvider>.References,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
            var analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new CnnAnalyzer());

            var inBlockFile = await compilation.WithAnalyzers(analyzers).GetAnalyzerSemanticDiagnosticsAsync(compilation.GetSemanticModel(block), null, default);
            var inModelFile = await compilation.WithAnalyzers(analyzers).GetAnalyzerSemanticDiagnosticsAsync(compilation.GetSemanticModel(model), null, default);
            var build = await compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync();

            Assert.Equal(1, inBlockFile.Count(d => d.Id == "CNN0020" && d.Location.SourceTree == block));
            Assert.DoesNotContain(inModelFile, d => d.Id == "CNN0020");
            Assert.Equal(1, build.Count(d => d.Id == "CNN0020"));
            Assert.All(build.Where(d => d.Id == "CNN0020"), d => Assert.Equal(2, d.Location.GetLineSpan().StartLinePosition.Line));
        }

        private static DiagnosticResult Hint(int location, string text) =>
            new DiagnosticResult(CnnAnalyzer.LayerShape).WithLocation(location).WithArguments(text);
    }

    /// <summary>
    /// Stands in for CNN0080 (an unknown layer name with the CnnGen spelling in property "Suggestion"), which another
    /// change adds to the analyzer: reports it on [Conv2D] and [Dense], the Keras names.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    internal sealed class Cnn0080Stand_in : DiagnosticAnalyzer
    {
        private static readonly DiagnosticDescriptor Unknown = new("CNN0080", "Unknown layer", "'{0}' is not a CnnGen layer; did you mean [{1}]?",
            "CnnGen", DiagnosticSeverity.Error, isEnabledByDefault: true);
        private static readonly Dictionary<string, string> Names = new() { ["Conv2D"] = "Conv2d", ["Dense"] = "Linear" };

        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Unknown);

        public override void Initialize(AnalysisContext context)
        {
            context.EnableConcurrentExecution();
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.RegisterSyntaxNodeAction(c =>
            {
                var a = (AttributeSyntax)c.Node;
                string name = a.Name is QualifiedNameSyntax q ? q.Right.Identifier.ValueText : a.Name.ToString();
                if (Names.TryGetValue(name, out var suggestion))
                    c.ReportDiagnostic(Diagnostic.Create(Unknown, a.GetLocation(), ImmutableDictionary<string, string?>.Empty.Add("Suggestion", suggestion), name, suggestion));
            }, SyntaxKind.Attribute);
        }
    }
}

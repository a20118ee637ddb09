using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// One test (or theory) per diagnostic in <see cref="Diagnostics.All"/>: a declaration that must
    /// trigger it — at the offending attribute's line, with the layer named as the summary names it and
    /// the numbers that disagree — and a near miss that must compile cleanly.
    /// </summary>
    public partial class DiagnosticTests
    {
        // ---- helpers --------------------------------------------------------------------------------

        /// <summary>Uses every generated public member of T.M, so a missing member shows up as a C# error in Model1.cs.</summary>
        internal const string UseMembers = @"namespace T
{
    internal static class UseModel
    {
        internal static string All() =>
            M.Summary() + M.Summary(8) + M.KerasSummary() + (M.InputSize + M.OutputSize + M.ParameterCount).ToString();
    }
}
";

        /// <summary>0-based line of the one line of <paramref name="source"/> that contains <paramref name="marker"/>.</summary>
        internal static int LineOf(string source, string marker)
        {
            var lines = source.Replace("\r\n", "\n").Split('\n');
            var hits = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains(marker, StringComparison.Ordinal)).ToList();
            Assert.True(hits.Count == 1, $"marker '{marker}' must occur on exactly one line, found {hits.Count}");
            return hits[0];
        }

        /// <summary>The generator neither crashed (the harness throws then) nor reported CS8785.</summary>
        internal static void AssertNoGeneratorFailure(GeneratorHarness.Result r)
        {
            Assert.DoesNotContain(r.GeneratorDiagnostics.Concat(r.CompilationDiagnostics), d => d.Id == "CS8785");
            Assert.All(r.Run.Results, x => Assert.Null(x.Exception));
        }

        /// <summary>
        /// Runs <paramref name="source"/> (file Model.cs) together with <see cref="UseMembers"/> (Model1.cs) when
        /// the generator can still emit the class, and checks the user sees only CNN errors (plus the given
        /// C# errors on the model's own attributes), never "member not found".
        /// </summary>
        internal static GeneratorHarness.Result RunMalformed(string source, bool emits = true, params string[] allowedCSharpErrors)
        {
            var r = emits ? GeneratorHarness.Run(source, UseMembers) : GeneratorHarness.Run(source);
            AssertNoGeneratorFailure(r);
            Assert.NotEmpty(r.Cnn);
            if (emits)
            {
                Assert.Contains("public static string Summary(int batchSize = -1)", r.GeneratedSource);
                foreach (var member in new[] { "Summary", "KerasSummary", "InputSize", "OutputSize", "ParameterCount" })
                {
                    var type = r.Output.GetTypeByMetadataName("T.M");
                    Assert.NotNull(type);
                    Assert.True(type!.GetMembers(member).Any(m => m.DeclaredAccessibility == Accessibility.Public), "missing generated member " + member);
                }
                var errors = r.Errors.Where(e => !e.Id.StartsWith("CNN", StringComparison.Ordinal)).ToList();
                Assert.True(errors.All(e => allowedCSharpErrors.Contains(e.Id) && e.Location.SourceTree?.FilePath == "Model.cs"),
                    "unexpected errors besides the CNN ones:\n" + string.Join("\n", errors));
            }
            else
            {
                Assert.Empty(r.Run.Results.SelectMany(x => x.GeneratedSources));
            }
            return r;
        }

        /// <summary>
        /// Asserts exactly one diagnostic <paramref name="id"/> (and, when <paramref name="only"/>, no other CNN
        /// diagnostic), an error located on the line containing <paramref name="lineMarker"/> in Model.cs,
        /// whose message is exactly <paramref name="message"/> (or contains each of <paramref name="parts"/>).
        /// </summary>
        internal static Diagnostic AssertDiagnostic(GeneratorHarness.Result r, string source, string id, string lineMarker,
            string? message = null, bool only = true, params string[] parts)
        {
            var cnn = r.Cnn.ToList();
            if (only) Assert.True(cnn.Count == 1, "expected only " + id + ", got:\n" + string.Join("\n", cnn));
            var d = Assert.Single(cnn, x => x.Id == id);
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
            // The generator reports plain file locations (LocationInfo), not SourceLocations: check path and line.
            var span = d.Location.GetLineSpan();
            Assert.True(span.IsValid, "diagnostic has no location");
            Assert.Equal("Model.cs", span.Path);
            Assert.Equal(LineOf(source, lineMarker), span.StartLinePosition.Line);
            Assert.True(d.Location.SourceSpan.End <= source.Length);
            string text = d.GetMessage(CultureInfo.InvariantCulture);
            if (message != null) Assert.Equal(message, text);
            foreach (var p in parts) Assert.Contains(p, text);
            return d;
        }

        /// <summary>The text the diagnostic's location covers.</summary>
        internal static string LocatedText(Diagnostic d, string source) => source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length);

        /// <summary>The near miss: compiles with no error and no CNN diagnostic at all.</summary>
        internal static GeneratorHarness.Result AssertClean(params string[] sources)
        {
            var r = GeneratorHarness.Run(sources);
            AssertNoGeneratorFailure(r);
            Assert.True(!r.Errors.Any() && !r.Cnn.Any(), "expected a clean compile, got:\n" + string.Join("\n", r.Errors.Concat(r.Cnn)));
            Assert.Contains("public const int ParameterCount", r.GeneratedSource);
            return r;
        }

        // ---- CNN0001 .. CNN0007: declarations ---------------------------------------------------------

        [Fact]
        public void CNN0001_MissingInput()
        {
            string bad = Models.Model("    [Conv2d(1, 8, 3)]");
            var r = RunMalformed(bad);
            var d = AssertDiagnostic(r, bad, "CNN0001", "public partial class M",
                "Model 'M' has no [Input(channels, height, width)] attribute: CnnGen needs the input shape to check the layers");
            Assert.Equal("M", LocatedText(d, bad));

            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]"));
        }

        [Fact]
        public void CNN0001_MissingInput_StillValidatesLayerArguments()
        {
            // No input shape means no shapes, but argument errors are independent of shapes.
            string bad = Models.Model("    [Conv2d(1, 8, 3)]\n    [Dropout(1.5)]");
            var r = RunMalformed(bad);
            Assert.Equal(new[] { "CNN0001", "CNN0010" }, r.Cnn.Select(d => d.Id).OrderBy(x => x));
            AssertDiagnostic(r, bad, "CNN0010", "[Dropout(1.5)]", "Dropout-2: the drop probability p is 1.5, but must be in [0, 1)", only: false);
        }

        [Fact]
        public void CNN0002_NotPartial()
        {
            string bad = @"using CnnGen;
namespace T
{
    [Model]
    [Input(1, 28, 28)]
    [Conv2d(1, 8, 3)]
    public sealed class M { }
}
";
            var r = RunMalformed(bad, emits: false);
            var d = AssertDiagnostic(r, bad, "CNN0002", "public sealed class M",
                "Model class 'M' must be declared 'partial' so CnnGen can add the generated members");
            Assert.Equal("M", LocatedText(d, bad));
            Assert.DoesNotContain(r.Errors, e => !e.Id.StartsWith("CNN", StringComparison.Ordinal));

            AssertClean(bad.Replace("public sealed class M", "public sealed partial class M"));
        }

        [Fact]
        public void CNN0003_NoLayers()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0003", "public partial class M",
                "Model 'M' declares no layers: add layer attributes such as [Conv2d(...)] or [Linear(...)] after [Input]");

            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [ReLU]"));
        }

        [Fact]
        public void CNN0003_NoLayers_ButOtherAttributes()
        {
            // Attributes that are not layers don't count as layers.
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [System.Serializable]\n    [System.Obsolete(\"x\")]");
            var r = GeneratorHarness.Run(bad);
            AssertNoGeneratorFailure(r);
            AssertDiagnostic(r, bad, "CNN0003", "public partial class M");
        }

        [Fact]
        public void CNN0004_LayersSpread()
        {
            string first = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]");
            string second = @"using CnnGen;
namespace T
{
    [ReLU]
    partial class M { }
}
";
            var r = GeneratorHarness.Run(first, second, UseMembers);
            AssertNoGeneratorFailure(r);
            AssertDiagnostic(r, first, "CNN0004", "public partial class M",
                "Model 'M' has layer attributes on more than one partial declaration, so their order is ambiguous: keep all layer attributes on one declaration");
            Assert.DoesNotContain(r.Errors, e => !e.Id.StartsWith("CNN", StringComparison.Ordinal));

            // Spread over two declarations in the same file is just as ambiguous.
            string sameFile = first + second.Replace("using CnnGen;", "");
            var r2 = GeneratorHarness.Run(sameFile);
            AssertNoGeneratorFailure(r2);
            Assert.Single(r2.Cnn, d => d.Id == "CNN0004");

            // Near miss: the other partial declaration has members and a non-layer attribute only.
            string other = @"namespace T
{
    [System.Serializable]
    partial class M { public int Extra => ParameterCount; }
}
";
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    [ReLU]"), other);
        }

        [Fact]
        public void CNN0004_InputOnOtherDeclarationIsFine()
        {
            // [Input] is not a layer: it may sit on another partial declaration.
            string first = Models.Model("    [Conv2d(1, 8, 3)]\n    [ReLU]");
            string second = "using CnnGen;\nnamespace T { [Input(1, 28, 28)] partial class M { } }\n";
            AssertClean(first, second);
        }

        public static TheoryData<string, string, string, string> UnsupportedTypes => new()
        {
            {
                "generic",
                "using CnnGen;\nnamespace T\n{\n    [Model]\n    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    public partial class M<TValue> { }\n}\n",
                "public partial class M<TValue>",
                "Model 'M' cannot get generated members: generic model classes are not supported; remove the type parameters"
            },
            {
                "static",
                "using CnnGen;\nnamespace T\n{\n    [Model]\n    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    public static partial class M { }\n}\n",
                "public static partial class M",
                "Model 'M' cannot get generated members: a model class cannot be static"
            },
            {
                "nested in a non-partial class",
                "using CnnGen;\nnamespace T\n{\n    public class Outer\n    {\n        [Model]\n        [Input(1, 28, 28)]\n        [Conv2d(1, 8, 3)]\n        public partial class M { }\n    }\n}\n",
                "public partial class M",
                "Model 'M' cannot get generated members: its containing type 'Outer' must be a non-generic partial type"
            },
            {
                "nested in a generic partial class",
                "using CnnGen;\nnamespace T\n{\n    public partial class Outer<TValue>\n    {\n        [Model]\n        [Input(1, 28, 28)]\n        [Conv2d(1, 8, 3)]\n        public partial class M { }\n    }\n}\n",
                "public partial class M",
                "Model 'M' cannot get generated members: its containing type 'Outer' must be a non-generic partial type"
            },
        };

        [Theory]
        [MemberData(nameof(UnsupportedTypes))]
        public void CNN0005_UnsupportedType(string what, string bad, string marker, string message)
        {
            var r = RunMalformed(bad, emits: false);
            var d = AssertDiagnostic(r, bad, "CNN0005", marker, message);
            Assert.Equal("M", LocatedText(d, bad));
            Assert.True(!r.Errors.Any(e => !e.Id.StartsWith("CNN", StringComparison.Ordinal)), what + ": " + string.Join("\n", r.Errors));
        }

        [Theory]
        [InlineData("struct")]
        [InlineData("record struct")]
        [InlineData("interface")]
        public void CNN0005_NotAClass(string kind)
        {
            // [Model] is only valid on classes: the compiler says so (CS0592); CnnGen must not add a conflicting
            // 'partial class' declaration on top (CS0261 in generated code).
            string bad = "using CnnGen;\nnamespace T\n{\n    [Model]\n    [Input(1, 28, 28)]\n    [ReLU]\n    public partial " + kind + " M { }\n}\n";
            var r = GeneratorHarness.Run(bad);
            AssertNoGeneratorFailure(r);
            AssertDiagnostic(r, bad, "CNN0005", "public partial " + kind + " M", "Model 'M' cannot get generated members: a model must be a class or a record class");
            Assert.Empty(r.Run.Results.SelectMany(x => x.GeneratedSources));
            Assert.All(r.Errors.Where(e => !e.Id.StartsWith("CNN", StringComparison.Ordinal)), e => Assert.Equal("CS0592", e.Id));
        }

        [Fact]
        public void CNN0005_FileLocal()
        {
            // Without the error, the generated 'partial class M' (another file) would be a different class T.M:
            // the user's file-local M would silently get no members.
            string use = "\nnamespace T { file static class Use { static string S() => M.Summary(); } }\n";
            string bad = "using CnnGen;\nnamespace T\n{\n    [Model]\n    [Input(1, 28, 28)]\n    [ReLU]\n    file partial class M { }\n}\n" + use;
            var r = GeneratorHarness.Run(bad);
            AssertNoGeneratorFailure(r);
            AssertDiagnostic(r, bad, "CNN0005", "file partial class M",
                "Model 'M' cannot get generated members: a file-local class cannot get members from generated code, which lives in another file; remove 'file'");
            Assert.Empty(r.Run.Results.SelectMany(x => x.GeneratedSources));
            // No stray second class T.M holding the members.
            Assert.Single(r.Output.GetSymbolsWithName("M", SymbolFilter.Type));

            string outer = "using CnnGen;\nnamespace T\n{\n    file partial class Outer\n    {\n        [Model]\n        [Input(1, 28, 28)]\n        [ReLU]\n        public partial class M { }\n    }\n}\n";
            var r2 = GeneratorHarness.Run(outer);
            AssertNoGeneratorFailure(r2);
            AssertDiagnostic(r2, outer, "CNN0005", "public partial class M",
                "Model 'M' cannot get generated members: its containing type 'Outer' must be a non-generic partial type (and not file-local)");

            // Near miss: 'internal' instead of 'file'.
            AssertClean(bad.Replace("file partial class M", "internal partial class M"));
        }

        [Fact]
        public void CNN0005_NearMisses()
        {
            AssertClean("using CnnGen;\nnamespace T\n{\n    public partial class Outer\n    {\n        [Model]\n        [Input(1, 28, 28)]\n        [Conv2d(1, 8, 3)]\n        public partial class M { }\n    }\n}\n");
            AssertClean("using CnnGen;\nnamespace T\n{\n    public static partial class Outer\n    {\n        [Model]\n        [Input(1, 28, 28)]\n        [Conv2d(1, 8, 3)]\n        public sealed partial class M { }\n    }\n}\n");
            AssertClean("using CnnGen;\nnamespace T\n{\n    public partial struct Outer\n    {\n        [Model]\n        [Input(1, 28, 28)]\n        [Conv2d(1, 8, 3)]\n        internal partial class M { }\n    }\n}\n");
        }

        public static TheoryData<string, string, string, string[]> UnreadableArguments => new()
        {
            // attribute lines, the offending attribute, expected message, C# errors the user also sees
            { "    [Input(1, 28, 28)]\n    [Conv2d(1, \"x\", 3)]\n    [ReLU]", "[Conv2d(1, \"x\", 3)]",
                "Conv2d-1: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS1503" } },
            { "    [Input(1, 28, 28)]\n    [ReLU]\n    [Conv2d(1, 8)]", "[Conv2d(1, 8)]",
                "Conv2d-2: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS7036" } },
            { "    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3, 4)]", "[Conv2d(1, 8, 3, 4)]",
                "Conv2d-1: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS1729" } },
            { "    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3, Stride = \"2\")]", "Stride = \"2\"",
                "Conv2d-1: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS0029" } },
            { "    [Input(1, 28, 28)]\n    [Flatten]\n    [Linear(784, System.Environment.ProcessorCount)]", "[Linear(784,",
                "Linear-1: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS0182" } },
            { "    [Input(1, 28, 28)]\n    [ReLU]\n    [Conv2d(1, 8, 3, Strid = 2)]", "Strid = 2",
                "Conv2d-2: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS0246" } },
            { "    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3, InChannels = 2)]", "InChannels = 2",
                "Conv2d-1: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS0617" } },
            { "    [Input(1, 28, 28, Chanels = 3)]\n    [ReLU]", "Chanels = 3",
                "Input: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS0246" } },
            { "    [Input(1, 28, 28)]\n    [Dropout(\"half\")]", "[Dropout(\"half\")]",
                "Dropout-1: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS1503" } },
            { "    [Input(1, \"x\", 28)]\n    [ReLU]", "[Input(1, \"x\", 28)]",
                "Input: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS1503" } },
            { "    [Input(1, 28)]\n    [ReLU]", "[Input(1, 28)]",
                "Input: the attribute's arguments could not be read; fix the C# error on this attribute", new[] { "CS7036" } },
        };

        [Theory]
        [MemberData(nameof(UnreadableArguments))]
        public void CNN0006_UnreadableArguments(string attributes, string marker, string message, string[] csharpErrors)
        {
            string bad = Models.Model(attributes);
            var r = RunMalformed(bad, emits: true, csharpErrors);
            AssertDiagnostic(r, bad, "CNN0006", marker, message);
            // The user sees the C# error too, on the same attribute.
            var cs = r.Errors.Where(e => e.Id.StartsWith("CS", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(cs);
            Assert.All(cs, e => Assert.Equal(LineOf(bad, marker), e.Location.GetLineSpan().StartLinePosition.Line));
            Assert.Contains("InvalidOperationException", r.GeneratedSource);
        }

        [Fact]
        public void CNN0006_LaterArgumentErrorsStillReported()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, \"x\", 3)]\n    [ReLU]\n    [Dropout(2)]");
            var r = RunMalformed(bad, emits: true, "CS1503");
            Assert.Equal(new[] { "CNN0006", "CNN0010" }, r.Cnn.Select(d => d.Id).OrderBy(x => x));
            AssertDiagnostic(r, bad, "CNN0010", "[Dropout(2)]", "Dropout-3: the drop probability p is 2, but must be in [0, 1)", only: false);
        }

        [Fact]
        public void CNN0006_NearMiss()
        {
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3, Stride = 2)]\n    [ReLU]"));
        }

        [Fact]
        public void CNN0007_UnknownLayer()
        {
            string bad = @"using CnnGen;
namespace T
{
    [System.AttributeUsage(System.AttributeTargets.Class, AllowMultiple = true)]
    public sealed class MyLayerAttribute : LayerAttribute { }

    [Model]
    [Input(1, 28, 28)]
    [Conv2d(1, 8, 3)]
    [MyLayer]
    [ReLU]
    public partial class M { }
}
";
            var r = RunMalformed(bad);
            var d = AssertDiagnostic(r, bad, "CNN0007", "[MyLayer]",
                "'T.MyLayerAttribute' derives from CnnGen.LayerAttribute but is not a layer CnnGen knows how to compile");
            Assert.Equal("MyLayer", LocatedText(d, bad));

            // A user subclass named like a real layer but outside namespace CnnGen is still unknown.
            string impostor = bad.Replace("MyLayer", "ReLU").Replace("[ReLU]\n    [ReLU]", "[ReLU]\n    [CnnGen.ReLU]");
            var r2 = GeneratorHarness.Run(impostor);
            AssertNoGeneratorFailure(r2);
            Assert.Contains(r2.Cnn, x => x.Id == "CNN0007" && x.GetMessage(CultureInfo.InvariantCulture).Contains("'T.ReLUAttribute'"));

            // Near miss: a user attribute that is not a LayerAttribute is ignored.
            AssertClean(bad.Replace(": LayerAttribute", ": System.Attribute"));
        }

        /// <summary>Runs the generator on a compilation whose options don't allow unsafe code.</summary>
        internal static GeneratorHarness.Result RunWithoutUnsafe(params string[] sources)
        {
            var compilation = GeneratorHarness.CreateCompilation(sources);
            compilation = compilation.WithOptions(compilation.Options.WithAllowUnsafe(false));
            return GeneratorHarness.Run(compilation);
        }

        [Fact]
        public void CNN0008_UnsafeNotAllowed()
        {
            var descriptor = Assert.Single(Diagnostics.All, d => d.Id == "CNN0008");
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]");
            var r = RunWithoutUnsafe(bad, UseMembers);
            AssertNoGeneratorFailure(r);
            var d = AssertDiagnostic(r, bad, "CNN0008", "public partial class M",
                string.Format(CultureInfo.InvariantCulture, descriptor.MessageFormat.ToString(CultureInfo.InvariantCulture), "M"));
            Assert.Contains("AllowUnsafeBlocks", d.GetMessage(CultureInfo.InvariantCulture));
            // The members are still there (throwing), so the user sees only CNN0008.
            Assert.DoesNotContain(r.Errors, e => !e.Id.StartsWith("CNN", StringComparison.Ordinal));

            // Near miss: the same model with unsafe code allowed.
            AssertClean(bad, UseMembers);
        }

        // ---- CNN0010 .. CNN0013: argument values ---------------------------------------------------------

        public static TheoryData<string, string, string> InvalidValues => new()
        {
            // wrong attributes (the offending one carries /*!*/), the fix for it, expected message
            { "[Conv2d(1, 8, 0)]", "[Conv2d(1, 8, 1)]", "Conv2d-1: kernel size is 0, but must be at least 1" },
            { "[Conv2d(1, 8, -3)]", "[Conv2d(1, 8, 3)]", "Conv2d-1: kernel size is -3, but must be at least 1" },
            { "[Conv2d(1, 8, 3, KernelHeight = 0)]", "[Conv2d(1, 8, 3, KernelHeight = 1)]", "Conv2d-1: KernelHeight is 0, but must be at least 1" },
            { "[Conv2d(1, 8, 3, Stride = 0)]", "[Conv2d(1, 8, 3, Stride = 1)]", "Conv2d-1: Stride is 0, but must be at least 1" },
            { "[Conv2d(1, 8, 3, StrideWidth = -1)]", "[Conv2d(1, 8, 3, StrideWidth = 2)]", "Conv2d-1: StrideWidth is -1, but must be at least 1" },
            { "[Conv2d(1, 8, 3, Dilation = 0)]", "[Conv2d(1, 8, 3, Dilation = 2)]", "Conv2d-1: Dilation is 0, but must be at least 1" },
            { "[Conv2d(1, 8, 3, Padding = -1)]", "[Conv2d(1, 8, 3, Padding = 0)]", "Conv2d-1: Padding is -1, but must be 0 or more" },
            { "[Conv2d(1, 8, 3, PaddingHeight = -2)]", "[Conv2d(1, 8, 3, PaddingHeight = 2)]", "Conv2d-1: PaddingHeight is -2, but must be 0 or more" },
            { "[Conv2d(0, 8, 3)]", "[Conv2d(1, 8, 3)]", "Conv2d-1: in channels is 0, but must be at least 1" },
            { "[Conv2d(1, -8, 3)]", "[Conv2d(1, 8, 3)]", "Conv2d-1: out channels is -8, but must be at least 1" },
            { "[Conv2d(1, 8, 3, Groups = 0)]", "[Conv2d(1, 8, 3, Groups = 1)]", "Conv2d-1: Groups is 0, but must be at least 1" },
            { "[Conv2d(1, 8, 3, Groups = -1)]", "[Conv2d(1, 8, 3, Groups = 1)]", "Conv2d-1: Groups is -1, but must be at least 1" },
            { "[MaxPool2d(0)]", "[MaxPool2d(1)]", "MaxPool2d-1: kernel size is 0, but must be at least 1" },
            { "[MaxPool2d(2, Stride = 0)]", "[MaxPool2d(2, Stride = 1)]", "MaxPool2d-1: Stride is 0, but must be at least 1" },
            { "[MaxPool2d(2, Dilation = 0)]", "[MaxPool2d(2, Dilation = 1)]", "MaxPool2d-1: Dilation is 0, but must be at least 1" },
            { "[MaxPool2d(2, Padding = -1)]", "[MaxPool2d(2, Padding = 1)]", "MaxPool2d-1: Padding is -1, but must be 0 or more" },
            { "[AvgPool2d(-2)]", "[AvgPool2d(2)]", "AvgPool2d-1: kernel size is -2, but must be at least 1" },
            { "[AvgPool2d(2, StrideHeight = 0)]", "[AvgPool2d(2, StrideHeight = 1)]", "AvgPool2d-1: StrideHeight is 0, but must be at least 1" },
            { "[Flatten]\n    [Linear(0, 10)]", "[Flatten]\n    [Linear(784, 10)]", "Linear-1: in features is 0, but must be at least 1" },
            { "[Flatten]\n    [Linear(784, -10)]", "[Flatten]\n    [Linear(784, 10)]", "Linear-1: out features is -10, but must be at least 1" },
            { "[Dropout(1)]", "[Dropout(0.99)]", "Dropout-1: the drop probability p is 1, but must be in [0, 1)" },
            { "[Dropout(1.0)]", "[Dropout(0.0)]", "Dropout-1: the drop probability p is 1, but must be in [0, 1)" },
            { "[Dropout(1.5)]", "[Dropout(0.5)]", "Dropout-1: the drop probability p is 1.5, but must be in [0, 1)" },
            { "[Dropout(-0.1)]", "[Dropout(0.1)]", "Dropout-1: the drop probability p is -0.1, but must be in [0, 1)" },
            { "[Dropout(double.NaN)]", "[Dropout]", "Dropout-1: the drop probability p is NaN, but must be in [0, 1)" },
            { "[Dropout2d(1)]", "[Dropout2d(0.25)]", "Dropout2d-1: the drop probability p is 1, but must be in [0, 1)" },
            { "[Dropout2d(-1)]", "[Dropout2d]", "Dropout2d-1: the drop probability p is -1, but must be in [0, 1)" },
            { "[LeakyReLU(double.NaN)]", "[LeakyReLU(-0.2)]", "LeakyReLU-1: the negative slope is NaN, but must be a finite number" },
            { "[ELU(double.PositiveInfinity)]", "[ELU(2.0)]", "ELU-1: alpha is Infinity, but must be a finite number" },
        };

        [Theory]
        [MemberData(nameof(InvalidValues))]
        public void CNN0010_InvalidValue(string wrong, string right, string message)
        {
            // The marker goes on the last attribute line (the offending one).
            string bad = Models.Model("    [Input(1, 28, 28)]\n    " + wrong + " // <-");
            var r = RunMalformed(bad);
            var d = AssertDiagnostic(r, bad, "CNN0010", "// <-", message);
            string lastAttr = wrong.Split('\n').Last().Trim();
            Assert.Equal(lastAttr.Substring(1, lastAttr.Length - 2), LocatedText(d, bad));

            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    " + right));
        }

        [Fact]
        public void CNN0010_PoolKernelError_IsNotAlsoReportedAsStrideError()
        {
            // The pooling stride defaults to the kernel size; the user wrote no stride, so only the kernel is wrong.
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [MaxPool2d(0)]\n    [AvgPool2d(0, KernelHeight = 2)]");
            var r = RunMalformed(bad);
            var messages = r.Cnn.Select(d => d.GetMessage(CultureInfo.InvariantCulture)).OrderBy(x => x, StringComparer.Ordinal).ToList();
            Assert.Equal(new[]
            {
                "AvgPool2d-2: kernel size is 0, but must be at least 1",
                "MaxPool2d-1: kernel size is 0, but must be at least 1",
            }, messages);
        }

        [Fact]
        public void CNN0010_SeveralBadArgumentsOnOneLayer_AllReported()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(0, 8, 3, Stride = 0, Padding = -1)]");
            var r = RunMalformed(bad);
            var messages = r.Cnn.Select(d => d.GetMessage(CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(new[]
            {
                "Conv2d-1: in channels is 0, but must be at least 1",
                "Conv2d-1: Stride is 0, but must be at least 1",
                "Conv2d-1: Padding is -1, but must be 0 or more",
            }, messages);
            Assert.All(r.Cnn, d => Assert.Equal("CNN0010", d.Id));
        }

        public static TheoryData<string, string, string> TooLarge => new()
        {
            // 1·50,000·50,000 = 2,500,000,000 floats: more than a float[] holds (int sizes would wrap to −1,794,967,296)
            { "[Input(1, 50000, 50000)] // <-\n    [ReLU]",
                "Input: the size of [1, 50000, 50000] is 2500000000 floats, but must be at most 2147483591 floats",
                "[Input(1, 20000, 20000)]\n    [ReLU]" },
            // 3,000,000·784 + 3,000,000 = 2,355,000,000 parameters
            { "[Input(1, 28, 28)]\n    [Flatten]\n    [Linear(784, 3000000)] // <-",
                "Linear-1: the parameter count is 2355000000 floats, but must be at most 2147483591 floats",
                "[Input(1, 28, 28)]\n    [Flatten]\n    [Linear(784, 2000000)]" },
            // 4,096·1,000·1,000 = 4,096,000,000 floats of output
            { "[Input(1, 1000, 1000)]\n    [Conv2d(1, 4096, 1)] // <-",
                "Conv2d-1: the size of its output [4096, 1000, 1000] is 4096000000 floats, but must be at most 2147483591 floats",
                "[Input(1, 1000, 1000)]\n    [Conv2d(1, 2048, 1)]" },
            // each layer fits (1,200,000,000 and 1,200,000,000 + 1), the model doesn't: 2,400,000,001
            { "[Input(1, 1, 1)]\n    [Flatten]\n    [Linear(1, 1200000000, Bias = false)]\n    [Linear(1200000000, 1)] // <-",
                "Linear-2: the model's parameter count up to this layer is 2400000001 floats, but must be at most 2147483591 floats",
                "[Input(1, 1, 1)]\n    [Flatten]\n    [Linear(1, 1000000000, Bias = false)]\n    [Linear(1000000000, 1)]" },
        };

        [Theory]
        [MemberData(nameof(TooLarge))]
        public void CNN0010_SizesThatOverflowAreErrorsNotWrappedConstants(string wrong, string message, string right)
        {
            string bad = Models.Model("    " + wrong);
            AssertDiagnostic(RunMalformed(bad), bad, "CNN0010", "// <-", message);
            var r = AssertClean(Models.Model("    " + right));
            Assert.Contains("public const int ParameterCount = ", r.GeneratedSource);
            // (That the emitted memory plan for these large-but-valid models doesn't wrap is checked in
            // ShapeTests.LargeValidModels_GeneratedSizeConstantsDoNotWrap.)
        }

        [Fact]
        public void CNN0010_HugePaddingDoesNotWrapAround()
        {
            // 28 + 2·1,500,000,000 overflows an int; the output is far too large, not negative or plausible.
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 1, 3, Padding = 1500000000)] // <-");
            var d = AssertDiagnostic(RunMalformed(bad), bad, "CNN0010", "// <-");
            Assert.StartsWith("Conv2d-1: the size of its output [1, ", d.GetMessage(CultureInfo.InvariantCulture));
        }

        [Fact]
        public void CNN0011_GroupsDoNotDivide()
        {
            string bad = Models.Model("    [Input(6, 28, 28)]\n    [Conv2d(6, 8, 3, Groups = 4)]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0011", "Groups = 4", "Conv2d-1: Groups = 4 must divide both in channels (6) and out channels (8)");

            string outOnly = Models.Model("    [Input(6, 28, 28)]\n    [ReLU]\n    [Conv2d(6, 9, 3, Groups = 2)]");
            AssertDiagnostic(RunMalformed(outOnly), outOnly, "CNN0011", "Groups = 2", "Conv2d-2: Groups = 2 must divide both in channels (6) and out channels (9)");

            AssertClean(Models.Model("    [Input(6, 28, 28)]\n    [Conv2d(6, 8, 3, Groups = 2)]"));
            AssertClean(Models.Model("    [Input(6, 28, 28)]\n    [Conv2d(6, 12, 3, Groups = 6)]"));
        }

        [Fact]
        public void CNN0012_PoolPaddingTooLarge()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [MaxPool2d(2, Padding = 2)]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0012", "[MaxPool2d(", "MaxPool2d-1: padding 2 must be at most half the kernel size 2 (PyTorch rejects padding > kernel / 2)");
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [MaxPool2d(2, Padding = 1)]"));

            // Rectangular: PyTorch checks kW / 2 >= padW, so 3 / 2 = 1 < 2 fails.
            string rect = Models.Model("    [Input(1, 28, 28)]\n    [ReLU]\n    [AvgPool2d(3, PaddingWidth = 2)]");
            AssertDiagnostic(RunMalformed(rect), rect, "CNN0012", "[AvgPool2d(", "AvgPool2d-2: padding 2 must be at most half the kernel size 3 (PyTorch rejects padding > kernel / 2)");
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [ReLU]\n    [AvgPool2d(3, PaddingWidth = 1)]"));
        }

        public static TheoryData<string, string> InvalidInputs => new()
        {
            { "[Input(0, 28, 28)]", "Input: channels is 0, but must be at least 1" },
            { "[Input(1, -28, 28)]", "Input: height is -28, but must be at least 1" },
            { "[Input(1, 28, 0)]", "Input: width is 0, but must be at least 1" },
        };

        [Theory]
        [MemberData(nameof(InvalidInputs))]
        public void CNN0013_InvalidInput(string input, string message)
        {
            string bad = Models.Model("    " + input + "\n    [Conv2d(1, 8, 3)]");
            var r = RunMalformed(bad);
            var d = AssertDiagnostic(r, bad, "CNN0013", "[Input(", message);
            Assert.StartsWith("Input(", LocatedText(d, bad));
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]"));
        }

        [Fact]
        public void CNN0014_TooLarge()
        {
            // im2col of one sample: 256 · 3 · 3 · 1000 · 1000 = 2,304,000,000 floats, beyond Array.MaxLength.
            string bad = Models.Model("    [Input(256, 1000, 1000)]\n    [Conv2d(256, 4, 3, Padding = 1)]");
            var r = RunMalformed(bad);
            var d = AssertDiagnostic(r, bad, "CNN0014", "[Conv2d(256, 4, 3, Padding = 1)]",
                "Conv2d-1's im2col buffer needs 2,304,000,000 floats per sample, more than a .NET array can hold (2,147,483,591); make the input or the channels smaller");
            Assert.StartsWith("Conv2d(", LocatedText(d, bad));
            AssertClean(Models.Model("    [Input(256, 100, 100)]\n    [Conv2d(256, 4, 3, Padding = 1)]"));

            // Activations kept for training: 2 × 1 × 40000 × 40000 = 3,200,000,000 floats, reported at the class.
            string wide = Models.Model("    [Input(1, 40000, 40000)]\n    [ReLU]");
            AssertDiagnostic(RunMalformed(wide), wide, "CNN0014", "partial class M", null, true, "Training (all activations of one sample) needs 3,200,000,000 floats per sample");
        }

        // ---- CNN0020 .. CNN0025: shapes ---------------------------------------------------------------

        [Fact]
        public void CNN0020_ChannelMismatch()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 16, 3)]\n    [ReLU]\n    [Conv2d(8, 32, 3)]");
            var r = RunMalformed(bad);
            var d = AssertDiagnostic(r, bad, "CNN0020", "[Conv2d(8, 32, 3)]", "Conv2d-3 expects 8 input channels, but receives 16 (ReLU-2 output [16, 26, 26])");
            Assert.Equal("Conv2d(8, 32, 3)", LocatedText(d, bad));
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 16, 3)]\n    [ReLU]\n    [Conv2d(16, 32, 3)]"));

            string first = Models.Model("    [Input(3, 32, 32)]\n    [Conv2d(1, 6, 5)]");
            AssertDiagnostic(RunMalformed(first), first, "CNN0020", "[Conv2d(1, 6, 5)]", "Conv2d-1 expects 1 input channels, but receives 3 (the input [3, 32, 32])");
            AssertClean(Models.Model("    [Input(3, 32, 32)]\n    [Conv2d(3, 6, 5)]"));
        }

        [Fact]
        public void CNN0021_FeatureMismatch_DesignExample()
        {
            string bad = Models.Mnist.Replace("[Linear(7 * 7 * 32, 32)]", "[Linear(1000, 32)]");
            Assert.NotEqual(Models.Mnist, bad);
            var r = GeneratorHarness.Run(bad, UseMembers.Replace("namespace T", "namespace Samples").Replace("M.", "MnistCnn."));
            AssertNoGeneratorFailure(r);
            var d = AssertDiagnostic(r, bad, "CNN0021", "[Linear(1000, 32)]",
                "Linear-7 expects 1000 input features, but receives 1568 (MaxPool2d-6 output [32, 7, 7], flattened)");
            Assert.Equal("Linear(1000, 32)", LocatedText(d, bad));
            Assert.DoesNotContain(r.Errors, e => !e.Id.StartsWith("CNN", StringComparison.Ordinal));

            AssertClean(Models.Mnist);
        }

        [Fact]
        public void CNN0021_FeatureMismatch_AfterLinear()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Flatten]\n    [Linear(784, 64)]\n    [ReLU]\n    [Linear(32, 10)]");
            AssertDiagnostic(RunMalformed(bad), bad, "CNN0021", "[Linear(32, 10)]", "Linear-3 expects 32 input features, but receives 64 (ReLU-2 output [64])");

            string flatFirst = Models.Model("    [Input(1, 28, 28)]\n    [Flatten]\n    [Linear(28, 10)]");
            AssertDiagnostic(RunMalformed(flatFirst), flatFirst, "CNN0021", "[Linear(28, 10)]", "Linear-1 expects 28 input features, but receives 784 (the input [1, 28, 28], flattened)");
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Flatten]\n    [Linear(784, 64)]\n    [ReLU]\n    [Linear(64, 10)]"));
        }

        [Fact]
        public void CNN0022_NotFlattened()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    [Linear(5408, 10)]");
            var r = RunMalformed(bad);
            // 8 · 26 · 26 = 5408 features once flattened.
            AssertDiagnostic(r, bad, "CNN0022", "[Linear(5408, 10)]",
                "Linear-2 needs a flattened input, but receives [8, 26, 26] (Conv2d-1 output [8, 26, 26]); add [Flatten] before it (it would then receive 5408 features)");
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    [Flatten]\n    [Linear(5408, 10)]"));
        }

        public static TheoryData<string, string, string> TooSmall => new()
        {
            // 4 + 0 − 1·(7 − 1) − 1 = −3; floor(−3 / 1) + 1 = −2
            { "[Input(1, 4, 4)]\n    [Conv2d(1, 8, 7)] // <-",
                "[Input(1, 4, 4)]\n    [Conv2d(1, 8, 3)]",
                "Conv2d-1: the 7×7 kernel (stride 1, padding 0, dilation 1) does not fit the input [1, 4, 4] (the input [1, 4, 4]): output height would be -2" },
            // kernel larger than the padded input: 2 + 2·1 − 1·(5 − 1) − 1 = −1; floor(−1 / 1) + 1 = 0. Padding 2 gives 2 + 4 − 4 − 1 = 1 → 2.
            { "[Input(3, 2, 2)]\n    [Conv2d(3, 4, 5, Padding = 1)] // <-",
                "[Input(3, 2, 2)]\n    [Conv2d(3, 4, 5, Padding = 2)]",
                "Conv2d-1: the 5×5 kernel (stride 1, padding 1, dilation 1) does not fit the input [3, 2, 2] (the input [3, 2, 2]): output height would be 0" },
            // width only: 28 − 1·(3 − 1) − 1 = 25 → 26 high, 2 − 2 − 1 = −1 → 0 wide
            { "[Input(1, 28, 2)]\n    [Conv2d(1, 8, 3)] // <-",
                "[Input(1, 28, 3)]\n    [Conv2d(1, 8, 3)]",
                "Conv2d-1: the 3×3 kernel (stride 1, padding 0, dilation 1) does not fit the input [1, 28, 2] (the input [1, 28, 2]): output width would be 0" },
            // dilation: 28 − 14·(3 − 1) − 1 = −1 → 0; dilation 13: 28 − 26 − 1 = 1 → 2
            { "[Input(1, 28, 28)]\n    [Conv2d(1, 8, 3, Dilation = 14)] // <-",
                "[Input(1, 28, 28)]\n    [Conv2d(1, 8, 3, Dilation = 13)]",
                "Conv2d-1: the 3×3 kernel (stride 1, padding 0, dilation 14) does not fit the input [1, 28, 28] (the input [1, 28, 28]): output height would be 0" },
            // second pooling: 28 → floor((28 − 1·(2 − 1) − 1) / 2) + 1 = 14 → ... 1×1 after 4 pools (28, 14, 7, 3, 1); the fifth: floor(−1 / 2) + 1 = 0
            { "[Input(1, 28, 28)]\n    [MaxPool2d(2)]\n    [MaxPool2d(2)]\n    [MaxPool2d(2)]\n    [MaxPool2d(2)]\n    [MaxPool2d(2)] // <-",
                "[Input(1, 28, 28)]\n    [MaxPool2d(2)]\n    [MaxPool2d(2)]\n    [MaxPool2d(2)]\n    [MaxPool2d(2)]\n    [MaxPool2d(1)]",
                "MaxPool2d-5: the 2×2 window (stride 2, padding 0, dilation 1) does not fit the input [1, 1, 1] (MaxPool2d-4 output [1, 1, 1]): output height would be 0" },
            // rectangular stride and kernel: 3 − 1·(1 − 1) − 1 = 2 → 3 high; 3 − 1·(4 − 1) − 1 = −1 → floor(−1 / 2) + 1 = 0 wide
            { "[Input(2, 3, 3)]\n    [AvgPool2d(1, KernelWidth = 4, StrideWidth = 2)] // <-",
                "[Input(2, 3, 4)]\n    [AvgPool2d(1, KernelWidth = 4, StrideWidth = 2)]",
                "AvgPool2d-1: the 1×4 window (stride (1, 2), padding 0, dilation 1) does not fit the input [2, 3, 3] (the input [2, 3, 3]): output width would be 0" },
        };

        [Theory]
        [MemberData(nameof(TooSmall))]
        public void CNN0023_OutputTooSmall(string wrong, string right, string message)
        {
            string bad = Models.Model("    " + wrong);
            AssertDiagnostic(RunMalformed(bad), bad, "CNN0023", "// <-", message);
            AssertClean(Models.Model("    " + right));
        }

        [Fact]
        public void CNN0024_NeedsSpatialInput()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Flatten]\n    [Conv2d(1, 8, 3)]");
            AssertDiagnostic(RunMalformed(bad), bad, "CNN0024", "[Conv2d(", "Conv2d-1 needs a [C, H, W] input, but receives the flattened [784] (the input [1, 28, 28], flattened)");
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    [Flatten]"));

            string pool = Models.Model("    [Input(1, 28, 28)]\n    [Flatten]\n    [Linear(784, 16)]\n    [MaxPool2d(2)]");
            AssertDiagnostic(RunMalformed(pool), pool, "CNN0024", "[MaxPool2d(", "MaxPool2d-2 needs a [C, H, W] input, but receives the flattened [16] (Linear-1 output [16])");

            string drop = Models.Model("    [Input(1, 28, 28)]\n    [Flatten]\n    [Dropout2d(0.2)]");
            AssertDiagnostic(RunMalformed(drop), drop, "CNN0024", "[Dropout2d(", "Dropout2d-1 needs a [C, H, W] input, but receives the flattened [784] (the input [1, 28, 28], flattened)");
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Dropout2d(0.2)]\n    [Flatten]\n    [Dropout(0.2)]"));
        }

        [Fact]
        public void CNN0025_NeedsFlatInput()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    [Softmax]");
            AssertDiagnostic(RunMalformed(bad), bad, "CNN0025", "[Softmax]", "Softmax-2 works over the features of a flattened input, but receives [8, 26, 26] (Conv2d-1 output [8, 26, 26]); add [Flatten] before it");
            string log = Models.Model("    [Input(1, 28, 28)]\n    [LogSoftmax]");
            AssertDiagnostic(RunMalformed(log), log, "CNN0025", "[LogSoftmax]", "LogSoftmax-1 works over the features of a flattened input, but receives [1, 28, 28] (the input [1, 28, 28]); add [Flatten] before it");
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    [Flatten]\n    [Softmax]"));
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Flatten]\n    [LogSoftmax]"));
        }

        // ---- interplay ----------------------------------------------------------------------------------

        [Fact]
        public void AfterAShapeError_LaterArgumentErrorsAreReported_ButNoSecondShapeError()
        {
            string bad = Models.Model(@"    [Input(1, 28, 28)]
    [Conv2d(1, 16, 3)]
    [Conv2d(8, 32, 3)]
    [Flatten]
    [Linear(5, 10)]
    [Softmax]
    [Dropout(1.5)]");
            var r = RunMalformed(bad);
            // Linear(5, 10) would mismatch too, but its input shape is unknown after the first error.
            Assert.Equal(new[] { "CNN0010", "CNN0020" }, r.Cnn.Select(d => d.Id).OrderBy(x => x));
            AssertDiagnostic(r, bad, "CNN0020", "[Conv2d(8, 32, 3)]", "Conv2d-2 expects 8 input channels, but receives 16 (Conv2d-1 output [16, 26, 26])", only: false);
            AssertDiagnostic(r, bad, "CNN0010", "[Dropout(1.5)]", "Dropout-5: the drop probability p is 1.5, but must be in [0, 1)", only: false);
        }

        [Fact]
        public void InvalidLayerArguments_StopShapeChecking_ButNotLaterArgumentChecks()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 16, 0)]\n    [Conv2d(99, 32, 3)]\n    [MaxPool2d(2, Padding = 3)]");
            var r = RunMalformed(bad);
            Assert.Equal(new[] { "CNN0010", "CNN0012" }, r.Cnn.Select(d => d.Id).OrderBy(x => x));
        }

        // ---- CNN0030 .. CNN0037, CNN0047, CNN0048: baked weights (the checks live in WeightsTests) --------------

        [Fact]
        public void CNN0030_WeightsNotFound() => WeightsTests.MissingFileIsCNN0030();

        [Fact]
        public void CNN0031_WeightsNotEncoded() => WeightsTests.RawItemWithoutTheBuildStepIsCNN0031AndIsNeverRead();

        [Fact]
        public void CNN0033_WeightsMissingTensor() => WeightsTests.MissingTensorIsCNN0033();

        [Fact]
        public void CNN0034_WeightsWrongShape() => WeightsTests.WrongShapeIsCNN0034NamingBothShapes();

        [Fact]
        public void CNN0035_WeightsWrongDType() => WeightsTests.WrongDTypeIsCNN0035();

        [Fact]
        public void CNN0036_WeightsUnexpectedTensor() => WeightsTests.ExtraTensorIsCNN0036();

        [Fact]
        public void CNN0037_WeightsAmbiguous() => WeightsTests.TwoFilesOfTheSameNameAreCNN0037UnlessNamedByPath();

        [Fact]
        public void CNN0047_WeightsFileMissing() => WeightsTests.MissingFileMarkerIsCNN0047NotCNN0031();

        [Fact]
        public void CNN0048_WeightsNonFinite() => WeightsTests.NonFiniteValueIsCNN0048NamingTheTensorAndElement();

        [Theory]
        [InlineData("truncated", "truncated")]
        [InlineData("short", "less than the 8-byte header length")]
        [InlineData("json", "JSON header cannot be read")]
        [InlineData("length", "runs past the end of the file")]
        [InlineData("offsets", "data_offsets span")]
        [InlineData("encoding", "encoded form")]
        public void CNN0032_WeightsInvalid(string how, string expected) => WeightsTests.MalformedFileIsCNN0032(how, expected);

        [Fact]
        public void EveryDescriptorIsAnErrorWithACnnIdAndADocsLink()
        {
            Assert.Equal(Diagnostics.All.Length, Diagnostics.All.Select(d => d.Id).Distinct().Count());
            foreach (var d in Diagnostics.All)
            {
                Assert.Matches("^CNN[0-9]{4}$", d.Id);
                Assert.Equal(DiagnosticSeverity.Error, d.DefaultSeverity);
                Assert.True(d.IsEnabledByDefault);
                Assert.Same(d, Diagnostics.ById(d.Id));
                Assert.Contains("docs/diagnostics.md#" + d.Id.ToLowerInvariant(), d.Description.ToString(CultureInfo.InvariantCulture));
            }
        }

        [Fact]
        public void EveryDescriptorHasATestInThisFile()
        {
            var methods = typeof(DiagnosticTests).GetMethods().Select(m => m.Name).ToList();
            foreach (var d in Diagnostics.All)
                Assert.True(methods.Any(m => m.StartsWith(d.Id + "_", StringComparison.Ordinal)), "no test for " + d.Id);
        }

        [Fact]
        public void AnalyzerReleaseFileListsEveryDescriptor()
        {
            string text = System.IO.File.ReadAllText(System.IO.Path.Combine(DocsTests.RepoRoot(), "src", "Generator", "AnalyzerReleases.Unshipped.md"));
            foreach (var d in Diagnostics.All)
                Assert.Contains($"{d.Id} | CnnGen | Error | {d.Title}", text);
        }
    }
}

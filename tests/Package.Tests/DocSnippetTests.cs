using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace CnnGen.Package.Tests;

/// <summary>
/// The documentation cannot rot: every C# block of README.md and docs/*.md compiles against the packed package
/// (conventions: docs/building.md, "C# in the documentation"), and the package says one version everywhere.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class DocSnippetTests
{
    private const string ConsumerName = "DocsConsumer";

    private static readonly object Gate = new();
    private static (string Dir, ProcessResult Build, IReadOnlyList<DocSnippet> Snippets)? s_built;

    private readonly PackageFixture _package;

    public DocSnippetTests(PackageFixture package) => _package = package;

    // A program that prints what the versions are: the runtime's, its assembly's, and the generator's [GeneratedCode].
    private const string VersionProgram = """
        using System;
        using System.CodeDom.Compiler;
        using System.Reflection;
        using CnnGen;

        Console.WriteLine("RuntimeInfo.Version=" + RuntimeInfo.Version);
        Console.WriteLine("Informational=" + typeof(RuntimeInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);
        GeneratedCodeAttribute? generated = typeof(VersionProbe).GetCustomAttribute<GeneratedCodeAttribute>();
        Console.WriteLine("GeneratedCode=" + generated?.Tool + " " + generated?.Version);

        [Model]
        [Input(1, 4, 4)]
        [Flatten]
        [Linear(16, 2)]
        public partial class VersionProbe { }

        """;

    /// <summary>Every block of every document, written into one consumer and built once (a build costs ~30 s).</summary>
    private (string Dir, ProcessResult Build, IReadOnlyList<DocSnippet> Snippets) Built()
    {
        lock (Gate)
        {
            if (s_built is { } done)
                return done;
            var snippets = new List<DocSnippet>();
            foreach (string doc in DocSnippets.Documents(_package.RepoRoot))
                snippets.AddRange(DocSnippets.Extract(doc, File.ReadAllText(Path.Combine(_package.RepoRoot, doc))));

            string dir = _package.CreateConsumer(ConsumerName, VersionProgram);
            string snippetDir = Path.Combine(dir, "Snippets");
            Directory.CreateDirectory(snippetDir);
            foreach (DocSnippet s in snippets.Where(s => s.Skip is null))
            {
                string file = Regex.Replace(s.Document, "[^A-Za-z0-9]", "_") + "_" + s.Line + ".cs";
                File.WriteAllText(Path.Combine(snippetDir, file), DocSnippets.ToCompilationUnit(s, Path.Combine(_package.RepoRoot, s.Document)));
            }
            ProcessResult build = _package.BuildConsumer(dir);
            s_built = (dir, build, snippets);
            return s_built.Value;
        }
    }

    [Fact]
    public void Every_CSharp_block_of_the_docs_compiles_against_the_package()
    {
        var (_, build, snippets) = Built();
        var compiled = snippets.Where(s => s.Skip is null).ToList();
        // Not vacuous: README.md alone has a model declaration, blocks, the Trainer and a hand-written loop.
        Assert.True(compiled.Count(s => s.Document == "README.md") >= 5,
            "expected at least 5 compiled C# blocks in README.md, found: " + string.Join(", ", compiled.Select(s => s.Where)));

        // Errors point at the document line (#line), e.g. "/repo/README.md(290,32): error CS0103: The name 'images' does not exist".
        var errors = Regex.Matches(build.Output.Replace("\r\n", "\n"), @"^.*\): error [A-Z]+\d+:.*$", RegexOptions.Multiline)
            .Select(m => m.Value.Trim()).Distinct().ToList();
        Assert.True(build.Succeeded && errors.Count == 0,
            $"the documentation's C# blocks must compile against the package ({compiled.Count} blocks; " +
            $"skipped: {string.Join("; ", snippets.Where(s => s.Skip != null).Select(s => s.Where + " (" + s.Skip + ")"))}):\n" +
            string.Join("\n", errors) + "\n" + build);
        Assert.DoesNotMatch(new Regex(@"\b(CS8032|CS8784|CS8785)\b"), build.Output);
    }

    [Fact]
    public void The_package_the_runtime_and_the_generated_code_carry_one_git_derived_version()
    {
        // 0.2.<commit height>, 0.2.<height>-dev.<yyyyMMddHHmmss> with uncommitted changes, 0.2.0-nogit without git.
        Assert.Matches(new Regex(@"^\d+\.\d+\.\d+(-dev\.\d{14}|-nogit)?$"), _package.PackageVersion);
        Assert.NotEqual("0.1.0", _package.PackageVersion);

        var (dir, build, _) = Built();
        Assert.True(build.Succeeded, "the docs consumer must build:\n" + build);
        ProcessResult run = _package.RunConsumer(dir, ConsumerName);
        Assert.True(run.Succeeded, "the docs consumer must run:\n" + run);
        string output = run.Output.Replace("\r\n", "\n");
        Assert.Contains("RuntimeInfo.Version=" + _package.PackageVersion + "\n", output);
        Assert.Contains("GeneratedCode=CnnGen " + _package.PackageVersion + "\n", output);
        Assert.Matches(new Regex("Informational=" + Regex.Escape(_package.PackageVersion) + @"(\+[0-9a-f]{40})?\n"), output);
    }

    [Fact]
    public void Package_readme_has_no_relative_links()
    {
        using ZipArchive zip = ZipFile.OpenRead(_package.NupkgPath);
        ZipArchiveEntry? entry = zip.GetEntry("README.md");
        Assert.True(entry != null, "the package has no README.md");
        string readme;
        using (var reader = new StreamReader(entry!.Open()))
            readme = reader.ReadToEnd();
        string repo = File.ReadAllText(Path.Combine(_package.RepoRoot, "README.md"));
        Assert.True(RelativeLinks(repo).Count > 0, "README.md has no relative link: this test would check nothing");
        Assert.Empty(RelativeLinks(readme));
        // The links were rewritten, not dropped: as many links as in the repository's README.
        Assert.Equal(Regex.Matches(repo, @"\]\(").Count, Regex.Matches(readme, @"\]\(").Count);
    }

    /// <summary>Markdown link targets that are neither absolute URLs nor in-page anchors.</summary>
    internal static List<string> RelativeLinks(string markdown) =>
        Regex.Matches(markdown, @"\]\((?<target>[^)\s]+)\)").Select(m => m.Groups["target"].Value)
            .Where(t => !Regex.IsMatch(t, "^[A-Za-z][A-Za-z0-9+.-]*:") && !t.StartsWith('#')).ToList();
}

/// <summary>The snippet conventions themselves (no build).</summary>
public sealed class DocSnippetConventionTests
{
    [Fact]
    public void Blocks_markers_and_other_languages_are_read_as_documented()
    {
        const string doc = """
            # Title

            ```bash
            <!-- snippet: skip not a marker: inside a bash block -->
            ```

            <!-- snippet: skip needs a GPU -->

            ```csharp
            var x = 1;
            ```

            ```cs
            using CnnGen;
            public partial class A { }
            ```

            1. In a list:
               ```csharp
               int y = 2;
               ```
            """;
        var s = DocSnippets.Extract("docs/x.md", doc);
        Assert.Equal(3, s.Count);
        Assert.Equal(("docs/x.md", 10, "var x = 1;\n", "needs a GPU"), (s[0].Document, s[0].Line, s[0].Code, s[0].Skip));
        Assert.Equal((14, (string?)null), (s[1].Line, s[1].Skip));
        Assert.Equal(("int y = 2;\n", 20), (s[2].Code, s[2].Line));
    }

    [Fact]
    public void Unknown_markers_and_skips_without_a_reason_are_errors()
    {
        Assert.Contains("unknown marker", Assert.Throws<FormatException>(() => DocSnippets.Extract("a.md", "<!-- snippet: class-body -->\n```csharp\nint x;\n```\n")).Message);
        Assert.Contains("needs a reason", Assert.Throws<FormatException>(() => DocSnippets.Extract("a.md", "<!-- snippet: skip -->\n```csharp\nint x;\n```\n")).Message);
        Assert.Contains("never closed", Assert.Throws<FormatException>(() => DocSnippets.Extract("a.md", "```csharp\nint x;\n")).Message);
        var all = DocSnippets.Extract("a.md", "<!-- snippets: skip generated elsewhere -->\n```csharp\nint x;\n```\n");
        Assert.Equal("generated elsewhere", Assert.Single(all).Skip);
    }

    [Fact]
    public void A_block_becomes_a_file_whose_lines_point_back_at_the_document()
    {
        var s = new DocSnippet("README.md", 40, "using System;\n\nvar n = Net.Size;\nConsole.WriteLine(n);\n\npublic static class Net { public const int Size = 3; }\n", null);
        string unit = DocSnippets.ToCompilationUnit(s);
        Assert.Contains("#line 40 \"README.md\"\nusing System;", unit);
        Assert.Contains("namespace CnnGenDocs.README_md", unit);
        Assert.Contains("#line 44 \"README.md\"\n\npublic static class Net", unit); // the blank line before it is line 44
        Assert.Contains("Run(string[] args)", unit);
        Assert.Contains("#line 41 \"README.md\"\n\nvar n = Net.Size;", unit);

        // A top-level `return 1;` makes the method return int; one inside a lambda does not.
        Assert.Contains("Task<int> Run(", DocSnippets.ToCompilationUnit(s with { Code = "if (args.Length > 0) return 1;\n" }));
        Assert.DoesNotContain("Task<int>", DocSnippets.ToCompilationUnit(s with { Code = "Func<int> f = () => { return 1; };\n" }));

        var broken = Assert.Throws<FormatException>(() => DocSnippets.ToCompilationUnit(s with { Code = "[Model]\n...\npublic partial class M { }\n" }));
        Assert.Contains("README.md(4", broken.Message); // line 40 + 1: the "..." line
    }
}

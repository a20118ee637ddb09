using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Package.Tests;

/// <summary>One ```csharp block of a Markdown document.</summary>
/// <param name="Document">The document, relative to the repository ("README.md", "docs/building.md").</param>
/// <param name="Line">1-based line of the block's first code line in the document.</param>
/// <param name="Code">The code, with the fence's indentation removed.</param>
/// <param name="Skip">The reason of a <c>snippet: skip</c> marker, or null.</param>
public sealed record DocSnippet(string Document, int Line, string Code, string? Skip)
{
    public string Where => $"{Document}:{Line}";
}

/// <summary>
/// The documentation's C# blocks and how they are compiled (the conventions are documented at the top of
/// docs/building.md, "C# in the documentation"):
/// <list type="bullet">
/// <item>every ```csharp (or ```cs, ```c#) block of README.md and docs/*.md is a C# file: using directives, then
/// top-level statements and/or type declarations;</item>
/// <item>its top-level statements become the body of a method (compiled, never run), its types are declared in a
/// namespace of the document, so the blocks of one document see each other's types;</item>
/// <item><c>&lt;!-- snippet: skip REASON --&gt;</c> on the last non-blank line before a block leaves it out;
/// <c>&lt;!-- snippets: skip REASON --&gt;</c> anywhere in a document leaves out all its blocks. Any other
/// <c>snippet:</c> marker is an error, as is a skip without a reason.</item>
/// </list>
/// </summary>
public static class DocSnippets
{
    private static readonly Regex Marker = new(@"^\s*<!--\s*snippet:\s*(?<kind>\S+)\s*(?<rest>.*?)\s*-->\s*$");
    private static readonly Regex DocumentMarker = new(@"^\s*<!--\s*snippets:\s*(?<kind>\S+)\s*(?<rest>.*?)\s*-->\s*$", RegexOptions.Multiline);
    private static readonly Regex OpenFence = new(@"^(?<indent>\s*)```(?<lang>csharp|cs|c#)\s*$", RegexOptions.IgnoreCase);
    private static readonly Regex AnyFence = new(@"^\s*```");

    /// <summary>The documents whose blocks are compiled: README.md and docs/*.md, in a fixed order.</summary>
    public static IReadOnlyList<string> Documents(string repoRoot)
    {
        var docs = new List<string>();
        if (File.Exists(Path.Combine(repoRoot, "README.md")))
            docs.Add("README.md");
        string dir = Path.Combine(repoRoot, "docs");
        if (Directory.Exists(dir))
            docs.AddRange(Directory.GetFiles(dir, "*.md").Select(f => "docs/" + Path.GetFileName(f)).OrderBy(f => f, StringComparer.Ordinal));
        return docs;
    }

    /// <summary>The C# blocks of one document (skipped ones included, with their reason).</summary>
    /// <exception cref="FormatException">A marker is unknown or has no reason, or a block is not closed.</exception>
    public static IReadOnlyList<DocSnippet> Extract(string document, string text)
    {
        text = text.Replace("\r\n", "\n");
        string? skipAll = null;
        foreach (Match m in DocumentMarker.Matches(text))
        {
            string reason = RequireSkip(document, m, "snippets");
            skipAll = reason;
        }

        var result = new List<DocSnippet>();
        string[] lines = text.Split('\n');
        string? lastNonBlank = null;
        int lastNonBlankLine = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            Match open = OpenFence.Match(line);
            if (!open.Success)
            {
                if (AnyFence.IsMatch(line))
                {
                    // Another language's block: skip to its end, so its content is never read as markers or fences.
                    int close = Array.FindIndex(lines, i + 1, l => l.Trim() == "```");
                    i = close < 0 ? lines.Length : close;
                    lastNonBlank = null;
                    continue;
                }
                if (line.Trim().Length > 0)
                {
                    lastNonBlank = line;
                    lastNonBlankLine = i + 1;
                }
                continue;
            }

            string indent = open.Groups["indent"].Value;
            int end = Array.FindIndex(lines, i + 1, l => l.Trim() == "```");
            if (end < 0)
                throw new FormatException($"{document}:{i + 1}: the ```{open.Groups["lang"].Value} block is never closed.");
            var code = new StringBuilder();
            for (int j = i + 1; j < end; j++)
            {
                string l = lines[j];
                code.Append(l.StartsWith(indent, StringComparison.Ordinal) ? l.Substring(indent.Length) : l.TrimStart()).Append('\n');
            }

            string? skip = skipAll;
            if (lastNonBlank != null)
            {
                Match m = Marker.Match(lastNonBlank);
                if (m.Success)
                    skip ??= RequireSkip($"{document}:{lastNonBlankLine}", m, "snippet");
                else if (lastNonBlank.Contains("snippet:", StringComparison.Ordinal) && lastNonBlank.Contains("<!--", StringComparison.Ordinal))
                    throw new FormatException($"{document}:{lastNonBlankLine}: cannot read the marker '{lastNonBlank.Trim()}' (write <!-- snippet: skip REASON -->).");
            }
            result.Add(new DocSnippet(document, i + 2, code.ToString(), skip));
            i = end;
            lastNonBlank = null;
        }
        return result;
    }

    private static string RequireSkip(string where, Match m, string word)
    {
        string kind = m.Groups["kind"].Value.TrimEnd(':');
        string reason = m.Groups["rest"].Value.Trim().TrimStart(':').Trim();
        if (kind != "skip")
            throw new FormatException($"{where}: unknown marker '<!-- {word}: {m.Groups["kind"].Value} ... -->': the only one is '<!-- {word}: skip REASON -->' (docs/building.md, \"C# in the documentation\").");
        if (reason.Length == 0)
            throw new FormatException($"{where}: '<!-- {word}: skip -->' needs a reason: '<!-- {word}: skip REASON -->'.");
        return reason;
    }

    /// <summary>The namespace the blocks of a document are compiled in: "README.md" → CnnGenDocs.README_md.</summary>
    public static string NamespaceOf(string document) =>
        "CnnGenDocs." + Regex.Replace(document, "[^A-Za-z0-9_]", "_");

    /// <summary>
    /// The C# file a block compiles as: its using directives, then in the document's namespace its type declarations
    /// and a class whose method holds its top-level statements; #line directives point every line back at the
    /// document, so a compiler error names the document and line.
    /// </summary>
    /// <exception cref="FormatException">The block does not parse as C#.</exception>
    public static string ToCompilationUnit(DocSnippet snippet, string? documentPath = null)
    {
        string path = (documentPath ?? snippet.Document).Replace("\\", "/");
        SyntaxTree tree = CSharpSyntaxTree.ParseText(snippet.Code, new CSharpParseOptions(LanguageVersion.Latest));
        Diagnostic[] errors = tree.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        if (errors.Length > 0)
        {
            throw new FormatException($"the C# block at {snippet.Where} does not parse:\n" + string.Join("\n", errors.Select(e =>
            {
                var p = e.Location.GetLineSpan().StartLinePosition;
                return $"  {snippet.Document}({snippet.Line + p.Line},{p.Character + 1}): {e.Id}: {e.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
            })));
        }

        CompilationUnitSyntax root = tree.GetCompilationUnitRoot();
        var sb = new StringBuilder();
        sb.Append("// The C# block at ").Append(snippet.Where).Append(" (tests/Package.Tests/DocSnippets.cs).\n");
        void Add(SyntaxNode node)
        {
            int line = tree.GetLineSpan(node.FullSpan).StartLinePosition.Line;
            sb.Append("#line ").Append(snippet.Line + line).Append(" \"").Append(path).Append("\"\n");
            string text = node.ToFullString();
            sb.Append(text);
            if (!text.EndsWith('\n'))
                sb.Append('\n');
        }

        foreach (ExternAliasDirectiveSyntax e in root.Externs) Add(e);
        foreach (UsingDirectiveSyntax u in root.Usings) Add(u);
        foreach (AttributeListSyntax a in root.AttributeLists) Add(a);

        var statements = root.Members.OfType<GlobalStatementSyntax>().ToList();
        var declarations = root.Members.Where(m => m is not GlobalStatementSyntax).ToList();
        bool fileScoped = declarations.Any(m => m is FileScopedNamespaceDeclarationSyntax);
        if (!fileScoped)
            sb.Append("#line hidden\nnamespace ").Append(NamespaceOf(snippet.Document)).Append("\n{\n");
        foreach (MemberDeclarationSyntax d in declarations) Add(d);
        if (statements.Count > 0)
        {
            // A top-level `return value;` (outside lambdas and local functions) makes the program return int.
            bool returnsValue = statements
                .SelectMany(s => s.DescendantNodes(n => n is not LocalFunctionStatementSyntax and not AnonymousFunctionExpressionSyntax))
                .OfType<ReturnStatementSyntax>().Any(r => r.Expression != null);
            sb.Append("#line hidden\ninternal static class Snippet_").Append(snippet.Line).Append("\n{\n")
              .Append("    internal static async global::System.Threading.Tasks.Task").Append(returnsValue ? "<int>" : "")
              .Append(" Run(string[] args)\n    {\n");
            foreach (GlobalStatementSyntax s in statements) Add(s);
            sb.Append("#line hidden\n");
            if (returnsValue)
                sb.Append("        return 0;\n");
            sb.Append("        await global::System.Threading.Tasks.Task.CompletedTask;\n    }\n}\n");
        }
        if (!fileScoped)
            sb.Append("#line hidden\n}\n");
        sb.Append("#line default\n");
        return sb.ToString();
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Package.Tests;

/// <summary>
/// Issue 17 end to end: a real editor host, csharp-ls (pinned in .config/dotnet-tools.json), over LSP stdio on a
/// consumer project that references the packed CnnGen package. An unsaved edit (didChange) introduces a shape error:
/// the CNN diagnostic must be published live on the attribute's line; the package's code fix must turn it into the
/// right value, and after that edit the diagnostic must go; hovering the model class must show the summary.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class EditorTests
{
    private const string Model = """
        [Model]
        [Input(1, 28, 28)]
        [Conv2d(1, 16, 3)]
        [ReLU]
        [MaxPool2d(2, Stride = 2, Padding = 1)]
        [Conv2d(16, 32, 3)]
        [ReLU]
        [MaxPool2d(2, Stride = 2, Padding = 1)]
        [Flatten]
        [Linear(7 * 7 * 32, 32)]
        [ReLU]
        [Dropout(0.3)]
        [Linear(32, 10)]
        public partial class MnistCnn { }
        """;

    private static readonly TimeSpan Load = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan Live = TimeSpan.FromSeconds(90);

    private readonly PackageFixture _package;
    private readonly ITestOutputHelper _output;

    public EditorTests(PackageFixture package, ITestOutputHelper output)
    {
        _package = package;
        _output = output;
    }

    [Fact]
    public void Csharp_ls_publishes_the_CNN_error_live_the_packed_fix_clears_it_and_hover_shows_the_summary()
    {
        string good = "using CnnGen;\n\nConsole.WriteLine(MnistCnn.Summary());\n\n" + Model.Replace("\r\n", "\n") + "\n";
        string bad = good.Replace("[Linear(7 * 7 * 32, 32)]", "[Linear(1000, 32)]", StringComparison.Ordinal);
        Assert.NotEqual(good, bad);
        int badLine = LineOf(bad, "[Linear(1000, 32)]");

        string dir = _package.CreateConsumer("EditorConsumer", good);
        var restore = DotNet.Run(dir, new[] { "restore", "-nodeReuse:false", "-v:minimal" }, _package.ConsumerEnvironment, TimeSpan.FromMinutes(4));
        Assert.True(restore.Succeeded, "restoring the consumer failed:\n" + restore);
        // CI runs in a fresh clone: the pinned csharp-ls comes from the tool manifest.
        var tool = DotNet.Run(_package.RepoRoot, new[] { "tool", "restore" }, null, TimeSpan.FromMinutes(4));
        Assert.True(tool.Succeeded, "dotnet tool restore (csharp-ls, .config/dotnet-tools.json) failed:\n" + tool);

        string uri = new Uri(Path.Combine(dir, "Program.cs")).AbsoluteUri;
        using var lsp = new LspClient(DotNet.Executable, new[] { "tool", "run", "csharp-ls", "--", "--loglevel", "info" }, _package.RepoRoot,
            _package.ConsumerEnvironment);
        // csharp-ls runs a project's analyzers only with this setting (it pulls it with workspace/configuration).
        lsp.Configuration["csharp"] = new JsonObject { ["analyzersEnabled"] = true };
        try
        {
            var init = lsp.Request("initialize", new JsonObject
            {
                ["processId"] = Environment.ProcessId,
                ["rootUri"] = new Uri(dir).AbsoluteUri,
                ["workspaceFolders"] = new JsonArray(new JsonObject { ["uri"] = new Uri(dir).AbsoluteUri, ["name"] = "EditorConsumer" }),
                ["capabilities"] = JsonNode.Parse("""
                    {
                      "workspace": { "configuration": true },
                      "textDocument": {
                        "synchronization": { "didSave": true },
                        "publishDiagnostics": {},
                        "hover": { "contentFormat": ["markdown", "plaintext"] },
                        "codeAction": { "codeActionLiteralSupport": { "codeActionKind": { "valueSet": ["", "quickfix", "refactor"] } },
                                        "resolveSupport": { "properties": ["edit"] } }
                      }
                    }
                    """),
            }, Load);
            Assert.NotNull(init?["capabilities"]);
            lsp.Notify("initialized", new JsonObject());
            lsp.Notify("textDocument/didOpen", new JsonObject
            {
                ["textDocument"] = new JsonObject { ["uri"] = uri, ["languageId"] = "csharp", ["version"] = 1, ["text"] = good },
            });
            // The correct model: no CNN error; the analyzer's layer hints show it ran.
            lsp.WaitForNotification("textDocument/publishDiagnostics",
                p => ForUri(p, uri) && Codes(p).Contains("CNN0090") && !CnnErrors(p).Any(), Load, "with CnnGen's layer hints for the saved, correct model");

            // (a) An unsaved edit: the error must be published on the offending attribute's line.
            lsp.Notify("textDocument/didChange", Change(uri, 2, bad));
            var published = lsp.WaitForNotification("textDocument/publishDiagnostics",
                p => ForUri(p, uri) && Codes(p).Contains("CNN0021"), Live, "with CNN0021 after the unsaved edit");
            var error = Diagnostics(published["params"]!).Single(d => (string?)d["code"] == "CNN0021");
            Assert.True((int)error["range"]!["start"]!["line"]! == badLine,
                $"CNN0021 published on line {(int)error["range"]!["start"]!["line"]!}, expected {badLine} ([Linear(1000, 32)]): {error.ToJsonString()}");
            Assert.Equal(1, (int)error["severity"]!);
            Assert.Contains("1568", (string)error["message"]!, StringComparison.Ordinal);

            // (b) The fix. csharp-ls 0.28.0 offers code actions only from Roslyn's built-in providers (for compiler
            // diagnostics), never a package's; so the fix is the one the packed CnnGen.CodeFixes.dll computes, as hosts
            // that load package fixes (Visual Studio, C# Dev Kit, Rider) offer it. Should csharp-ls offer it, its edit must agree.
            var (title, fixedText) = PackedCodeFix.Apply(Path.Combine(_package.PackagesDirectory, "cnngen", _package.PackageVersion), bad, "CNN0021");
            Assert.Equal("Change inFeatures to 1568", title);
            Assert.Equal(bad.Replace("[Linear(1000, 32)]", "[Linear(1568, 32)]", StringComparison.Ordinal), fixedText);
            var actions = lsp.Request("textDocument/codeAction", new JsonObject
            {
                ["textDocument"] = new JsonObject { ["uri"] = uri },
                ["range"] = error["range"]!.DeepClone(),
                ["context"] = new JsonObject { ["diagnostics"] = new JsonArray(error.DeepClone()) },
            }, Live);
            var offered = (actions as JsonArray ?? new JsonArray()).OfType<JsonObject>().ToList();
            _output.WriteLine("csharp-ls code actions at the CNN0021 range: " + (offered.Count == 0 ? "none" : string.Join(", ", offered.Select(a => (string?)a["title"]))));
            var ours = offered.FirstOrDefault(a => (string?)a["title"] == title);
            if (ours != null)
            {
                var resolved = ours["edit"] is null ? lsp.Request("codeAction/resolve", ours.DeepClone(), Live)!.AsObject() : ours;
                Assert.Equal(fixedText, ApplyWorkspaceEdit(bad, uri, resolved["edit"]!));
            }
            lsp.Notify("textDocument/didChange", Change(uri, 3, fixedText));
            lsp.WaitForNotification("textDocument/publishDiagnostics",
                p => ForUri(p, uri) && !CnnErrors(p).Any() && Messages(p).Any(m => m.StartsWith("Linear-7: [1568] → [32], 50,208 parameters", StringComparison.Ordinal)),
                Live, "without the CNN error (and with the fixed Linear's layer hint) after the fix");

            // (c) Hover over the model class: the generated summary.
            var classLine = LineOf(fixedText, "public partial class MnistCnn");
            var hover = lsp.Request("textDocument/hover", new JsonObject
            {
                ["textDocument"] = new JsonObject { ["uri"] = uri },
                ["position"] = new JsonObject { ["line"] = classLine, ["character"] = fixedText.Split('\n')[classLine].IndexOf("MnistCnn", StringComparison.Ordinal) + 2 },
            }, Live);
            string contents = hover?["contents"]?["value"]?.ToString() ?? hover?["contents"]?.ToJsonString() ?? "";
            _output.WriteLine("hover over MnistCnn:\n" + contents);
            Assert.True(contents.Contains("Linear-7", StringComparison.Ordinal) && contents.Contains("Total params: 55,338", StringComparison.Ordinal),
                "the hover over MnistCnn does not show the summary:\n" + contents);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException(e.GetType().Name + ": " + e.Message + (e.Message.Contains("server log", StringComparison.Ordinal) ? "" : "\nserver log:\n" + lsp.Log));
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException(e.Message + "\nserver log:\n" + lsp.Log);
        }
    }

    /// <summary>
    /// The analyzer reports the CNN errors in builds and the generator stays quiet, so each error shows once; with
    /// RunAnalyzers=false (CnnGen.targets then sets CnnGenGeneratorDiagnostics) the generator reports it instead, once.
    /// </summary>
    [Fact]
    public void A_build_reports_a_CNN_error_once_with_analyzers_and_once_without()
    {
        string bad = "using CnnGen;\n\nConsole.WriteLine(MnistCnn.Summary());\n\n" + Model.Replace("\r\n", "\n")
            .Replace("[Linear(7 * 7 * 32, 32)]", "[Linear(1000, 32)]", StringComparison.Ordinal) + "\n";
        string dir = _package.CreateConsumer("OnceConsumer", bad);
        foreach (var extra in new[] { Array.Empty<string>(), new[] { "-p:RunAnalyzers=false" } })
        {
            var args = new List<string> { "build", "-c", "Release", "-nodeReuse:false", "-v:minimal" };
            args.AddRange(extra);
            var build = DotNet.Run(dir, args, _package.ConsumerEnvironment, TimeSpan.FromMinutes(4));
            Assert.False(build.Succeeded, "the model with [Linear(1000, 32)] must not build:\n" + build);
            // The console logger lists each error as it happens and again in its summary, which counts them: "1 Error(s)".
            var errors = build.Output.Replace("\r\n", "\n").Split('\n').Where(l => l.Contains(": error ", StringComparison.Ordinal)).Distinct().ToList();
            var count = System.Text.RegularExpressions.Regex.Match(build.Output, @"^\s*(\d+) Error\(s\)", System.Text.RegularExpressions.RegexOptions.Multiline);
            Assert.True(errors.Count == 1 && errors[0].Contains("error CNN0021:", StringComparison.Ordinal) && count.Success && count.Groups[1].Value == "1",
                $"{string.Join(" ", extra)}: expected CNN0021 once and no other error, got:\n" + string.Join("\n", errors) + "\n" + build);
        }
    }

    private static JsonObject Change(string uri, int version, string text) => new()
    {
        ["textDocument"] = new JsonObject { ["uri"] = uri, ["version"] = version },
        ["contentChanges"] = new JsonArray(new JsonObject { ["text"] = text }),
    };

    private static bool ForUri(JsonNode p, string uri) => string.Equals((string?)p["uri"], uri, StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<JsonObject> Diagnostics(JsonNode p) => (p["diagnostics"] as JsonArray ?? new JsonArray()).OfType<JsonObject>();

    private static HashSet<string> Codes(JsonNode p) => Diagnostics(p).Select(d => d["code"]?.ToString() ?? "").ToHashSet();

    private static IEnumerable<string> Messages(JsonNode p) => Diagnostics(p).Select(d => (string?)d["message"] ?? "");

    private static IEnumerable<JsonObject> CnnErrors(JsonNode p) =>
        Diagnostics(p).Where(d => (d["code"]?.ToString() ?? "").StartsWith("CNN", StringComparison.Ordinal) && (int?)d["severity"] == 1);

    private static int LineOf(string text, string marker)
    {
        var lines = text.Split('\n');
        var hits = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains(marker, StringComparison.Ordinal)).ToList();
        Assert.True(hits.Count == 1, $"'{marker}' must be on exactly one line");
        return hits[0];
    }

    /// <summary>The text after a WorkspaceEdit's edits to <paramref name="uri"/> (changes or documentChanges form).</summary>
    private static string ApplyWorkspaceEdit(string text, string uri, JsonNode edit)
    {
        var edits = new List<JsonObject>();
        if (edit["changes"] is JsonObject changes)
        {
            foreach (var (key, value) in changes)
                if (string.Equals(key, uri, StringComparison.OrdinalIgnoreCase)) edits.AddRange((value as JsonArray ?? new JsonArray()).OfType<JsonObject>());
        }
        foreach (var dc in (edit["documentChanges"] as JsonArray ?? new JsonArray()).OfType<JsonObject>())
        {
            if (string.Equals((string?)dc["textDocument"]?["uri"], uri, StringComparison.OrdinalIgnoreCase))
                edits.AddRange((dc["edits"] as JsonArray ?? new JsonArray()).OfType<JsonObject>());
        }
        var starts = new List<int> { 0 };
        for (int i = 0; i < text.Length; i++) if (text[i] == '\n') starts.Add(i + 1);
        int Offset(JsonNode pos) => starts[(int)pos["line"]!] + (int)pos["character"]!;
        foreach (var e in edits.OrderByDescending(e => Offset(e["range"]!["start"]!)))
        {
            int from = Offset(e["range"]!["start"]!), to = Offset(e["range"]!["end"]!);
            text = text[..from] + (string)e["newText"]! + text[to..];
        }
        return text;
    }
}

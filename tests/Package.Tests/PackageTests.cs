using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace CnnGen.Package.Tests;

/// <summary>
/// The CnnGen NuGet package as a user gets it (DESIGN.md, "Public contract" and "Packaging"):
/// one PackageReference gives the attributes, the runtime and the generator.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class PackageTests
{
    // The DESIGN.md model, as a user would paste it.
    private const string MnistCnnModel = """
        [Model]
        [Input(1, 28, 28)]                          // channels, height, width (one sample)
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

    // DESIGN.md: "For the model above, MnistCnn.Summary() is exactly:" (torchsummary's output).
    private const string ExpectedSummary = """
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Conv2d-1           [-1, 16, 26, 26]             160
                      ReLU-2           [-1, 16, 26, 26]               0
                 MaxPool2d-3           [-1, 16, 14, 14]               0
                    Conv2d-4           [-1, 32, 12, 12]           4,640
                      ReLU-5           [-1, 32, 12, 12]               0
                 MaxPool2d-6             [-1, 32, 7, 7]               0
                    Linear-7                   [-1, 32]          50,208
                      ReLU-8                   [-1, 32]               0
                   Dropout-9                   [-1, 32]               0
                   Linear-10                   [-1, 10]             330
        ================================================================
        Total params: 55,338
        Trainable params: 55,338
        Non-trainable params: 0
        ----------------------------------------------------------------
        Input size (MB): 0.00
        Forward/backward pass size (MB): 0.27
        Params size (MB): 0.21
        Estimated Total Size (MB): 0.49
        ----------------------------------------------------------------
        """;

    private const string SummaryStart = "<<<CNNGEN-SUMMARY";
    private const string SummaryEnd = "CNNGEN-SUMMARY>>>";

    private readonly PackageFixture _package;

    public PackageTests(PackageFixture package) => _package = package;

    [Fact]
    public void Package_has_the_documented_layout_and_bundles_its_own_projects()
    {
        using ZipArchive zip = ZipFile.OpenRead(_package.NupkgPath);
        string[] entries = zip.Entries.Select(e => e.FullName.Replace('\\', '/')).ToArray();
        string listing = string.Join("\n", entries.OrderBy(e => e, StringComparer.Ordinal));

        foreach (string expected in new[]
        {
            "lib/net10.0/CnnGen.Runtime.dll",
            "lib/net10.0/CnnGen.Attributes.dll",
            "analyzers/dotnet/cs/CnnGen.Generator.dll",
            "analyzers/dotnet/cs/CnnGen.CodeFixes.dll",
            "build/CnnGen.props",
            "buildTransitive/CnnGen.props",
        })
        {
            Assert.True(entries.Contains(expected), $"{expected} missing from {Path.GetFileName(_package.NupkgPath)}:\n{listing}");
        }
        // The generator is an analyzer only: never a compile reference of the consumer.
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.EndsWith("CnnGen.Generator.dll", StringComparison.Ordinal));

        ZipArchiveEntry nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase));
        XDocument nuspec;
        using (Stream s = nuspecEntry.Open())
        {
            nuspec = XDocument.Load(s);
        }
        Assert.Equal(PackageFixture.PackageId, nuspec.Descendants().Single(e => e.Name.LocalName == "id").Value);
        string[] dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => (string?)e.Attribute("id") ?? "").ToArray();
        Assert.DoesNotContain(dependencies, d => d.StartsWith("CnnGen", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Consumer_with_one_PackageReference_gets_the_generated_Summary_and_ParameterCount()
    {
        string program = $$"""
            using System;
            using CnnGen;

            Console.WriteLine("{{SummaryStart}}");
            Console.Write(MnistCnn.Summary());
            Console.WriteLine();
            Console.WriteLine("{{SummaryEnd}}");
            Console.WriteLine("ParameterCount=" + MnistCnn.ParameterCount);

            {{MnistCnnModel}}

            """;
        string dir = _package.CreateConsumer("GoodConsumer", program);

        ProcessResult build = _package.BuildConsumer(dir);
        Assert.True(build.Succeeded, "the consumer must build:\n" + build);
        // The generator must load and run in the consumer's compiler (CS8032: analyzer could not be
        // created; CS8784/CS8785: generator failed to initialize / to generate).
        Assert.DoesNotMatch(new Regex(@"\b(CS8032|CS8784|CS8785)\b"), build.Output);

        ProcessResult run = _package.RunConsumer(dir, "GoodConsumer");
        Assert.True(run.Succeeded, "the consumer must run:\n" + run);

        string stdout = Normalize(run.Output);
        string expected = Normalize(ExpectedSummary);
        Assert.Contains(expected, stdout);

        // Nothing but the table between the markers (one trailing newline in Summary() is fine).
        int start = stdout.IndexOf(SummaryStart + "\n", StringComparison.Ordinal);
        int end = stdout.IndexOf("\n" + SummaryEnd, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "summary markers missing:\n" + stdout);
        string printed = stdout.Substring(start + SummaryStart.Length + 1, end - start - SummaryStart.Length - 1).TrimEnd('\n');
        Assert.Equal(expected, printed);

        Assert.Contains("ParameterCount=55338\n", stdout);
    }

    [Fact]
    public void Consumer_with_a_shape_error_fails_to_build_with_a_CNN_error_on_the_offending_attribute()
    {
        string model = MnistCnnModel.Replace("[Linear(7 * 7 * 32, 32)]", "[Linear(1000, 32)]", StringComparison.Ordinal);
        Assert.NotEqual(MnistCnnModel, model);
        string program = $$"""
            using System;
            using CnnGen;

            Console.WriteLine("this program must not build");

            {{model}}

            """;
        // 1-based line of the offending attribute, as the compiler reports it.
        string[] lines = program.Replace("\r\n", "\n").Split('\n');
        int expectedLine = Array.FindIndex(lines, l => l.Contains("[Linear(1000, 32)]", StringComparison.Ordinal)) + 1;
        Assert.True(expectedLine > 0);

        string dir = _package.CreateConsumer("BadConsumer", program);
        ProcessResult build = _package.BuildConsumer(dir);
        Assert.False(build.Succeeded, "a Linear(1000, 32) after a [32, 7, 7] feature map must not build:\n" + build);

        // e.g. /tmp/.../Program.cs(14,2): error CNN0003: Linear-7 expects 1000 input features, but receives 1568 (...) [/tmp/.../BadConsumer.csproj]
        var diagnostic = new Regex(@"Program\.cs\((?<line>\d+),(?<col>\d+)(?:,\d+,\d+)?\): error (?<id>[A-Za-z]+\d*): (?<message>.*)$", RegexOptions.Multiline);
        var errors = diagnostic.Matches(Normalize(build.Output))
            .Select(m => (Line: int.Parse(m.Groups["line"].Value), Id: m.Groups["id"].Value, Message: m.Groups["message"].Value))
            .ToList();
        var cnnErrors = errors.Where(e => e.Id.StartsWith("CNN", StringComparison.Ordinal)).ToList();
        Assert.True(cnnErrors.Count > 0, "expected an error CNNxxxx in Program.cs:\n" + build);

        var onAttribute = cnnErrors.Where(e => e.Line == expectedLine).ToList();
        Assert.True(onAttribute.Count > 0,
            $"expected a CNN error on line {expectedLine} ([Linear(1000, 32)]), got:\n" +
            string.Join("\n", cnnErrors.Select(e => $"  line {e.Line}: {e.Id}: {e.Message}")) + "\n" + build);
        Assert.Contains(onAttribute, e => e.Message.Contains("1000", StringComparison.Ordinal) && e.Message.Contains("1568", StringComparison.Ordinal));
    }

    private static string Normalize(string s) => s.Replace("\r\n", "\n", StringComparison.Ordinal);
}

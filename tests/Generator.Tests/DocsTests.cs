using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>docs/diagnostics.md documents every diagnostic the generator can report.</summary>
    public class DocsTests
    {
        /// <summary>
        /// The repository root: the first directory holding CnnGen.sln, walking up from this source file
        /// (the test binaries may live outside the repo, e.g. with --artifacts-path), then from the working
        /// directory and the test binaries.
        /// </summary>
        internal static string RepoRoot([CallerFilePath] string callerFile = "")
        {
            foreach (string? start in new[] { Path.GetDirectoryName(callerFile), Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            {
                for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir != null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "CnnGen.sln"))) return dir.FullName;
                }
            }
            throw new InvalidOperationException("CnnGen.sln not found above " + callerFile);
        }

        private static string Doc() => File.ReadAllText(Path.Combine(RepoRoot(), "docs", "diagnostics.md")).Replace("\r\n", "\n");

        /// <summary>The text of the "## CNNxxxx" section, up to the next "## " heading.</summary>
        private static string Section(string doc, string id)
        {
            var m = Regex.Match(doc, "^## " + id + "\\b.*?(?=^## |\\z)", RegexOptions.Multiline | RegexOptions.Singleline);
            Assert.True(m.Success, $"docs/diagnostics.md has no '## {id}' section");
            return m.Value;
        }

        [Fact]
        public void EveryDiagnosticHasASection()
        {
            string doc = Doc();
            foreach (var d in Diagnostics.All)
            {
                Assert.Matches(new Regex("^## " + d.Id + "\\b", RegexOptions.Multiline), doc);
            }
        }

        [Fact]
        public void EverySectionNamesTheTitleAndHasAWrongAndARightExample()
        {
            string doc = Doc();
            foreach (var d in Diagnostics.All)
            {
                string section = Section(doc, d.Id);
                string title = d.Title.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(section.Split('\n')[0].Contains(title, StringComparison.Ordinal), $"{d.Id}: heading should carry the title '{title}'");
                Assert.True(Regex.Matches(section, "```csharp").Count >= 2, $"{d.Id}: needs a wrong and a right C# example");
                Assert.True(section.Contains("Wrong", StringComparison.Ordinal) && section.Contains("Right", StringComparison.Ordinal), $"{d.Id}: label the examples Wrong / Right");
                // The message format, with its placeholders, is quoted so users can search for it.
                string format = d.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(section.Contains(format, StringComparison.Ordinal), $"{d.Id}: quote the message format '{format}'");
            }
        }

        /// <summary>The ```csharp blocks of a section, in order.</summary>
        private static string[] CSharpBlocks(string section) =>
            Regex.Matches(section, "^```csharp\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToArray();

        [Fact]
        public void ExamplesDoWhatTheySay()
        {
            // The first C# block of each section is the wrong example: it must report the ID with the quoted
            // message at an attribute or class line of the example. The last one is the right example: it must
            // compile with no error and no CNN diagnostic.
            string doc = Doc();
            foreach (var d in Diagnostics.All)
            {
                string section = Section(doc, d.Id);
                var blocks = CSharpBlocks(section);
                Assert.True(blocks.Length >= 2, d.Id + ": needs a wrong and a right example");
                var reported = Regex.Match(section, "^Reported: `(.*)`$", RegexOptions.Multiline);
                Assert.True(reported.Success, d.Id + ": quote the message the wrong example reports, as 'Reported: `...`'");

                // Weights diagnostics: ```safetensors blocks describe the AdditionalFiles of the wrong (first) and the
                // right (last) example.
                var files = SafeTensorsBlocks(section);
                string wrong = blocks[0];
                var r = d.Id == "CNN0008" ? DiagnosticTests.RunWithoutUnsafe(wrong)
                    : files.Length > 0 ? WeightsTests.Run(wrong, Files(files[0])) : GeneratorHarness.Run(wrong);
                DiagnosticTests.AssertNoGeneratorFailure(r);
                var hit = r.Cnn.FirstOrDefault(x => x.Id == d.Id);
                Assert.True(hit != null, $"{d.Id}: the wrong example does not report it; got: {string.Join("; ", r.Cnn)}");
                Assert.Equal(reported.Groups[1].Value, hit!.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
                int line = hit.Location.GetLineSpan().StartLinePosition.Line;
                string lineText = wrong.Split('\n')[line];
                Assert.True(lineText.TrimStart().StartsWith("[", StringComparison.Ordinal) || lineText.Contains(" class ", StringComparison.Ordinal),
                    $"{d.Id}: reported on line {line + 1} '{lineText}', not an attribute or class line");

                string right = blocks[blocks.Length - 1];
                var ok = files.Length > 0 ? WeightsTests.Run(right, Files(files[files.Length - 1])) : GeneratorHarness.Run(right);
                DiagnosticTests.AssertNoGeneratorFailure(ok);
                Assert.True(!ok.Errors.Any() && !ok.Cnn.Any(), $"{d.Id}: the right example has errors:\n" + string.Join("\n", ok.Errors.Concat(ok.Cnn)));
            }
        }

        private static string[] SafeTensorsBlocks(string section) =>
            Regex.Matches(section, "^```safetensors\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToArray();

        /// <summary>
        /// The AdditionalFiles a ```safetensors block describes, one per "file: NAME" line (the encoded form
        /// CnnGen.targets writes), followed by its tensors as "KEY DTYPE [SHAPE]" lines (values made up);
        /// "file: NAME (truncated by N bytes)" cuts the file short; a tensor line ending in " NaN" starts with a NaN;
        /// "raw file: NAME" is an item the build step did not encode; "missing file: NAME" is the marker the build step
        /// writes for an item whose file does not exist; "(none)" means no .safetensors AdditionalFiles at all.
        /// </summary>
        private static Microsoft.CodeAnalysis.AdditionalText[] Files(string block)
        {
            var result = new System.Collections.Generic.List<Microsoft.CodeAnalysis.AdditionalText>();
            string? name = null;
            int truncate = 0;
            var tensors = new System.Collections.Generic.List<WeightsTests.Tensor>();
            void Flush()
            {
                if (name is null) return;
                result.Add(WeightsTests.Encoded(name, WeightsTests.SafeTensorsBytes(tensors, truncate)));
                name = null;
                tensors.Clear();
            }
            foreach (string raw in block.Split('\n'))
            {
                string line = raw.Trim();
                if (line.Length == 0 || line == "(none)") continue;
                Match m;
                if ((m = Regex.Match(line, @"^missing file: (\S+)$")).Success)
                {
                    Flush();
                    result.Add(WeightsTests.Missing(m.Groups[1].Value, "/project/" + m.Groups[1].Value));
                }
                else if ((m = Regex.Match(line, @"^raw file: (\S+)$")).Success)
                {
                    Flush();
                    result.Add(new WeightsTests.Unreadable("/project/" + m.Groups[1].Value));
                }
                else if ((m = Regex.Match(line, @"^file: (\S+)(?: \(truncated by (\d+) bytes\))?$")).Success)
                {
                    Flush();
                    name = m.Groups[1].Value;
                    truncate = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
                }
                else if ((m = Regex.Match(line, @"^(\S+) (F32|F64|F16|BF16|I64) \[([0-9, ]*)\]( NaN)?$")).Success && name != null)
                {
                    long[] shape = m.Groups[3].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
                    long count = shape.Aggregate(1L, (a, b) => a * b);
                    int size = m.Groups[2].Value switch { "F32" => 4, "F64" => 8, "I64" => 8, _ => 2 };
                    var data = new byte[count * size];
                    for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 37 % 61); // small finite values
                    if (m.Groups[4].Success) BitConverter.TryWriteBytes(data.AsSpan(0, 4), float.NaN); // " NaN": the first value is NaN
                    tensors.Add(new WeightsTests.Tensor(m.Groups[1].Value, m.Groups[2].Value, shape, data));
                }
                else
                {
                    throw new InvalidOperationException("cannot read the ```safetensors line '" + line + "'");
                }
            }
            Flush();
            return result.ToArray();
        }

        [Fact]
        public void NoSectionForAnUnknownId()
        {
            var ids = Diagnostics.All.Select(d => d.Id).ToHashSet();
            foreach (Match m in Regex.Matches(Doc(), "^## (CNN[0-9]{4})", RegexOptions.Multiline))
            {
                Assert.Contains(m.Groups[1].Value, ids);
            }
        }
    }
}

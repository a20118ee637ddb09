using System;
using System.Linq;
using CnnGen.Generator.Emit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Readable generated code (issue 14): no generated line over <see cref="LineWrap.MaxLength"/> characters, and the
    /// wrapping never changes what the code means (same tokens, nothing split inside a literal, comments kept).
    /// </summary>
    public class LineWrapTests
    {
        [Theory]
        [MemberData(nameof(UnusedGeneratedMethodTests.Sources), MemberType = typeof(UnusedGeneratedMethodTests))]
        public void NoGeneratedLineIsLongerThanTheLimit(string which)
        {
            var r = GeneratorHarness.Run(UnusedGeneratedMethodTests.Load(which));
            var generated = r.Run.Results.SelectMany(x => x.GeneratedSources).ToList();
            Assert.NotEmpty(generated);
            foreach (var g in generated)
            {
                var lines = g.SourceText.ToString().Split('\n');
                for (int i = 0; i < lines.Length; i++)
                {
                    if (lines[i].Length > LineWrap.MaxLength)
                        Assert.Fail($"{g.HintName} line {i + 1} has {lines[i].Length} characters: {lines[i].Substring(0, 120)}...");
                }
            }
        }

        /// <summary>The tokens of <paramref name="code"/> (what the compiler reads) and its comments' words.</summary>
        private static string[] Tokens(string code) =>
            SyntaxFactory.ParseTokens(code).Select(t => t.Text).Where(t => t.Length > 0).ToArray();

        private static string Words(string code) =>
            string.Join(" ", CSharpSyntaxTree.ParseText(code).GetRoot().DescendantTrivia()
                .Where(t => t.IsKind(SyntaxKind.SingleLineCommentTrivia) || t.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia))
                .SelectMany(t => t.ToFullString().Split(new[] { ' ', '\n', '/' }, StringSplitOptions.RemoveEmptyEntries)));

        private static string Wrapped(string indent, string line) => string.Join("\n", LineWrap.Wrap(indent, line));

        [Fact]
        public void ALongArgumentListBreaksAfterCommasAndKeepsItsTokens()
        {
            string line = "Vector512<float> " + string.Join(", ", Enumerable.Range(0, 40).Select(i => $"a{i}_0 = Vector512.Load(p + {16 * i})")) + ";";
            string wrapped = Wrapped("            ", line);
            var lines = wrapped.Split('\n');
            Assert.True(lines.Length > 2);
            Assert.All(lines, l => Assert.True(l.Length <= LineWrap.MaxLength, l));
            Assert.All(lines.Skip(1), l => Assert.StartsWith("                ", l)); // one level deeper
            Assert.Equal(Tokens(line), Tokens(wrapped));
        }

        [Fact]
        public void StringLiteralsAreNeverSplitEvenWhenTheyHoldCommas()
        {
            string text = string.Join(", ", Enumerable.Range(0, 60).Select(i => "w" + i));
            foreach (string literal in new[] { "\"" + text + "\"", "@\"" + text + " \"\" q\"", "$\"{a, 5} " + text + " {F(\"x, y\")}\"" })
            {
                string line = "throw new System.ArgumentException(" + literal + ", nameof(x), " + literal + ");";
                string wrapped = Wrapped("", line);
                Assert.Equal(Tokens(line), Tokens(wrapped));
                foreach (var token in SyntaxFactory.ParseTokens(wrapped).Where(t => t.IsKind(SyntaxKind.StringLiteralToken) || t.IsKind(SyntaxKind.InterpolatedStringStartToken)))
                {
                    Assert.DoesNotContain("\n", token.Text);
                }
                Assert.Contains(literal, wrapped); // each literal whole, on one line
            }
        }

        [Fact]
        public void ATrailingCommentMovesAboveItsCodeAndCommentsWrapBetweenWords()
        {
            string code = "float* a = Align(a0), " + string.Join(", ", Enumerable.Range(0, 12).Select(i => $"b{i} = Align(b{i}0)")) + ";";
            string comment = "// " + string.Join(" ", Enumerable.Range(0, 40).Select(i => "word" + i));
            string wrapped = Wrapped("        ", code + " " + comment);
            var lines = wrapped.Split('\n');
            Assert.All(lines, l => Assert.True(l.Length <= LineWrap.MaxLength, l));
            Assert.StartsWith("        // word0", lines[0]);
            Assert.Equal(Tokens(code), Tokens(wrapped));
            Assert.Equal(Words(comment), Words(wrapped));

            string doc = "/// <summary>" + string.Join(" ", Enumerable.Range(0, 50).Select(i => "doc" + i)) + "</summary>";
            var docLines = LineWrap.Wrap("    ", doc);
            Assert.True(docLines.Count > 1);
            Assert.All(docLines, l => Assert.StartsWith("    /// ", l));
            Assert.Equal(doc.Substring(3).Trim(), string.Join(" ", docLines.Select(l => l.Trim().Substring(3).Trim())));
        }

        [Fact]
        public void ShortLinesPreprocessorLinesAndUnbreakableLinesStayAsTheyAre()
        {
            Assert.Equal(new[] { "    int x = 1;" }, LineWrap.Wrap("    ", "int x = 1;"));
            string directive = "#pragma warning disable " + string.Join(" ", Enumerable.Range(0, 60).Select(i => "CS" + i));
            Assert.Equal(new[] { directive }, LineWrap.Wrap("", directive));
            string unbreakable = "x = " + new string('a', 300) + ";";
            Assert.Equal(new[] { unbreakable }, LineWrap.Wrap("", unbreakable));
        }
    }
}

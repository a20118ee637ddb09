using System;
using System.Linq;
using System.Reflection;
using CnnGen.Generator.Emit;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>How values become generated text: user strings escaped once (Text.Str), floats formatted once (Text.Float), short intrinsics names.</summary>
    public class GeneratedTextTests
    {
        [Theory]
        [InlineData(1e-5, "1E-05f")]
        [InlineData(0.1, "0.1f")]
        [InlineData(0.01, "0.01f")]
        [InlineData(1.0, "1f")]
        [InlineData(-0.0, "-0f")]
        [InlineData(double.NaN, "float.NaN")]
        [InlineData(double.PositiveInfinity, "float.PositiveInfinity")]
        [InlineData(double.NegativeInfinity, "float.NegativeInfinity")]
        [InlineData(1e300, "float.PositiveInfinity")] // beyond float: what (float)v is
        public void FloatConstantsAreExactAndNeverInfinityf(double value, string literal) => Assert.Equal(literal, Text.Float(value));

        [Theory]
        [InlineData(0.1f)]
        [InlineData(1e-45f)]
        [InlineData(3.4028235e38f)]
        [InlineData(0.33333334f)]
        public void FloatLiteralsReadBackAsTheSameFloat(float value)
        {
            foreach (var text in new[] { Text.Float(value), Text.FloatData(value) })
                Assert.Equal(value, float.Parse(text.TrimEnd('f'), System.Globalization.CultureInfo.InvariantCulture));
        }

        [Theory]
        [InlineData("plain", "\"plain\"")]
        [InlineData("a\"b", "\"a\\\"b\"")]
        [InlineData("a\\b", "\"a\\\\b\"")]
        [InlineData("a\nb\r\t\0", "\"a\\nb\\r\\t\\0\"")]
        [InlineData("a\u2028b", "\"a\\u2028b\"")]
        public void StringLiteralsEscapeEverythingThatCouldEndThem(string value, string literal) => Assert.Equal(literal, Text.Str(value));

        /// <summary>A layer Name and a block ModuleName with quotes, backslashes and line breaks reach the keys and summaries intact, and inject nothing.</summary>
        [Fact]
        public void UserStringsWithQuotesAndLineBreaksCannotInjectCode()
        {
            const string name = "evil\\\"); throw null; //\\n}";   // C# source text of: evil\"); throw null; //\n}
            const string module = "Mod\\\"ule\\r\\n// x";
            string src = Models.Model($"    [Input(2, 6, 6)]\n    [Conv2d(2, 8, 3, Name = \"{name}\")]\n    [ReLU]\n    [Residual(typeof(B), Name = \"r\")]\n    [Flatten]\n    [Linear(128, 2)]")
                .Replace("namespace T\n{", "namespace T\n{\n    [Block(ModuleName = \"" + module + "\")]\n    [Conv2d(8, 8, 3, Padding = 1)]\n    public partial class B { }\n");
            var r = GeneratorHarness.Run(src);
            if (r.Cnn.Any()) return; // a stricter parser may reject such names: then nothing is generated from them
            Assert.Empty(r.Errors);
            var asm = GeneratorHarness.Load(r);
            var model = Activator.CreateInstance(asm.GetType("T.M")!, 0)!;
            var slots = (Array)model.GetType().GetProperty("ParameterSlots")!.GetValue(model)!;
            var keys = slots.Cast<object>().Select(s => (string)s.GetType().GetProperty("Key")!.GetValue(s)!).ToList();
            Assert.Contains("evil\"); throw null; //\n}.weight", keys);
            string summary = (string)GeneratorHarness.CallStatic(asm, "T.M", "Summary", -1)!;
            Assert.Contains("Mod\"ule", summary);
        }

        /// <summary>The intrinsics are named short: global::System.Runtime.Intrinsics. is at most 5% of the generated characters.</summary>
        [Fact]
        public void TheIntrinsicsPrefixIsAtMostFivePercentOfTheGeneratedCode()
        {
            foreach (var source in new[] { Models.Mnist, Issue6Tests.LeafLayers })
            {
                string g = GeneratorHarness.Run(source).GeneratedSource;
                const string prefix = "global::System.Runtime.Intrinsics.";
                int count = 0;
                for (int at = g.IndexOf(prefix, StringComparison.Ordinal); at >= 0; at = g.IndexOf(prefix, at + 1, StringComparison.Ordinal)) count++;
                double share = (double)count * prefix.Length / g.Length;
                Assert.True(share <= 0.05, $"{share:P1} of the generated characters are the intrinsics prefix");
            }
        }
    }
}

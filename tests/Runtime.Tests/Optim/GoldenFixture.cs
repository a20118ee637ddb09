using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    /// <summary>Reads the JSON golden files written by tools/golden/make_optim_loss_golden.py (PyTorch 1.13).</summary>
    internal static class GoldenFixture
    {
        public static JsonDocument Load(params string[] relative)
        {
            string path = Path.Combine(new[] { AppContext.BaseDirectory, "Fixtures" }.Concat(relative).ToArray());
            Assert.True(File.Exists(path), $"Missing golden fixture {path}");
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }

        public static float[] Floats(JsonElement e) => e.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();

        public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

        public static JsonElement Case(JsonDocument doc, string name) =>
            doc.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

        public static float F(JsonElement c, string name, float fallback)
            => c.TryGetProperty(name, out JsonElement v) ? (float)v.GetDouble() : fallback;

        public static bool B(JsonElement c, string name)
            => c.TryGetProperty(name, out JsonElement v) && v.GetBoolean();

        /// <summary>
        /// Asserts |actual - expected| &lt;= atol + rtol * |expected| element-wise; returns the largest absolute difference.
        /// </summary>
        public static double AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
        {
            Assert.Equal(expected.Length, actual.Length);
            double maxDiff = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                double d = Math.Abs((double)actual[i] - expected[i]);
                maxDiff = Math.Max(maxDiff, d);
                Assert.True(d <= atol + rtol * Math.Abs(expected[i]),
                    $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (diff {d:E3}, allowed {atol + rtol * Math.Abs(expected[i]):E3})");
            }
            return maxDiff;
        }
    }
}

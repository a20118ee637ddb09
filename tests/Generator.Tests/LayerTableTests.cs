using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Parsing;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>The capability table: one row per layer kind, and the emitters ask it instead of keeping lists of kinds.</summary>
    public class LayerTableTests
    {
        [Fact]
        public void EveryLayerKindHasExactlyOneRow()
        {
            foreach (LayerKind k in Enum.GetValues(typeof(LayerKind)))
            {
                Assert.Equal(1, LayerTable.Rows.Count(r => r.Kind == k));
                Assert.Equal(k, LayerTable.Of(k).Kind);
            }
            Assert.Equal(Enum.GetValues(typeof(LayerKind)).Length, LayerTable.Rows.Count);
        }

        [Fact]
        public void RowsAreConsistent()
        {
            foreach (var r in LayerTable.Rows)
            {
                if (r.ElementWise) Assert.True(r.InPlace && r.ChannelsLast, $"{r.Kind}: element-wise kinds run in place and in any layout");
                if (r.Role != KindRole.Layer) Assert.False(r.ElementWise || r.ChannelsLast || r.InPlace || r.SkippedAtInference, r.Kind.ToString());
                if (r.Role == KindRole.Layer) Assert.True(r.HasRow, $"{r.Kind}: a layer that runs code has a summary row");
                Assert.False(string.IsNullOrEmpty(r.TorchName));
            }
        }

        private static string Emit([CallerFilePath] string file = "") =>
            Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", "..", "src", "Generator", "Emit"));

        /// <summary>
        /// No emitter keeps a list of kinds of its own: an expression that tests three or more kinds with || (or a
        /// pattern that matches three or more with or) belongs in the table.
        /// </summary>
        [Fact]
        public void NoEmitterListsKindsOfItsOwn()
        {
            var list = new Regex(@"LayerKind\.\w+(\s*(\|\||or)\s*(\w+\s*==\s*)?LayerKind\.\w+){2,}");
            foreach (var file in Directory.GetFiles(Emit(), "*.cs", SearchOption.AllDirectories))
            {
                if (Path.GetFileName(file) == "LayerTable.cs") continue;
                var text = File.ReadAllText(file);
                var hit = list.Match(text);
                Assert.False(hit.Success, $"{Path.GetFileName(file)} lists layer kinds: {hit.Value}");
            }
        }
    }
}

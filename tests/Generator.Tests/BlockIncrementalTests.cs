using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// [Block] classes are a pipeline input of their own (ModelGenerator.Steps.Blocks), combined with every model:
    /// editing a block in another file regenerates the model that uses it; an unrelated edit regenerates nothing.
    /// </summary>
    public class BlockIncrementalTests
    {
        private const string Model = @"using CnnGen;
namespace T
{
    [Model]
    [Input(8, 8, 8)]
    [Residual(typeof(Body), ReLU = true, Name = ""layer1.0"")]
    public partial class M { }
}
";

        private const string Block = @"using CnnGen;
namespace T
{
    [Block]
    [Conv2d(8, 8, 3, Padding = 1, Bias = false)]
    [BatchNorm2d(8)]
    public partial class Body { }
}
";

        private static SyntaxTree Tree(string text, string path) => CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path: path);

        private static string Generated(GeneratorDriver driver) =>
            driver.GetRunResult().Results.Single().GeneratedSources.Single().SourceText.ToString();

        [Fact]
        public void EditingABlockInAnotherFileRegeneratesTheModel()
        {
            var blockTree = Tree(Block, "Body.cs");
            var compilation = GeneratorHarness.CreateCompilation(Model).AddSyntaxTrees(blockTree);
            var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
            Assert.Contains("public const int ParameterCount = 592;", Generated(driver)); // 8·8·9 + 2·8

            // Unrelated edit: nothing recomputed.
            var unrelated = compilation.AddSyntaxTrees(Tree("namespace Other { public sealed class U { } }", "U.cs"));
            var again = driver.RunGenerators(unrelated);
            var reasons = again.GetRunResult().Results.Single().TrackedSteps[ModelGenerator.Steps.Infer].SelectMany(s => s.Outputs).Select(o => o.Reason);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));

            // The block gains a bias: the model (in another file) is regenerated with the new count.
            var edited = compilation.ReplaceSyntaxTree(blockTree, Tree(Block.Replace("Bias = false", "Bias = true"), "Body.cs"));
            var next = driver.RunGenerators(edited);
            var infer = next.GetRunResult().Results.Single().TrackedSteps[ModelGenerator.Steps.Infer].SelectMany(s => s.Outputs).Select(o => o.Reason);
            Assert.Contains(IncrementalStepRunReason.Modified, infer);
            Assert.Contains("public const int ParameterCount = 600;", Generated(next));
        }
    }
}

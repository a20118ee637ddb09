using System.IO;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// KerasSummary() of models with residual and squeeze-excitation blocks: the table tf.keras 2.x prints for the functional
    /// model of the same structure. The goldens are written by tools/golden/keras_functional_summary.py, which restates
    /// Keras' print_summary and graph ordering (its docstring lists the rules) on Keras models built by hand.
    /// </summary>
    public class KerasFunctionalSummaryTests
    {
        private static string Golden(string file) =>
            File.ReadAllText(Path.Combine(DocsTests.RepoRoot(), "tests", "Generator.Tests", "Golden", file)).Replace("\r\n", "\n");

        private static string KerasSummary(string source, string type = "T.M")
        {
            var r = GeneratorHarness.Run(source);
            Assert.Empty(r.Errors);
            Assert.Empty(r.Cnn);
            return (string)GeneratorHarness.CallStatic(GeneratorHarness.Load(r), type, "KerasSummary")!;
        }

        [Fact]
        public void Residual()
        {
            // keras_functional_summary.py residual(): the projection shortcut's layers interleave with the body's of the same depth
            // (conv2d_2, conv2d_3, batch_normalization_1, batch_normalization_2), as Keras' ResNet50 summary interleaves its
            // blocks' 0_conv and 3_conv, then 0_bn and 3_bn.
            string source = @"using CnnGen;
namespace T
{
    [Block]
    [Conv2d(4, 8, 3, Stride = 2, Padding = 1)]
    [BatchNorm2d(8)]
    [ReLU]
    [Conv2d(8, 8, 3, Padding = 1)]
    [BatchNorm2d(8)]
    public partial class Body { }

    [Block]
    [Conv2d(4, 8, 1, Stride = 2)]
    [BatchNorm2d(8)]
    public partial class Projection { }

    [Model]
    [Input(3, 8, 8)]
    [Conv2d(3, 4, 3, Padding = 1)]
    [Residual(typeof(Body), Shortcut = typeof(Projection), ReLU = true)]
    [Flatten]
    [Linear(128, 2)]
    public partial class M { }
}
";
            Assert.Equal(Golden("keras_residual.summary.txt"), KerasSummary(source));
        }

        [Fact]
        public void SqueezeExcitation()
        {
            // keras_functional_summary.py squeeze_excitation(): multiply([x, gate]) after each SE; the residual's add([body, x]).
            string source = @"using CnnGen;
namespace T
{
    [Block]
    [Conv2d(16, 16, 3, Padding = 1)]
    [SqueezeExcitation(16, 4)]
    public partial class Body { }

    [Model]
    [Input(3, 6, 6)]
    [Conv2d(3, 16, 3, Padding = 1)]
    [SqueezeExcitation(16, 4)]
    [Residual(typeof(Body))]
    [GlobalAvgPool2d]
    [Flatten]
    [Linear(16, 3)]
    public partial class M { }
}
";
            Assert.Equal(Golden("keras_se.summary.txt"), KerasSummary(source));
        }

        [Fact]
        public void AModelWithoutBranchesKeepsTheSequentialTable()
        {
            string s = KerasSummary(Models.Model("    [Input(1, 6, 6)]\n    [Conv2d(1, 2, 3)]\n    [Flatten]\n    [Linear(32, 2)]"));
            Assert.StartsWith("Model: \"sequential\"\n_________________________________________________________________\n", s);
            Assert.DoesNotContain("InputLayer", s);
        }
    }
}

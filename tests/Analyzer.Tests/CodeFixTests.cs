using System.Threading.Tasks;
using CnnGen.CodeFixes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace CnnGen.Analyzer.Tests
{
    /// <summary>Each code fix, from the analyzer's live diagnostic to the fixed source (which must have no CNN error left).</summary>
    public class CodeFixTests
    {
        /// <summary>The DESIGN.md model with <paramref name="linear"/> in place of its first Linear.</summary>
        private static string Mnist(string linear, string flatten = "[Flatten]") => @"using CnnGen;

[Model]
[Input(1, 28, 28)]
[Conv2d(1, 16, 3)]
[ReLU]
[MaxPool2d(2, Stride = 2, Padding = 1)]
[Conv2d(16, 32, 3)]
[ReLU]
[MaxPool2d(2, Stride = 2, Padding = 1)]
" + flatten + @"
" + linear + @"
[ReLU]
[Linear(32, 10)]
public partial class MnistCnn { }
";

        [Fact]
        public Task Linear_in_features_become_the_received_count() =>
            Verify.Fix<ArgumentFix>(Mnist("[{|#0:Linear(1000, 32)|}]"), Mnist("[Linear(1568, 32)]"),
                Verify.Diagnostic("CNN0021").WithLocation(0)
                    .WithArguments("Linear-7", "1000", "1568", "MaxPool2d-6 output [32, 7, 7], flattened"));

        [Fact]
        public Task A_product_stays_a_product_with_the_factors_that_fit_kept_in_place() =>
            Verify.Fix<ArgumentFix>(Mnist("[{|CNN0021:Linear(7 * 7 * 16, 32)|}]"), Mnist("[Linear(7 * 7 * 32, 32)]"));

        [Fact]
        public Task A_product_in_another_order_keeps_its_order() =>
            Verify.Fix<ArgumentFix>(Mnist("[{|CNN0021:Linear(16 * 7 * 7, 32)|}]"), Mnist("[Linear(32 * 7 * 7, 32)]"));

        [Fact]
        public Task A_named_argument_is_found_by_its_name() =>
            Verify.Fix<ArgumentFix>(Mnist("[{|CNN0021:Linear(outFeatures: 32, inFeatures: 1000)|}]"), Mnist("[Linear(outFeatures: 32, inFeatures: 1568)]"));

        [Fact]
        public Task Conv2d_in_channels_become_the_received_channels() =>
            Verify.Fix<ArgumentFix>(
                "using CnnGen;\n[Model]\n[Input(3, 8, 8)]\n[Conv2d(3, 4, 3)]\n[{|CNN0020:Conv2d(8, 4, 3)|}]\npublic partial class M { }\n",
                "using CnnGen;\n[Model]\n[Input(3, 8, 8)]\n[Conv2d(3, 4, 3)]\n[Conv2d(4, 4, 3)]\npublic partial class M { }\n");

        [Fact]
        public Task BatchNorm2d_features_become_the_received_channels() =>
            Verify.Fix<ArgumentFix>(
                "using CnnGen;\n[Model]\n[Input(1, 8, 8)]\n[Conv2d(1, 16, 3)]\n[{|CNN0040:BatchNorm2d(8)|}]\npublic partial class M { }\n",
                "using CnnGen;\n[Model]\n[Input(1, 8, 8)]\n[Conv2d(1, 16, 3)]\n[BatchNorm2d(16)]\npublic partial class M { }\n");

        [Fact]
        public Task Adaptive_pooling_output_size_becomes_the_one_supported() =>
            Verify.Fix<ArgumentFix>(
                "using CnnGen;\n[Model]\n[Input(1, 8, 8)]\n[Conv2d(1, 4, 3)]\n[{|CNN0041:AdaptiveAvgPool2d(2)|}]\npublic partial class M { }\n",
                "using CnnGen;\n[Model]\n[Input(1, 8, 8)]\n[Conv2d(1, 4, 3)]\n[AdaptiveAvgPool2d(1)]\npublic partial class M { }\n");

        [Fact]
        public Task A_missing_partial_is_added() =>
            Verify.Fix<AddPartialFix>(
                "using CnnGen;\n[Model]\n[Input(1, 4, 4)]\n[Flatten]\n[Linear(16, 2)]\npublic sealed class {|CNN0002:M|} { }\n",
                "using CnnGen;\n[Model]\n[Input(1, 4, 4)]\n[Flatten]\n[Linear(16, 2)]\npublic sealed partial class M { }\n");

        [Fact]
        public Task A_missing_partial_is_added_without_other_modifiers() =>
            Verify.Fix<AddPartialFix>(
                "using CnnGen;\nnamespace N\n{\n    [Model]\n    [Input(1, 4, 4)]\n    [Flatten]\n    [Linear(16, 2)]\n    class {|CNN0002:M|} { }\n}\n",
                "using CnnGen;\nnamespace N\n{\n    [Model]\n    [Input(1, 4, 4)]\n    [Flatten]\n    [Linear(16, 2)]\n    partial class M { }\n}\n");

        [Fact]
        public Task A_missing_Flatten_is_inserted_before_the_Linear() =>
            Verify.Fix<InsertFlattenFix>(Mnist("[{|CNN0022:Linear(1568, 32)|}]", flatten: "// no flatten"), Mnist("[Flatten]\n[Linear(1568, 32)]", flatten: "// no flatten"));

        [Fact]
        public Task A_missing_Flatten_is_inserted_with_the_indentation_of_the_Linear() =>
            Verify.Fix<InsertFlattenFix>(
                "using CnnGen;\nnamespace N\n{\n    [Model]\n    [Input(1, 4, 4)]\n    [{|CNN0022:Linear(16, 2)|}]\n    public partial class M { }\n}\n",
                "using CnnGen;\nnamespace N\n{\n    [Model]\n    [Input(1, 4, 4)]\n    [Flatten]\n    [Linear(16, 2)]\n    public partial class M { }\n}\n");

        [Fact]
        public async Task A_Keras_layer_name_is_renamed_to_CnnGens_spelling()
        {
            // CNN0080 comes from another change (unknown layer names with a suggestion); this test-only analyzer
            // reports it with the agreed contract: the suggested attribute name in the "Suggestion" property.
            var test = new CnnFixTest<Cnn0080Stand_in, RenameLayerFix>
            {
                TestCode = "using CnnGen;\n[Model]\n[Input(1, 8, 8)]\n[{|CNN0080:Conv2D(1, 4, 3)|}]\n[{|CNN0080:CnnGen.Dense(144, 2)|}]\npublic partial class M { }\n",
                FixedCode = "using CnnGen;\n[Model]\n[Input(1, 8, 8)]\n[Conv2d(1, 4, 3)]\n[CnnGen.Linear(144, 2)]\npublic partial class M { }\n",
                CompilerDiagnostics = CompilerDiagnostics.None,
                NumberOfIncrementalIterations = 2,
                NumberOfFixAllIterations = 1,
            };
            await test.RunAsync();
        }
    }
}

using System;
using System.Linq;
using System.Text;
using Xunit;

namespace CnnGen.Generator.Tests
{
    // Issue 15's diagnostics (CNN0050–CNN0079) and the classes of malformed declarations it names, in DiagnosticTests so
    // EveryDescriptorHasATestInThisFile sees them. Every case asserts its specific diagnostic (never CNN0079).
    public partial class DiagnosticTests
    {
        private static string Header => "using CnnGen;\nnamespace T\n{\n";

        /// <summary>Blocks B0 = [ReLU], B(i) = [Sequential(B(i−1))] twice: B(n) expands to 2^n layers.</summary>
        private static string Doubling(int n)
        {
            var sb = new StringBuilder("    [Block] [ReLU] public partial class B0 { }\n");
            for (int i = 1; i <= n; i++) sb.Append($"    [Block] [Sequential(typeof(B{i - 1}))] [Sequential(typeof(B{i - 1}))] public partial class B{i} {{ }}\n");
            return sb.ToString();
        }

        [Fact]
        public void CNN0050_TooManyLayers_RefusedBeforeExpanding()
        {
            // 2^14 layers took 204 s and 6.3 GB before the count; now it is refused at once.
            string bad = Header + Doubling(14) + "    [Model]\n    [Input(1, 8, 8)]\n    [Conv2d(1, 4, 3)]\n    [Sequential(typeof(B14))]\n    public partial class M { }\n}\n";
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var r = RunMalformed(bad);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "took " + sw.Elapsed);
            AssertDiagnostic(r, bad, "CNN0050", "[Sequential(typeof(B14))]",
                "Sequential '1': the model would have more than 2000 layers once its blocks are expanded (blocks that repeat each other multiply); CnnGen compiles at most 2000: repeat fewer blocks");
            // 2^6 = 64 ReLUs + the convolution are well within the limit.
            AssertClean(bad.Replace("[Sequential(typeof(B14))]\n    public", "[Sequential(typeof(B6))]\n    public"));
        }

        [Fact]
        public void CNN0050_TooManyLayers_EvenWhenTheBlocksHaveErrors()
        {
            // B3 counts 8 layers (the count cannot follow the cycle B0 → A → B24 → … → B3), but expanding it would meet
            // the cycle 2^21 times per use of A: expansion is cut short instead of enumerating them.
            string bad = Header + Doubling(24).Replace("[Block] [ReLU] public partial class B0 { }",
                    "[Block] [ReLU] [Sequential(typeof(A))] public partial class B0 { }\n    [Block] [Sequential(typeof(B24))] public partial class A { }")
                + "    [Model]\n    [Input(1, 8, 8)]\n    [Sequential(typeof(B3))]\n    public partial class M { }\n}\n";
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var r = RunMalformed(bad);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "took " + sw.Elapsed);
            Assert.Contains(r.Cnn, d => d.Id == "CNN0050");
            Assert.Contains(r.Cnn, d => d.Id == "CNN0045"); // the cycle itself
            Assert.True(r.Cnn.Count() <= 102, r.Cnn.Count() + " diagnostics");
            Assert.DoesNotContain(r.Cnn, d => d.Id == "CNN0079");
        }

        [Theory]
        [InlineData("[Conv2d(1, 8, 3, Name = \"a\\\"b\")]", "Name \"a\\\"b\"")]
        [InlineData("[Conv2d(1, 8, 3, Name = \"\")]", "Name \"\"")]
        [InlineData("[Conv2d(1, 8, 3, Name = \"a..b\")]", "Name \"a..b\"")]
        [InlineData("[Conv2d(1, 8, 3, Name = \".a\")]", "Name \".a\"")]
        [InlineData("[Conv2d(1, 8, 3, Name = \"a.\")]", "Name \"a.\"")]
        [InlineData("[Conv2d(1, 8, 3, Name = \"back\\\\slash\")]", "Name \"back\\\\slash\"")]
        [InlineData("[Conv2d(1, 8, 3, Name = \"caf\\u00e9\")]", "Name \"caf\\u00e9\"")]
        [InlineData("[Conv2d(1, 8, 3, Name = \"line\\nbreak\")]", "Name \"line\\u000abreak\"")]
        [InlineData("[Conv2d(1, 8, 3, Name = \"with space\")]", "Name \"with space\"")]
        [InlineData("[ReLU(Name = \"\\\"); System.Console.WriteLine(\\\"\")]", "Name \"\\\"); System.Console.WriteLine(\\\"\"")]
        public void CNN0051_InvalidLayerName(string layer, string shown)
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    " + layer);
            var r = RunMalformed(bad);
            var d = AssertDiagnostic(r, bad, "CNN0051", layer.Substring(0, 12));
            string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains(shown + " is not a valid weight key: use dot-separated segments of ASCII letters, digits and underscores", message);
        }

        [Fact]
        public void CNN0051_NameTooLong()
        {
            string layer = $"[Conv2d(1, 8, 3, Name = \"{new string('n', 101)}\")]";
            string bad = Models.Model("    [Input(1, 28, 28)]\n    " + layer);
            AssertDiagnostic(RunMalformed(bad), bad, "CNN0051", "[Conv2d(1, 8, 3");
            AssertClean(bad.Replace(new string('n', 101), new string('n', 100)));
        }

        [Theory]
        [InlineData("conv1")]
        [InlineData("features.0")]
        [InlineData("layer2.0.downsample")]
        [InlineData("_private")]
        [InlineData("0")]
        public void ValidNamesStillCompile(string name) =>
            AssertClean(Models.Model($"    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3, Name = \"{name}\")]"));

        [Fact]
        public void CNN0051_InvalidBlockModuleNameAndShortcutName()
        {
            string bad = Header + "    [Block(ModuleName = \"Basic Block\")] [Conv2d(4, 4, 3, Padding = 1)] public partial class Body { }\n"
                + "    [Model]\n    [Input(4, 8, 8)]\n    [Residual(typeof(Body))]\n    public partial class M { }\n}\n";
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0051", "[Block(ModuleName",
                "Block 'Body': ModuleName \"Basic Block\" is not a valid module name: use a Python class name: ASCII letters, digits and underscores, not starting with a digit (like \"BasicBlock\"), at most 100 characters");
            AssertClean(bad.Replace("Basic Block", "BasicBlock"));

            string shortcut = Header + "    [Block] [Conv2d(4, 4, 3, Padding = 1)] public partial class Body { }\n"
                + "    [Block] [Conv2d(4, 4, 1)] public partial class Proj { }\n"
                + "    [Model]\n    [Input(4, 8, 8)]\n    [Residual(typeof(Body), Shortcut = typeof(Proj), ShortcutName = \"down\\\"sample\")]\n    public partial class M { }\n}\n";
            AssertDiagnostic(RunMalformed(shortcut), shortcut, "CNN0051", "[Residual(",
                "Residual '0': ShortcutName \"down\\\"sample\" is not a valid weight key: use dot-separated segments of ASCII letters, digits and underscores (like \"conv1\" or \"features.0\"), at most 100 characters");
        }

        [Fact]
        public void CNN0052_DuplicateWeightKey()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3, Name = \"a\")]\n    [ReLU]\n    [Conv2d(8, 8, 3, Name = \"a\")]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0052", "[Conv2d(8, 8, 3",
                "Conv2d-3: the weight key 'a.weight' is already used by Conv2d-1, so the weights could not be saved or loaded; give one of the layers another Name");
            AssertClean(bad.Replace("[Conv2d(8, 8, 3, Name = \"a\")]", "[Conv2d(8, 8, 3, Name = \"b\")]"));
        }

        [Fact]
        public void CNN0052_NameEqualToAnotherLayersPosition()
        {
            // Layer 0 is keyed "0" by position; a later layer named "0" would write the same keys.
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    [BatchNorm2d(8, Name = \"0\")]");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0052", "[BatchNorm2d(8",
                "BatchNorm2d-2: the weight key '0.weight' is already used by Conv2d-1, so the weights could not be saved or loaded; give one of the layers another Name");
            // Parameterless layers have no keys: the same name twice is harmless.
            AssertClean(Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    [ReLU(Name = \"act\")]\n    [Tanh(Name = \"act\")]"));
        }

        [Fact]
        public void CNN0052_BatchNormBuffersWithoutAffine()
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [BatchNorm2d(1, Affine = false, Name = \"bn\")]\n    [BatchNorm2d(1, Name = \"bn\", Affine = false)]");
            AssertDiagnostic(RunMalformed(bad), bad, "CNN0052", "[BatchNorm2d(1, Name",
                "BatchNorm2d-2: the weight key 'bn.running_mean' is already used by BatchNorm2d-1, so the weights could not be saved or loaded; give one of the layers another Name");
        }

        private static string WithMembers(string members, string declaration = "public partial class M") =>
            Header + "    [Model]\n    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    " + declaration + "\n    {\n" + members + "    }\n}\n";

        [Theory]
        [InlineData("        public int InputSize => 3;\n", "InputSize => 3", "Model 'M': the property 'InputSize' clashes with the member CnnGen generates; rename or remove it")]
        [InlineData("        public static string Summary(int b) => \"\";\n", "Summary(int b)", "Model 'M': the method 'Summary' clashes with the member CnnGen generates; rename or remove it")]
        [InlineData("        public void Forward(System.ReadOnlySpan<float> x, System.Span<float> y) { }\n", "Forward(", "Model 'M': the method 'Forward' clashes with the member CnnGen generates; rename or remove it")]
        [InlineData("        public float[] Parameters() => null!;\n", "Parameters()", "Model 'M': the method 'Parameters' clashes with the member CnnGen generates; rename or remove it")]
        [InlineData("        private int s_slots;\n", "s_slots", "Model 'M': the field 's_slots' clashes with the member CnnGen generates; rename or remove it")]
        [InlineData("        private void Conv2d_1_Forward() { }\n", "Conv2d_1_Forward", "Model 'M': the method 'Conv2d_1_Forward' clashes with the member CnnGen generates; rename or remove it")]
        [InlineData("        public class KerasSummary { }\n", "class KerasSummary", "Model 'M': the nested type 'KerasSummary' clashes with the member CnnGen generates; rename or remove it")]
        [InlineData("        public const int OutputSize = 1;\n", "OutputSize = 1", "Model 'M': the constant 'OutputSize' clashes with the member CnnGen generates; rename or remove it")]
        [InlineData("        public M(int seed) { }\n", "M(int seed)", "Model 'M': the constructor 'M(int)' clashes with the constructor M(int seed = 0) CnnGen generates; rename or remove it")]
        public void CNN0053_MemberClash(string members, string marker, string message)
        {
            string bad = WithMembers(members);
            var r = GeneratorHarness.Run(bad);
            AssertNoGeneratorFailure(r);
            AssertDiagnostic(r, bad, "CNN0053", marker, message);
            // No generated code: it could only add errors (CS0102, CS0111) in the generated file.
            Assert.Empty(r.Run.Results.SelectMany(x => x.GeneratedSources));
        }

        [Fact]
        public void CNN0053_InheritedMemberClash()
        {
            string bad = Header + "    public class Base { public int Parameters; }\n" + WithMembers("", "public partial class M : Base").Substring(Header.Length);
            var r = GeneratorHarness.Run(bad);
            AssertDiagnostic(r, bad, "CNN0053", "public partial class M : Base",
                "Model 'M': the inherited field 'Base.Parameters' clashes with the member CnnGen generates; rename or remove it");
        }

        [Fact]
        public void UserOverloadsAndOtherConstructorsStillCompile()
        {
            // Legal overloads of generated methods, a constructor that chains to a generated one, a parameterless base
            // constructor that is protected: all compiled before and still do.
            string ok = Header + "    public abstract class Base { protected Base() { } }\n" + WithMembers(
                "        public M(string label) : this(7) { Label = label; }\n        public string? Label { get; }\n" +
                "        public void Forward(float[] x) { }\n        public static string Summary(string title) => title;\n", "public sealed partial class M : Base").Substring(Header.Length);
            AssertClean(ok);
        }

        [Fact]
        public void CNN0053_ParameterlessConstructorClashesWithBakedWeights()
        {
            string bad = WithMembers("        public M() : this(1) { }\n", "public partial class M").Replace("[Model]", "[Model(Weights = \"w.safetensors\")]");
            var r = GeneratorHarness.Run(bad);
            Assert.Contains(r.Cnn, d => d.Id == "CNN0053" && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)
                == "Model 'M': the constructor 'M()' clashes with the constructors M() and M(int seed) CnnGen generates; rename or remove it");
        }

        [Fact]
        public void CNN0054_ConstructorNotChained()
        {
            string bad = WithMembers("        public M() { }\n");
            var r = RunMalformed(bad);
            AssertDiagnostic(r, bad, "CNN0054", "public M()",
                "Model 'M': the constructor 'M()' must call a generated constructor (add ': this(seed)' or ': this(0)'), or the model's parameters are never allocated");
            AssertClean(WithMembers("        public M() : this(0) { }\n"));
        }

        [Theory]
        [InlineData("public partial record M(int X)", "(int X)")]
        [InlineData("public partial class M(int x)", "(int x)")]
        public void CNN0005_PrimaryConstructor(string declaration, string marker)
        {
            string bad = WithMembers("", declaration);
            var r = RunMalformed(bad, emits: false);
            var d = AssertDiagnostic(r, bad, "CNN0005", declaration,
                "Model 'M' cannot get generated members: a primary constructor (or positional record parameters) cannot be combined with the constructors CnnGen generates; remove the parameter list and declare the values as properties");
            Assert.Equal(marker, LocatedText(d, bad));
            // A record without a parameter list was supported and still is.
            AssertClean(WithMembers("", "public partial record M"));
        }

        [Fact]
        public void CNN0005_BaseClassWithoutParameterlessConstructor()
        {
            string bad = Header + "    public class Base { public Base(int x) { } }\n" + WithMembers("        public M() : base(1) { }\n", "public partial class M : Base").Substring(Header.Length);
            var r = GeneratorHarness.Run(bad);
            AssertNoGeneratorFailure(r);
            Assert.Contains(r.Cnn, d => d.Id == "CNN0005" && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture) ==
                "Model 'M' cannot get generated members: its base class 'Base' has no parameterless constructor the generated constructors can call; add one (protected is enough)");
            Assert.Empty(r.Run.Results.SelectMany(x => x.GeneratedSources));
        }

        [Theory]
        [InlineData("AddAttribute", "System.Attribute")]
        [InlineData("ScaleAttribute", "LayerAttribute")]
        [InlineData("BranchBeginAttribute", "LayerAttribute")]
        [InlineData("ShortcutBeginAttribute", "LayerAttribute")]
        [InlineData("BlockEndAttribute", "LayerAttribute")]
        public void UserAttributesInNamespaceCnnGen_AreNotOurs(string name, string baseType)
        {
            // Crashed the generator ("Stack empty") when taken for the structural kinds of the same name.
            string use = name.Substring(0, name.Length - "Attribute".Length);
            string source = Models.Model($"    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    [{use}]") + $"namespace CnnGen {{ public sealed class {name} : {baseType} {{ }} }}\n";
            var r = GeneratorHarness.Run(source);
            AssertNoGeneratorFailure(r);
            Assert.DoesNotContain(r.Cnn, d => d.Id == "CNN0079");
            if (baseType == "LayerAttribute")
                AssertDiagnostic(r, source, "CNN0007", $"[{use}]", $"'CnnGen.{name}' derives from CnnGen.LayerAttribute but is not a layer CnnGen knows how to compile");
            else
                Assert.True(!r.Errors.Any() && !r.Cnn.Any(), string.Join("\n", r.Errors.Concat(r.Cnn)));
        }

        [Fact]
        public void UserModelAttributeInNamespaceCnnGen_IsNotAModel()
        {
            string source = "namespace T { [CnnGen.Model] public class M { } }\nnamespace CnnGen { public sealed class ModelAttribute : System.Attribute { } }\n";
            var r = GeneratorHarness.Run(source);
            AssertNoGeneratorFailure(r);
            Assert.Empty(r.Cnn);
            Assert.Empty(r.Run.Results.SelectMany(x => x.GeneratedSources));
        }

        [Theory]
        [InlineData("[AvgPool2d(2147483647, Padding = 1073741823)]", "AvgPool2d-1: the window's tap count (height × width) is 2147483647×2147483647 = 4611686014132420609, but must be at most 4096")]
        [InlineData("[MaxPool2d(65, Padding = 32)]", "MaxPool2d-1: the window's tap count (height × width) is 65×65 = 4225, but must be at most 4096")]
        [InlineData("[Conv2d(1, 8, 2147483647, Padding = 1073741823)]", "Conv2d-1: the kernel's tap count (height × width) is 2147483647×2147483647 = 4611686014132420609, but must be at most 4096")]
        [InlineData("[Conv2d(1, 1, 1, KernelWidth = 4097)]", "Conv2d-1: the kernel's tap count (height × width) is 1×4097 = 4097, but must be at most 4096")]
        [InlineData("[Conv2d(1, 8, 3, Padding = 2147483647)]", "Conv2d-1: the size of its output [8, 2147483647, 2147483647] is 9223372036854775807 floats, but must be at most 2147483591 floats")]
        [InlineData("[Conv2d(1, 8, 3, Padding = 30000, Stride = 30000)]", "Conv2d-1: the size of its padded input [1, 60028, 60028] is 3603360784 floats, but must be at most 2147483591 floats")]
        [InlineData("[Conv2d(1, 2147483647, 3, Padding = 1)]", "Conv2d-1: the parameter count is 21474836470 floats, but must be at most 2147483591 floats")]
        [InlineData("[BatchNorm2d(1, Eps = 1e308)]", "BatchNorm2d-1: Eps is 1E+308, but must be a positive number within float's range (1.4E-45 to 3.4028235E+38)")]
        [InlineData("[BatchNorm2d(1, Eps = 1e-50)]", "BatchNorm2d-1: Eps is 1E-50, but must be a positive number within float's range (1.4E-45 to 3.4028235E+38)")]
        [InlineData("[LeakyReLU(-1e300)]", "LeakyReLU-1: the negative slope is -1E+300, but must be within float's range (at most 3.4028235E+38 in magnitude)")]
        [InlineData("[ELU(3.5e38)]", "ELU-1: alpha is 3.5E+38, but must be within float's range (at most 3.4028235E+38 in magnitude)")]
        [InlineData("[Dropout(0.9999999999)]", "Dropout-1: the drop probability p is 0.9999999999, but must be below 1 as a float (at most 0.99999994)")]
        public void CNN0010_SizesAndFloatsBeyondWhatTheGeneratedCodeHolds(string layer, string message)
        {
            string bad = Models.Model("    [Input(1, 28, 28)]\n    " + layer);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var r = RunMalformed(bad);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "took " + sw.Elapsed);
            AssertDiagnostic(r, bad, "CNN0010", layer, message);
        }

        [Fact]
        public void CNN0012_PoolingPaddingDoesNotOverflow()
        {
            // 2 · 1,073,741,824 wrapped to a negative int, so the padding passed the half-kernel check.
            string bad = Models.Model("    [Input(1, 28, 28)]\n    [MaxPool2d(3, Padding = 1073741824)]");
            AssertDiagnostic(RunMalformed(bad), bad, "CNN0012", "[MaxPool2d(",
                "MaxPool2d-1: padding 1073741824 must be at most half the kernel size 3 (PyTorch rejects padding > kernel / 2)");
        }

        [Fact]
        public void CNN0010_BatchNormBuffersBeyondAnArray()
        {
            // 2 × 1,073,741,800 + 1 buffer floats without Affine (no parameters to count): the buffers are checked too.
            string bad = Models.Model("    [Input(1073741800, 1, 1)]\n    [BatchNorm2d(1073741800, Affine = false)]");
            AssertDiagnostic(RunMalformed(bad), bad, "CNN0010", "[BatchNorm2d(",
                "BatchNorm2d-1: the model's batch norm buffers up to this layer is 2147483601 floats, but must be at most 2147483591 floats");
        }

        [Fact]
        public void CNN0010_InputSizeDoesNotWrap()
        {
            // 2^31-1 cubed wraps a 64-bit product; the saturating product reports it.
            string bad = Models.Model("    [Input(2147483647, 2147483647, 2147483647)]\n    [ReLU]");
            AssertDiagnostic(RunMalformed(bad), bad, "CNN0010", "[Input(",
                "Input: the size of [2147483647, 2147483647, 2147483647] is 9223372036854775807 floats, but must be at most 2147483591 floats");
        }

        // ---- the last line of defence ------------------------------------------------------------------

        private static void PlantFaults() =>
            Firewall.TestFault ??= (stage, name) =>
            {
                if (name == "ThrowsIn_" + stage) throw new InvalidOperationException("planted fault in " + stage);
            };

        [Theory]
        [InlineData("parse", "reading the declaration")]
        [InlineData("infer", "inferring the shapes")]
        [InlineData("bind", "binding the baked weights")]
        [InlineData("emit", "writing the code")]
        public void CNN0079_AnExceptionBecomesADiagnosticAndOtherModelsAreGenerated(string stage, string doing)
        {
            PlantFaults();
            string faulty = "ThrowsIn_" + stage;
            string source = Header + $"    [Model]\n    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    public partial class {faulty} {{ }}\n"
                + "    [Model]\n    [Input(1, 28, 28)]\n    [Conv2d(1, 8, 3)]\n    public partial class Fine { }\n}\n";
            string use = $"\nnamespace T {{ static class Use {{ static string S() => {faulty}.Summary() + Fine.Summary(); }} }}\n";
            var r = GeneratorHarness.Run(source, use);
            AssertNoGeneratorFailure(r);
            var d = Assert.Single(r.Cnn);
            Assert.Equal("CNN0079", d.Id);
            Assert.Equal($"Model '{faulty}': CnnGen failed unexpectedly while {doing} (System.InvalidOperationException: planted fault in {stage}); the other models are still generated. Please report this with the declaration.",
                d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal("Model.cs", d.Location.GetLineSpan().Path);
            // The other model is generated in full, the faulty one gets its member signatures: no other error anywhere.
            Assert.Contains(r.Run.Results.SelectMany(x => x.GeneratedSources), s => s.HintName.StartsWith("T.Fine.", StringComparison.Ordinal));
            Assert.Contains("public unsafe void Forward", r.Run.Results.SelectMany(x => x.GeneratedSources).Single(s => s.HintName.StartsWith("T.Fine.", StringComparison.Ordinal)).SourceText.ToString());
            Assert.True(!r.Errors.Any(e => e.Id != "CNN0079"), string.Join("\n", r.Errors));
        }

        [Fact]
        public void CNN0079_AnExceptionInABlockIsReportedOnTheModelsThatUseIt()
        {
            PlantFaults();
            string source = Header + "    [Block] [ReLU] public partial class ThrowsIn_block { }\n"
                + "    [Model]\n    [Input(1, 28, 28)]\n    [Sequential(typeof(ThrowsIn_block))]\n    public partial class M { }\n}\n";
            var r = GeneratorHarness.Run(source);
            AssertNoGeneratorFailure(r);
            Assert.Contains(r.Cnn, d => d.Id == "CNN0079" && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("planted fault in block", StringComparison.Ordinal));
        }
    }
}

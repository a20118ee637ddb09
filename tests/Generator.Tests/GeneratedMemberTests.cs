using System;
using System.Linq;
using CnnGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// <see cref="DeclarationChecks.GeneratedMembers"/> is the one list user members are checked against (CNN0053): every
    /// member the emitters actually generate must be on it, or a user member of that name would be an error inside
    /// generated code again.
    /// </summary>
    public class GeneratedMemberTests
    {
        private const string Branchy = @"using CnnGen;
namespace T
{
    [Block] [Conv2d(8, 8, 3, Padding = 1, Bias = false)] [BatchNorm2d(8)] [ReLU] public partial class Body { }
    [Block] [Conv2d(8, 8, 1, Bias = false)] [BatchNorm2d(8)] public partial class Proj { }
    [Model]
    [Input(3, 12, 12)]
    [Conv2d(3, 8, 3, Padding = 1)]
    [Residual(typeof(Body), Shortcut = typeof(Proj), ReLU = true)]
    [SqueezeExcitation(8, 2)]
    [Dropout2d(0.1)]
    [AvgPool2d(2)]
    [MaxPool2d(2)]
    [Flatten]
    [Linear(72, 10)]
    [LeakyReLU]
    [Dropout]
    [Linear(10, 4)]
    public partial class M { }
}
";

        [Theory]
        [InlineData("Mnist")]
        [InlineData("Leaf")]
        [InlineData("Branchy")]
        [InlineData("Broken")]
        public void EveryGeneratedMemberIsOnTheList(string which)
        {
            string source = which switch
            {
                "Mnist" => Models.Mnist,
                "Leaf" => Issue6Tests.LeafLayers,
                "Branchy" => Branchy,
                _ => Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(2, 8, 3)]"), // an error: only the member signatures
            };
            var r = GeneratorHarness.Run(source);
            var generated = r.Run.GeneratedTrees.ToHashSet();
            Assert.NotEmpty(generated);
            var models = r.Output.GetSymbolsWithName(_ => true, SymbolFilter.Type).OfType<INamedTypeSymbol>()
                .Where(t => t.GetAttributes().Any(a => a.AttributeClass?.Name == "ModelAttribute")).ToList();
            Assert.NotEmpty(models);
            int checkedMembers = 0;
            foreach (var model in models)
            {
                foreach (var member in model.GetMembers())
                {
                    if (member.IsImplicitlyDeclared || member is IMethodSymbol { MethodKind: not MethodKind.Ordinary }) continue;
                    if (!member.DeclaringSyntaxReferences.Any(s => generated.Contains(s.SyntaxTree))) continue;
                    checkedMembers++;
                    // An explicit implementation (global::CnnGen.ICnnModel.InputSize) by its member name.
                    string name = member.Name.Substring(member.Name.LastIndexOf('.') + 1);
                    Assert.True(DeclarationChecks.IsGeneratedName(name),
                        $"{model.Name}.{member.Name} is generated but not in DeclarationChecks.GeneratedMembers (nor a per-layer method name)");
                }
            }
            Assert.True(checkedMembers >= 10, checkedMembers + " generated members found");
        }

        [Theory]
        [InlineData("Helper")]
        [InlineData("Conv2d")]
        [InlineData("Conv2d_Forward")]
        [InlineData("Layer_1_Forward")]
        [InlineData("Predict")]
        public void OtherNamesAreFree(string name) => Assert.False(DeclarationChecks.IsGeneratedName(name));
    }
}

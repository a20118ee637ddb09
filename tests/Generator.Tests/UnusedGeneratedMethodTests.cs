using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// "Emit prints exactly the plan": no generated method that nothing calls. A reachability walk over the generated
    /// syntax: every non-private member is a root, a private method is reached when a reached body names it.
    /// </summary>
    public class UnusedGeneratedMethodTests
    {
        /// <summary>The private methods of <paramref name="source"/> that no public, internal or interface member reaches.</summary>
        internal static List<string> Unreached(string source)
        {
            var root = CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions).GetRoot();
            var methods = root.DescendantNodes().OfType<MethodDeclarationSyntax>().ToList();
            bool IsPrivate(MethodDeclarationSyntax m) =>
                m.ExplicitInterfaceSpecifier is null && !m.Modifiers.Any(t => t.IsKind(SyntaxKind.PublicKeyword) || t.IsKind(SyntaxKind.InternalKeyword) || t.IsKind(SyntaxKind.ProtectedKeyword));
            var byName = methods.Where(IsPrivate).GroupBy(m => m.Identifier.ValueText).ToDictionary(g => g.Key, g => g.ToList());
            // Roots: every member that is not a private method (public API, constructors, properties, field initializers).
            var work = new Stack<SyntaxNode>();
            foreach (var member in root.DescendantNodes().OfType<MemberDeclarationSyntax>())
            {
                if (member is BaseTypeDeclarationSyntax || member is BaseNamespaceDeclarationSyntax) continue;
                if (member is MethodDeclarationSyntax m && IsPrivate(m)) continue;
                work.Push(member);
            }
            var reached = new HashSet<string>();
            while (work.Count > 0)
            {
                foreach (var id in work.Pop().DescendantNodes().OfType<IdentifierNameSyntax>())
                {
                    string name = id.Identifier.ValueText;
                    if (!byName.TryGetValue(name, out var targets) || !reached.Add(name)) continue;
                    foreach (var t in targets) work.Push(t);
                }
            }
            return byName.Keys.Where(n => !reached.Contains(n)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        }

        [Fact]
        public void TheWalkFindsAPlantedDeadMethod()
        {
            const string source = @"class C
{
    public void Api() { A(); }
    private void A() { B(1); }
    private static void B(int x) { }
    private static void Dead() { Deader(); }
    private static void Deader() { }
    int I.P => Q();
    private int Q() => 0;
}";
            Assert.Equal(new[] { "Dead", "Deader" }, Unreached(source));
        }

        private static string Repo([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));

        public static TheoryData<string> Sources()
        {
            var data = new TheoryData<string> { "Models.Mnist", "Issue6Tests.LeafLayers" };
            foreach (var dir in new[] { "Mnist", "FashionMnist", "KerasStyle", "ResNet", "EfficientNet" }) data.Add("samples/" + dir);
            foreach (var edge in RandomModelTests.EdgeArchitectures) data.Add(edge);
            for (int seed = 0; seed < RandomModelTests.ModelCount; seed++) data.Add(RandomModelTests.Draw(seed).Attributes);
            return data;
        }

        internal static string[] Load(string which) => which switch
        {
            "Models.Mnist" => new[] { Models.Mnist },
            "Issue6Tests.LeafLayers" => new[] { Issue6Tests.LeafLayers },
            _ when which.StartsWith("[", StringComparison.Ordinal) => new[] { Models.Model(which) },
            _ => Directory.GetFiles(Path.Combine(Repo(), which), "*.cs").OrderBy(f => f, StringComparer.Ordinal).Select(File.ReadAllText).ToArray(),
        };

        [Theory]
        [MemberData(nameof(Sources))]
        public void GeneratedCodeHasNoMethodThatNothingCalls(string which)
        {
            var r = GeneratorHarness.Run(Load(which));
            var generated = r.Run.Results.SelectMany(x => x.GeneratedSources).ToList();
            Assert.NotEmpty(generated);
            foreach (var g in generated)
            {
                var unreached = Unreached(g.SourceText.ToString());
                Assert.True(unreached.Count == 0, $"{g.HintName}: generated but never called: {string.Join(", ", unreached)}");
            }
        }
    }
}

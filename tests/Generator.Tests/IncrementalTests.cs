using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// The pipeline caches: unrelated edits leave every CnnGen step Cached/Unchanged, a real change to the
    /// model goes through; and nothing that would pin a compilation (symbols, syntax, locations) flows
    /// between steps.
    /// </summary>
    public class IncrementalTests
    {
        private static readonly string[] OurSteps = { ModelGenerator.Steps.Parse, ModelGenerator.Steps.Infer, ModelGenerator.Steps.BindWeights };

        private const string ModelWithMethod = @"using CnnGen;

namespace Samples
{
    [Model]
    [Input(1, 28, 28)]
    [Conv2d(1, 16, 3)]
    [ReLU]
    [MaxPool2d(2, Stride = 2, Padding = 1)]
    [Conv2d(16, 32, 3)]
    [ReLU]
    [MaxPool2d(2, Stride = 2, Padding = 1)]
    [Flatten]
    [Linear(7 * 7 * 32, 32)]
    [ReLU]
    [Dropout(0.3)]
    [Linear(32, 10)]
    public partial class MnistCnn
    {
        public static int Helper() { return 1; }
    }
}
";

        private const string Elsewhere = @"namespace Other
{
    public static class Util
    {
        public static int Compute(int x) { return x + 1; }
    }
}
";

        private static SyntaxTree Tree(string text, string path) => CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path: path);

        private static (GeneratorDriver Driver, Compilation Compilation) FirstRun()
        {
            var compilation = GeneratorHarness.CreateCompilation(ModelWithMethod, Elsewhere);
            var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
            var result = driver.GetRunResult().Results.Single();
            Assert.Null(result.Exception);
            Assert.Single(result.GeneratedSources);
            // The first run computes everything.
            foreach (string step in OurSteps)
                Assert.All(Outputs(result, step), o => Assert.Equal(IncrementalStepRunReason.New, o.Reason));
            return (driver, compilation);
        }

        private static List<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorRunResult result, string step)
        {
            Assert.True(result.TrackedSteps.ContainsKey(step), "step not tracked: " + step);
            var outputs = result.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();
            Assert.NotEmpty(outputs);
            return outputs;
        }

        private static GeneratorRunResult Rerun(GeneratorDriver driver, Compilation compilation, out GeneratorDriver next)
        {
            next = driver.RunGenerators(compilation);
            var result = next.GetRunResult().Results.Single();
            Assert.Null(result.Exception);
            return result;
        }

        private static void AssertNothingRecomputed(GeneratorRunResult result)
        {
            foreach (string step in OurSteps)
            {
                var reasons = Outputs(result, step).Select(o => o.Reason).ToList();
                Assert.True(reasons.All(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged),
                    $"{step}: {string.Join(", ", reasons)}");
            }
            // And the source output itself is not regenerated.
            var output = result.TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
            Assert.NotEmpty(output);
            Assert.True(output.All(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), "output: " + string.Join(", ", output));
        }

        [Fact]
        public void AddingAnUnrelatedTypeHitsTheCache()
        {
            var (driver, compilation) = FirstRun();
            var edited = compilation.AddSyntaxTrees(Tree("namespace Other { public sealed class Unrelated { public int X; } }", "Unrelated.cs"));
            var result = Rerun(driver, edited, out _);
            AssertNothingRecomputed(result);
        }

        [Fact]
        public void ChangingAMethodBodyElsewhereHitsTheCache()
        {
            var (driver, compilation) = FirstRun();
            var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Model1.cs");
            var edited = compilation.ReplaceSyntaxTree(old, Tree(Elsewhere.Replace("return x + 1;", "return x * 2 + 1;"), "Model1.cs"));
            var result = Rerun(driver, edited, out _);
            AssertNothingRecomputed(result);
        }

        [Fact]
        public void ChangingAMethodBodyInTheModelClassHitsTheCache()
        {
            // The [Model] class's own syntax node changes, but the parsed model (attributes, locations) doesn't.
            var (driver, compilation) = FirstRun();
            var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Model.cs");
            var edited = compilation.ReplaceSyntaxTree(old, Tree(ModelWithMethod.Replace("return 1;", "return 2;"), "Model.cs"));
            var result = Rerun(driver, edited, out _);
            AssertNothingRecomputed(result);
        }

        [Fact]
        public void SeveralUnrelatedEditsInARowKeepHittingTheCache()
        {
            var (driver, compilation) = FirstRun();
            for (int i = 0; i < 3; i++)
            {
                compilation = compilation.AddSyntaxTrees(Tree($"namespace Other {{ class U{i} {{ }} }}", $"U{i}.cs"));
                AssertNothingRecomputed(Rerun(driver, compilation, out driver));
            }
        }

        [Fact]
        public void ChangingAnAttributeArgumentRecomputesAndChangesTheOutput()
        {
            var (driver, compilation) = FirstRun();
            string before = driver.GetRunResult().Results.Single().GeneratedSources.Single().SourceText.ToString();
            Assert.Contains("public const int OutputSize = 10;", before);

            var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Model.cs");
            string changed = ModelWithMethod.Replace("[Linear(32, 10)]", "[Linear(32, 12)]");
            Assert.NotEqual(ModelWithMethod, changed);
            var result = Rerun(driver, compilation.ReplaceSyntaxTree(old, Tree(changed, "Model.cs")), out _);

            foreach (string step in OurSteps)
                Assert.Contains(Outputs(result, step), o => o.Reason == IncrementalStepRunReason.Modified);
            var infer = (ShapedModel)Outputs(result, ModelGenerator.Steps.Infer).Single().Value;
            Assert.Equal(Shape.Features(12), infer.Output);

            string after = result.GeneratedSources.Single().SourceText.ToString();
            Assert.NotEqual(before, after);
            Assert.Contains("public const int OutputSize = 12;", after);
            // 12·32 + 12 = 396 instead of 330: 55,338 − 330 + 396 = 55,404
            Assert.Contains("public const int ParameterCount = 55404;", after);
        }

        [Fact]
        public void IntroducingAnErrorRecomputesAndReportsIt()
        {
            var (driver, compilation) = FirstRun();
            var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Model.cs");
            var edited = compilation.ReplaceSyntaxTree(old, Tree(ModelWithMethod.Replace("[Linear(7 * 7 * 32, 32)]", "[Linear(1000, 32)]"), "Model.cs"));
            var next = driver.RunGeneratorsAndUpdateCompilation(edited, out _, out var diagnostics);
            var result = next.GetRunResult().Results.Single();
            Assert.Contains(Outputs(result, ModelGenerator.Steps.Infer), o => o.Reason == IncrementalStepRunReason.Modified);
            Assert.Contains(diagnostics, d => d.Id == "CNN0021");
        }

        // ---- nothing that pins a compilation flows through the pipeline ------------------------------------

        private static readonly Type[] Banned =
        {
            typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(Location), typeof(SemanticModel),
            typeof(SyntaxToken), typeof(SyntaxTrivia), typeof(SyntaxReference), typeof(AttributeData), typeof(TypedConstant), typeof(IOperation),
        };

        private static bool IsBanned(Type t) => Banned.Any(b => b.IsAssignableFrom(t));

        /// <summary>Every type reachable from <paramref name="root"/> through fields, properties, array elements and generic arguments that is banned (or unverifiable: object, interfaces, delegates).</summary>
        internal static List<string> BannedMembers(Type root)
        {
            var problems = new List<string>();
            var seen = new HashSet<Type>();
            void Visit(Type t, string path)
            {
                if (IsBanned(t)) { problems.Add($"{path}: {t.FullName}"); return; }
                if (t == typeof(object) || typeof(Delegate).IsAssignableFrom(t)) { problems.Add($"{path}: {t.FullName} (can hold anything)"); return; }
                if (t.IsInterface && !(t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IEquatable<>)))
                {
                    problems.Add($"{path}: interface {t.FullName} (can hold anything)");
                    return;
                }
                if (!seen.Add(t)) return;
                if (t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal)) return;
                if (t.IsArray) { Visit(t.GetElementType()!, path + "[]"); return; }
                if (t.IsGenericType)
                {
                    foreach (var arg in t.GetGenericArguments()) Visit(arg, $"{path}<{arg.Name}>");
                }
                if (Nullable.GetUnderlyingType(t) is Type inner) { Visit(inner, path); return; }
                const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
                for (var type = t; type != null && type != typeof(object) && type != typeof(ValueType); type = type.BaseType)
                {
                    foreach (var f in type.GetFields(all))
                    {
                        if (f.IsStatic && f.IsLiteral) continue;
                        if (f.IsStatic && f.FieldType == t) continue; // e.g. EquatableArray<T>.Empty
                        Visit(f.FieldType, path + "." + f.Name);
                    }
                    foreach (var p in type.GetProperties(all))
                    {
                        if (p.GetIndexParameters().Length > 0) { Visit(p.PropertyType, path + "[indexer]"); continue; }
                        if (p.Name == "EqualityContract") continue; // records: typeof(Self), a Type, not state
                        Visit(p.PropertyType, path + "." + p.Name);
                    }
                }
            }
            Visit(root, root.Name);
            return problems;
        }

        [Theory]
        [InlineData(typeof(ModelSpec))]
        [InlineData(typeof(LayerSpec))]
        [InlineData(typeof(InputSpec))]
        [InlineData(typeof(ContainingTypeSpec))]
        [InlineData(typeof(ShapedModel))]
        [InlineData(typeof(ShapedLayer))]
        [InlineData(typeof(Shape))]
        [InlineData(typeof(DiagnosticInfo))]
        [InlineData(typeof(LocationInfo))]
        [InlineData(typeof(EquatableArray<LayerSpec>))]
        [InlineData(typeof(CnnGen.Generator.Weights.WeightsFileSpec))]
        [InlineData(typeof(CnnGen.Generator.Weights.TensorEntry))]
        [InlineData(typeof(BakedWeights))]
        public void PipelineModelTypesHoldNoRoslynObjects(Type type)
        {
            var problems = BannedMembers(type);
            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }

        private sealed record LeakyLayer(int Size, EquatableArray<Holder> Items);
        private sealed record Holder(string Name, Location Where);
        private sealed record Opaque(object Anything);

        [Fact]
        public void TheWalkerFindsBannedMembersDeepInside()
        {
            // Self-test, so the test above can fail: a Location two levels down, inside a generic argument.
            Assert.Contains(BannedMembers(typeof(LeakyLayer)), p => p.Contains(typeof(Location).FullName!, StringComparison.Ordinal));
            Assert.Contains(BannedMembers(typeof(List<ISymbol>)), p => p.Contains("ISymbol", StringComparison.Ordinal));
            Assert.NotEmpty(BannedMembers(typeof(Opaque)));
            Assert.NotEmpty(BannedMembers(typeof(KeyValuePair<string, SyntaxTree>)));
        }

        /// <summary>Every object reachable from <paramref name="root"/> through fields whose runtime type is banned.</summary>
        private static List<string> BannedObjects(object? root)
        {
            var problems = new List<string>();
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            void Visit(object? o, string path, int depth)
            {
                if (o is null || depth > 50) return;
                var t = o.GetType();
                if (IsBanned(t)) { problems.Add($"{path}: {t.FullName}"); return; }
                if (t.IsPrimitive || t.IsEnum || o is string || o is Type) return;
                if (!t.IsValueType && !seen.Add(o)) return;
                if (o is IEnumerable items and not string)
                {
                    int i = 0;
                    foreach (var item in items) Visit(item, $"{path}[{i++}]", depth + 1);
                }
                for (var type = t; type != null && type != typeof(object); type = type.BaseType)
                {
                    foreach (var f in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                        Visit(f.GetValue(o), path + "." + f.Name, depth + 1);
                }
            }
            Visit(root, root?.GetType().Name ?? "null", 0);
            return problems;
        }

        [Fact]
        public void TrackedStepOutputsHoldNoRoslynObjects()
        {
            // A model with diagnostics too, so DiagnosticInfo/LocationInfo values are walked.
            string broken = Models.Model("    [Input(1, 28, 28)]\n    [Conv2d(2, 8, 3)]\n    [Dropout(1.5)]");
            foreach (var result in new[] { GeneratorHarness.Run(Models.Mnist), GeneratorHarness.Run(broken) })
            {
                var run = result.Run.Results.Single();
                var ours = run.TrackedSteps.Where(kv => kv.Key.StartsWith("CnnGen.", StringComparison.Ordinal)).ToList();
                Assert.Contains(ours, kv => kv.Key == ModelGenerator.Steps.Parse);
                Assert.Contains(ours, kv => kv.Key == ModelGenerator.Steps.Infer);
                foreach (var (name, steps) in ours)
                {
                    foreach (var (value, _) in steps.SelectMany(s => s.Outputs))
                    {
                        var problems = BannedObjects(value);
                        Assert.True(problems.Count == 0, name + ":\n" + string.Join("\n", problems));
                    }
                }
                var shaped = (ShapedModel)run.TrackedSteps[ModelGenerator.Steps.Infer].Single().Outputs.Single().Value;
                Assert.NotEmpty(shaped.Layers);
            }
            // Self-test of the object walker.
            Assert.NotEmpty(BannedObjects(new Holder("x", Location.None)));
        }
    }
}

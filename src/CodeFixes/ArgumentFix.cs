using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.CodeFixes
{
    /// <summary>
    /// A layer argument the diagnostic states the one right value of: Linear in features (CNN0021), Conv2d in channels
    /// (CNN0020), BatchNorm2d features (CNN0040), AdaptiveAvgPool2d output size (CNN0041). The analyzer puts the parameter,
    /// its position and the value in the diagnostic's properties. A <c>7 * 7 * 16</c>-style product stays a product:
    /// the factors that still fit are kept, in place (<c>7 * 7 * 32</c>).
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ArgumentFix)), Shared]
    public sealed class ArgumentFix : CodeFixProvider
    {
        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CNN0020", "CNN0021", "CNN0040", "CNN0041");

        /// <inheritdoc/>
        public override FixAllProvider? GetFixAllProvider() => null;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is null) return;
            foreach (var diagnostic in context.Diagnostics)
            {
                var p = diagnostic.Properties;
                if (!p.TryGetValue(FixContract.Parameter, out var parameter) || parameter is null
                    || !p.TryGetValue(FixContract.Value, out var valueText) || !int.TryParse(valueText, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
                    || !p.TryGetValue(FixContract.Position, out var positionText) || !int.TryParse(positionText, NumberStyles.None, CultureInfo.InvariantCulture, out int position))
                    continue;
                var attribute = root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeSyntax>();
                var argument = attribute is null ? null : FindArgument(attribute, parameter, position);
                if (argument is null) continue;
                p.TryGetValue(FixContract.Factors, out var factors);
                var replacement = Replacement(argument.Expression, value, factors);
                string shown = replacement.ToString();
                context.RegisterCodeFix(
                    CodeAction.Create($"Change {parameter} to {shown}",
                        ct => Replace(context.Document, argument, replacement, ct),
                        equivalenceKey: diagnostic.Id + ":" + parameter + "=" + shown),
                    diagnostic);
            }
        }

        private static async Task<Document> Replace(Document document, AttributeArgumentSyntax argument, ExpressionSyntax replacement, CancellationToken ct)
        {
            var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
            return document.WithSyntaxRoot(root!.ReplaceNode(argument.Expression, replacement.WithTriviaFrom(argument.Expression)));
        }

        /// <summary>The argument written for <paramref name="parameter"/>: by name (<c>inFeatures: 1000</c>) or by position.</summary>
        internal static AttributeArgumentSyntax? FindArgument(AttributeSyntax attribute, string parameter, int position)
        {
            var args = attribute.ArgumentList?.Arguments ?? default;
            foreach (var a in args)
            {
                if (a.NameColon?.Name.Identifier.ValueText == parameter) return a;
            }
            var positional = args.Where(a => a.NameColon is null && a.NameEquals is null).ToList();
            return position < positional.Count && !args.Take(position).Any(a => a.NameColon != null) ? positional[position] : null;
        }

        /// <summary>The right value, as a product like the one written when the input was flattened from [C, H, W].</summary>
        internal static ExpressionSyntax Replacement(ExpressionSyntax written, int value, string? factorsText)
        {
            var written_ = Factors(written);
            var target = ParseFactors(factorsText);
            if (written_ is null || written_.Count < 2 || target is null) return Literal(value);
            if (written_.Count == target.Count)
            {
                // Keep every written factor that still fits, in its place; fill the rest from [C, H, W] in order.
                var remaining = new List<int>(target);
                var kept = new int?[written_.Count];
                for (int i = 0; i < written_.Count; i++)
                {
                    int at = remaining.IndexOf(written_[i]);
                    if (at < 0) continue;
                    kept[i] = written_[i];
                    remaining.RemoveAt(at);
                }
                var result = new List<int>();
                for (int i = 0; i < kept.Length; i++)
                {
                    if (kept[i] is int k) result.Add(k);
                    else { result.Add(remaining[0]); remaining.RemoveAt(0); }
                }
                return Product(result);
            }
            return Product(target);
        }

        private static List<int>? ParseFactors(string? text)
        {
            if (string.IsNullOrEmpty(text)) return null;
            var list = new List<int>();
            foreach (var part in text!.Split(','))
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int f)) return null;
                list.Add(f);
            }
            return list;
        }

        /// <summary>The integer literals of a product <c>a * b * c</c>; null for anything else.</summary>
        private static List<int>? Factors(ExpressionSyntax e)
        {
            switch (e)
            {
                case ParenthesizedExpressionSyntax p:
                    return Factors(p.Expression);
                case LiteralExpressionSyntax l when l.Token.Value is int v:
                    return new List<int> { v };
                case BinaryExpressionSyntax b when b.IsKind(SyntaxKind.MultiplyExpression):
                    var left = Factors(b.Left);
                    var right = Factors(b.Right);
                    if (left is null || right is null) return null;
                    left.AddRange(right);
                    return left;
                default:
                    return null;
            }
        }

        private static ExpressionSyntax Product(List<int> factors)
        {
            ExpressionSyntax e = Literal(factors[0]);
            for (int i = 1; i < factors.Count; i++)
                e = SyntaxFactory.BinaryExpression(SyntaxKind.MultiplyExpression, e, Literal(factors[i]));
            return e.NormalizeWhitespace();
        }

        private static LiteralExpressionSyntax Literal(int v) =>
            SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(v));
    }

    /// <summary>The diagnostic properties CnnGen's analyzer sets (CnnGen.Generator.Analysis.CnnAnalyzer.Properties) and CNN0080's.</summary>
    internal static class FixContract
    {
        public const string Parameter = "Parameter";
        public const string Position = "Position";
        public const string Value = "Value";
        public const string Factors = "Factors";
        /// <summary>CNN0080 (unknown or Keras layer name): the CnnGen attribute name to use instead.</summary>
        public const string Suggestion = "Suggestion";
    }
}

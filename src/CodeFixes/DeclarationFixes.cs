using System.Collections.Immutable;
using System.Composition;
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
    /// <summary>CNN0002: the model class is not partial → add <c>partial</c> (right before class/record).</summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddPartialFix)), Shared]
    public sealed class AddPartialFix : CodeFixProvider
    {
        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CNN0002");

        /// <inheritdoc/>
        public override FixAllProvider? GetFixAllProvider() => null;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            foreach (var diagnostic in context.Diagnostics)
            {
                var decl = root?.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.FirstAncestorOrSelf<TypeDeclarationSyntax>();
                if (decl is null || decl.Modifiers.Any(SyntaxKind.PartialKeyword)) continue;
                context.RegisterCodeFix(
                    CodeAction.Create($"Make '{decl.Identifier.ValueText}' partial", ct => AddPartial(context.Document, decl, ct), equivalenceKey: "CNN0002"),
                    diagnostic);
            }
        }

        private static async Task<Document> AddPartial(Document document, TypeDeclarationSyntax decl, CancellationToken ct)
        {
            var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
            TypeDeclarationSyntax updated;
            if (decl.Modifiers.Count == 0)
            {
                // 'class M' → 'partial class M': the keyword's leading trivia (indentation, comments) moves to 'partial'.
                var keyword = decl.Keyword;
                var partial = SyntaxFactory.Token(keyword.LeadingTrivia, SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space));
                updated = decl.WithKeyword(keyword.WithLeadingTrivia()).WithModifiers(SyntaxFactory.TokenList(partial));
            }
            else
            {
                updated = decl.AddModifiers(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space));
                // AddModifiers puts it after the last modifier, whose trailing space already separates them.
            }
            return document.WithSyntaxRoot(root!.ReplaceNode(decl, updated));
        }
    }

    /// <summary>CNN0022: a Linear receives a [C, H, W] shape → insert <c>[Flatten]</c> before it.</summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InsertFlattenFix)), Shared]
    public sealed class InsertFlattenFix : CodeFixProvider
    {
        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CNN0022");

        /// <inheritdoc/>
        public override FixAllProvider? GetFixAllProvider() => null;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            foreach (var diagnostic in context.Diagnostics)
            {
                var attribute = root?.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeSyntax>();
                if (attribute?.Parent is not AttributeListSyntax list) continue;
                context.RegisterCodeFix(
                    CodeAction.Create("Insert [Flatten] before it", ct => Insert(context.Document, list, attribute, ct), equivalenceKey: "CNN0022"),
                    diagnostic);
            }
        }

        private static async Task<Document> Insert(Document document, AttributeListSyntax list, AttributeSyntax attribute, CancellationToken ct)
        {
            var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
            var flatten = SyntaxFactory.Attribute(SyntaxFactory.IdentifierName("Flatten"));
            SyntaxNode newRoot;
            if (list.Attributes.Count == 1 && list.Parent is MemberDeclarationSyntax)
            {
                // Its own line, indented like the Linear's: '    [Flatten]\n    [Linear(...)]'.
                var indentation = list.GetLeadingTrivia().Where(t => t.IsKind(SyntaxKind.WhitespaceTrivia)).LastOrDefault();
                var newList = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(flatten))
                    .WithLeadingTrivia(list.GetLeadingTrivia())
                    .WithTrailingTrivia(root!.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { } eol && eol != default
                        ? eol : SyntaxFactory.EndOfLine("\n"));
                var relined = list.WithLeadingTrivia(indentation == default ? SyntaxFactory.TriviaList() : SyntaxFactory.TriviaList(indentation));
                newRoot = root!.ReplaceNode(list, new[] { newList, relined });
            }
            else
            {
                int at = list.Attributes.IndexOf(attribute);
                newRoot = root!.ReplaceNode(list, list.WithAttributes(list.Attributes.Insert(at, flatten)));
            }
            return document.WithSyntaxRoot(newRoot);
        }
    }

    /// <summary>
    /// CNN0080: a Keras, PyTorch or misspelled layer name → rename the attribute to CnnGen's spelling, which the
    /// diagnostic carries in its "Suggestion" property.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RenameLayerFix)), Shared]
    public sealed class RenameLayerFix : CodeFixProvider
    {
        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CNN0080");

        /// <inheritdoc/>
        public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            foreach (var diagnostic in context.Diagnostics)
            {
                if (!diagnostic.Properties.TryGetValue(FixContract.Suggestion, out var suggestion) || string.IsNullOrEmpty(suggestion)
                    || !SyntaxFacts.IsValidIdentifier(suggestion)) continue;
                var attribute = root?.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeSyntax>();
                if (attribute is null) continue;
                context.RegisterCodeFix(
                    CodeAction.Create($"Rename to [{suggestion}]", ct => Rename(context.Document, attribute, suggestion!, ct), equivalenceKey: "CNN0080"),
                    diagnostic);
            }
        }

        private static async Task<Document> Rename(Document document, AttributeSyntax attribute, string suggestion, CancellationToken ct)
        {
            var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
            // Keep a qualifier the user wrote (CnnGen.Conv2D → CnnGen.Conv2d).
            SimpleNameSyntax name = attribute.Name switch
            {
                QualifiedNameSyntax q => q.Right,
                AliasQualifiedNameSyntax a => a.Name,
                SimpleNameSyntax s => s,
                _ => SyntaxFactory.IdentifierName(attribute.Name.ToString()),
            };
            var renamed = SyntaxFactory.IdentifierName(suggestion).WithTriviaFrom(name);
            var newAttribute = attribute.Name is SimpleNameSyntax
                ? attribute.WithName(renamed)
                : attribute.ReplaceNode(name, renamed);
            return document.WithSyntaxRoot(root!.ReplaceNode(attribute, newAttribute));
        }
    }
}

using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Generator.Parsing
{
    /// <summary>
    /// A source location kept as plain values (a <see cref="Location"/> holds a syntax tree, which would
    /// defeat incremental caching).
    /// </summary>
    internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

        public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());

        public static LocationInfo? From(Location location)
        {
            if (location.SourceTree is null) return null;
            return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
        }
    }

    /// <summary>A diagnostic as data: descriptor id, location and message arguments.</summary>
    internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Args)
    {
        /// <summary>The diagnostic's properties as key, value, key, value... (e.g. "Suggestion", "Dense"), for code fixes.</summary>
        public EquatableArray<string> Properties { get; init; } = EquatableArray<string>.Empty;

        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args)
        {
            var strings = new string[args.Length];
            for (int i = 0; i < args.Length; i++) strings[i] = Convert.ToString(args[i], System.Globalization.CultureInfo.InvariantCulture) ?? "";
            return new DiagnosticInfo(descriptor.Id, location, new EquatableArray<string>(strings));
        }
    }
}

using System.Globalization;
using System.Text;

namespace CnnGen.Generator.Parsing
{
    /// <summary>
    /// What a user string may be (docs/diagnostics.md, CNN0051). A layer's <c>Name</c> and a residual's <c>ShortcutName</c>
    /// become parts of safetensors keys, so they follow PyTorch's keys: one or more segments separated by dots, each of
    /// ASCII letters, digits and underscores (Python attribute names and nn.Sequential indices: <c>conv1</c>,
    /// <c>features.0</c>, <c>layer2.0.downsample</c>). A block's <c>ModuleName</c> is the PyTorch class summaries show:
    /// a Python identifier of ASCII letters, digits and underscores, not starting with a digit. Both at most
    /// <see cref="MaxLength"/> characters. Anything else (empty, quotes, backslashes, spaces, non-ASCII, empty segments)
    /// is a CNN0051 error, so no such string ever reaches generated code.
    /// </summary>
    internal static class UserStrings
    {
        public const int MaxLength = 100;

        public const string KeyRule = "use dot-separated segments of ASCII letters, digits and underscores (like \"conv1\" or \"features.0\"), at most 100 characters";

        public const string ModuleRule = "use a Python class name: ASCII letters, digits and underscores, not starting with a digit (like \"BasicBlock\"), at most 100 characters";

        /// <summary>True for a valid key path (<c>features.0</c>).</summary>
        public static bool IsKeyPath(string? s)
        {
            if (s is null || s.Length == 0 || s.Length > MaxLength) return false;
            bool segmentStart = true;
            foreach (char c in s)
            {
                if (c == '.')
                {
                    if (segmentStart) return false; // leading dot or ".."
                    segmentStart = true;
                }
                else if (IsWordChar(c)) segmentStart = false;
                else return false;
            }
            return !segmentStart; // no trailing dot
        }

        /// <summary>True for a valid module (class) name.</summary>
        public static bool IsModuleName(string? s)
        {
            if (s is null || s.Length == 0 || s.Length > MaxLength || (s[0] >= '0' && s[0] <= '9')) return false;
            foreach (char c in s)
            {
                if (!IsWordChar(c)) return false;
            }
            return true;
        }

        private static bool IsWordChar(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';

        /// <summary>The string as a C#-style quoted literal for a message: quotes, backslashes, control and non-ASCII characters escaped.</summary>
        public static string Quote(string? s)
        {
            if (s is null) return "null";
            var sb = new StringBuilder("\"");
            foreach (char c in s.Length > MaxLength + 20 ? s.Substring(0, MaxLength + 20) : s)
            {
                if (c == '"' || c == '\\') sb.Append('\\').Append(c);
                else if (c >= ' ' && c < 0x7F) sb.Append(c);
                else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            if (s.Length > MaxLength + 20) sb.Append("...");
            return sb.Append('"').ToString();
        }

        /// <summary>CNN0051 for a bad key path in <paramref name="argument"/> ("Name", "ShortcutName"), or null when it is fine.</summary>
        public static DiagnosticInfo? CheckKeyPath(string? value, string argument, string what, LocationInfo? location) =>
            value is null || IsKeyPath(value) ? null
                : DiagnosticInfo.Create(Diagnostics.InvalidKeyName, location, what, argument, Quote(value), "weight key", KeyRule);
    }
}

using System.Collections.Generic;
using System.Text;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// Keeps generated lines readable: a line longer than <see cref="MaxLength"/> characters is split where C# allows it
    /// without changing what it means. Comments (<c>//</c>, <c>///</c>) are wrapped between words onto lines with the same
    /// prefix; a trailing comment moves onto its own line above its code; code is split after <c>", "</c>, <c>"; "</c>,
    /// <c>" &amp;&amp; "</c>, <c>" || "</c> and <c>" => "</c>, and before <c>throw</c>, outside string and character literals, continuation lines indented one
    /// level deeper. Preprocessor lines and lines with no such place are left as they are.
    /// </summary>
    internal static class LineWrap
    {
        /// <summary>The longest generated line wanted (the issue-14 readability rule; tests check it).</summary>
        public const int MaxLength = 200;

        private const string Continuation = "    ";

        /// <summary>The lines <paramref name="indent"/> + <paramref name="text"/> becomes (itself when it is short enough).</summary>
        public static List<string> Wrap(string indent, string text)
        {
            var lines = new List<string>();
            if (indent.Length + text.Length <= MaxLength)
            {
                lines.Add(indent + text);
                return lines;
            }
            int lead = 0;
            while (lead < text.Length && text[lead] == ' ') lead++;
            string baseIndent = indent + text.Substring(0, lead);
            string body = text.Substring(lead);
            if (body.StartsWith("#", System.StringComparison.Ordinal))
            {
                lines.Add(indent + text);
                return lines;
            }
            if (body.StartsWith("//", System.StringComparison.Ordinal))
            {
                WrapComment(baseIndent, body, lines);
                return lines;
            }
            var breaks = new List<int>();
            int comment = Scan(body, breaks);
            string code = body;
            if (comment >= 0)
            {
                WrapComment(baseIndent, body.Substring(comment), lines);
                code = body.Substring(0, comment).TrimEnd();
                breaks.RemoveAll(b => b >= code.Length);
            }
            WrapCode(baseIndent, code, breaks, lines);
            return lines;
        }

        private static void WrapComment(string indent, string comment, List<string> lines)
        {
            string prefix = comment.StartsWith("///", System.StringComparison.Ordinal) ? "///" : "//";
            string words = comment.Substring(prefix.Length).TrimStart();
            var line = new StringBuilder(indent).Append(prefix);
            int start = line.Length;
            foreach (string word in words.Split(' '))
            {
                if (word.Length == 0) continue;
                if (line.Length > start && line.Length + 1 + word.Length > MaxLength)
                {
                    lines.Add(line.ToString());
                    line.Clear().Append(indent).Append(prefix);
                }
                line.Append(' ').Append(word);
            }
            lines.Add(line.ToString());
        }

        private static void WrapCode(string indent, string code, List<int> breaks, List<string> lines)
        {
            int start = 0;
            string current = indent;
            int last = -1; // the furthest break that still fits on the current line
            foreach (int b in breaks)
            {
                while (true)
                {
                    if (current.Length + (b - start) <= MaxLength)
                    {
                        last = b;
                        break;
                    }
                    // b does not fit: end the line at the last break that did, and try b again on the next line.
                    int cut = last > start ? last : b; // nothing fits before b: an unavoidably long piece ends at b
                    lines.Add(current + code.Substring(start, cut - start).TrimEnd());
                    start = cut;
                    current = indent + Continuation;
                    last = -1;
                    if (cut == b) break;
                }
            }
            if (current.Length + (code.Length - start) > MaxLength && last > start)
            {
                lines.Add(current + code.Substring(start, last - start).TrimEnd());
                start = last;
                current = indent + Continuation;
            }
            lines.Add(current + code.Substring(start));
        }

        /// <summary>
        /// Collects the positions after which <paramref name="code"/> may break (outside literals) into
        /// <paramref name="breaks"/>; returns where a trailing <c>//</c> comment starts, or -1.
        /// </summary>
        private static int Scan(string code, List<int> breaks)
        {
            // A stack of open literal contexts: 'r' regular string, 'v' verbatim string, 'i' interpolated regular,
            // 'w' interpolated verbatim, 'h' an interpolation hole (code inside a string), counting its braces in holes.
            var stack = new Stack<char>();
            var holeDepth = new Stack<int>();
            for (int i = 0; i < code.Length; i++)
            {
                char c = code[i];
                char top = stack.Count > 0 ? stack.Peek() : 'c';
                bool inCode = top == 'c' || top == 'h';
                if (inCode)
                {
                    if (c == '/' && i + 1 < code.Length && code[i + 1] == '/') return stack.Count == 0 ? i : -1;
                    if (c == '\'')
                    {
                        i++;
                        while (i < code.Length && code[i] != '\'') i += code[i] == '\\' ? 2 : 1;
                        continue;
                    }
                    if (c == '"')
                    {
                        bool dollar = i > 0 && (code[i - 1] == '$' || (i > 1 && code[i - 1] == '@' && code[i - 2] == '$'));
                        bool verbatim = i > 0 && (code[i - 1] == '@' || (i > 1 && code[i - 1] == '$' && code[i - 2] == '@'));
                        stack.Push(dollar ? (verbatim ? 'w' : 'i') : verbatim ? 'v' : 'r');
                        continue;
                    }
                    if (top == 'h')
                    {
                        if (c == '{') holeDepth.Push(holeDepth.Pop() + 1);
                        else if (c == '}')
                        {
                            int d = holeDepth.Pop() - 1;
                            if (d < 0) stack.Pop();
                            else holeDepth.Push(d);
                        }
                        continue;
                    }
                    if (c == ' ' && string.CompareOrdinal(code, i, " throw ", 0, 7) == 0)
                    {
                        breaks.Add(i + 1); // before a throw (if (...) throw ...)
                    }
                    else if (c == '=' && i > 0 && code[i - 1] == ' ' && i + 2 < code.Length && code[i + 1] == '>' && code[i + 2] == ' ')
                    {
                        breaks.Add(i + 3); // after the => of an expression body or lambda
                        i++;
                    }
                    else if (c == ',' || c == ';')
                    {
                        if (i + 1 < code.Length && code[i + 1] == ' ') breaks.Add(i + 2);
                    }
                    else if ((c == '&' || c == '|') && i + 2 < code.Length && code[i + 1] == c && code[i + 2] == ' ' && i > 0 && code[i - 1] == ' ')
                    {
                        breaks.Add(i + 3);
                        i++;
                    }
                    continue;
                }
                // Inside a string literal.
                if ((top == 'r' || top == 'i') && c == '\\')
                {
                    i++;
                    continue;
                }
                if (c == '"')
                {
                    if ((top == 'v' || top == 'w') && i + 1 < code.Length && code[i + 1] == '"') { i++; continue; }
                    stack.Pop();
                    continue;
                }
                if ((top == 'i' || top == 'w') && c == '{')
                {
                    if (i + 1 < code.Length && code[i + 1] == '{') { i++; continue; }
                    stack.Push('h');
                    holeDepth.Push(0);
                }
            }
            return -1;
        }
    }
}

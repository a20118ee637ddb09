using System;
using System.Text;

namespace CnnGen.Generator.Emit
{
    /// <summary>A small indented text writer for generated code (no SyntaxFactory: plain text is faster and readable).</summary>
    internal sealed class CodeWriter
    {
        private readonly StringBuilder _sb = new StringBuilder();
        private int _indent;

        /// <summary>What C# reads as the end of a line (a // comment ends there).</summary>
        private static readonly char[] s_lineBreaks = { '\n', '\r', '\u0085', '\u2028', '\u2029' };

        /// <summary>
        /// One line; a line break inside <paramref name="text"/> (a user string in a comment) becomes a space, and a line
        /// longer than <see cref="LineWrap.MaxLength"/> is split where C# allows it (<see cref="LineWrap"/>).
        /// </summary>
        public CodeWriter Line(string text = "")
        {
            if (text.IndexOfAny(s_lineBreaks) >= 0)
            {
                foreach (char c in s_lineBreaks) text = text.Replace(c, ' ');
            }
            if (text.Length == 0)
            {
                _sb.Append('\n');
                return this;
            }
            if (_indent * 4 + text.Length <= LineWrap.MaxLength)
            {
                _sb.Append(' ', _indent * 4).Append(text).Append('\n'); // the common case: no wrapping, no allocation
                return this;
            }
            foreach (string line in LineWrap.Wrap(new string(' ', _indent * 4), text)) _sb.Append(line).Append('\n');
            return this;
        }

        public CodeWriter Open(string text)
        {
            if (text.Length > 0) Line(text);
            Line("{");
            _indent++;
            return this;
        }

        public CodeWriter Close(string suffix = "")
        {
            _indent--;
            Line("}" + suffix);
            return this;
        }

        public IDisposable Block(string text)
        {
            Open(text);
            return new Closer(this);
        }

        /// <summary>Writes every line of <paramref name="text"/> with <paramref name="prefix"/>.</summary>
        public CodeWriter Lines(string prefix, string text)
        {
            foreach (var line in text.TrimEnd('\n').Split('\n')) Line(prefix + line);
            return this;
        }

        public override string ToString() => _sb.ToString();

        private sealed class Closer : IDisposable
        {
            private readonly CodeWriter _w;
            public Closer(CodeWriter w) { _w = w; }
            public void Dispose() => _w.Close();
        }
    }
}

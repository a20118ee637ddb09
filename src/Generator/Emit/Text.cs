using System.Globalization;
using System.Text;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// The one way values reach generated code as text: user strings (layer <c>Name</c>, block <c>ModuleName</c>, file
    /// names) only as <see cref="Str"/> literals or <see cref="Xml"/> doc text, floats only through <see cref="Float"/>.
    /// (Line breaks inside one generated line are replaced by <see cref="CodeWriter"/>, so a user string in a comment
    /// cannot end it.)
    /// </summary>
    internal static class Text
    {
        /// <summary>A C# regular string literal of <paramref name="s"/>, quotes included; every character that could end or bend it escaped.</summary>
        public static string Str(string s)
        {
            var sb = new StringBuilder(s.Length + 2).Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '\\': sb.Append("\\\\"); break;
                    case '"': sb.Append("\\\""); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\0': sb.Append("\\0"); break;
                    default:
                        if (char.IsControl(c) || c == '\u2028' || c == '\u2029' || char.IsSurrogate(c) && !char.IsHighSurrogate(c) && !char.IsLowSurrogate(c))
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }

        /// <summary>
        /// A C# float literal that reads back as exactly <c>(float)<paramref name="v"/></c>: the shortest round-trip digits
        /// (9 significant digits when "R" does not round-trip), with the <c>f</c> suffix; -0 as <c>-0f</c>; NaN and the
        /// infinities spelled as <c>float.NaN</c> / <c>float.PositiveInfinity</c> / <c>float.NegativeInfinity</c>.
        /// </summary>
        public static string Float(double v) => Format((float)v, shortest: true);

        /// <summary>
        /// The same for tables of data (compiled-in weights): always 9 significant digits, which round-trip every float and
        /// keep the columns of a weights table the same width.
        /// </summary>
        public static string FloatData(float v) => Format(v, shortest: false);

        private static string Format(float f, bool shortest)
        {
            if (float.IsNaN(f)) return "float.NaN";
            if (float.IsPositiveInfinity(f)) return "float.PositiveInfinity";
            if (float.IsNegativeInfinity(f)) return "float.NegativeInfinity";
            if (f == 0) return System.BitConverter.ToInt32(System.BitConverter.GetBytes(f), 0) < 0 ? "-0f" : "0f";
            string r = f.ToString(shortest ? "R" : "G9", CultureInfo.InvariantCulture);
            if (!float.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out float back) || back != f) r = f.ToString("G9", CultureInfo.InvariantCulture);
            return r + "f";
        }

        /// <summary>A double as a comment shows it (round-trip digits).</summary>
        public static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

        /// <summary>Text for an XML doc comment.</summary>
        public static string Xml(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using CnnGen.Generator.Parsing;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Weights
{
    // Everything in this file flows through the incremental pipeline: records of primitives, strings and
    // EquatableArray only, so an unchanged weights file is a cache hit.

    /// <summary>One tensor of a safetensors header: key, dtype, shape and byte range in the data section.</summary>
    internal sealed record TensorEntry(string Name, string DType, EquatableArray<long> Shape, long Begin, long End)
    {
        public string ShapeText => "[" + string.Join(", ", Shape) + "]";
    }

    /// <summary>
    /// A weights file as the compiler sees it. Roslyn hands AdditionalFiles to generators as text, which would
    /// mangle binary safetensors, so CnnGen.targets writes each <c>.safetensors</c> AdditionalFiles item as a
    /// base64 text file (<see cref="EncodedExtension"/>) and adds that as an AdditionalFiles item too. The raw
    /// item is kept (<see cref="Encoded"/> false, never read) only to explain a missing build step.
    /// </summary>
    internal sealed record WeightsFileSpec(
        string Source,
        string FileName,
        bool Encoded,
        string? Error,
        string Sha256,
        EquatableArray<TensorEntry> Tensors,
        EquatableArray<byte> Data)
    {
        /// <summary>The extension of the encoded form written by CnnGen.targets.</summary>
        public const string EncodedExtension = ".cnngen-weights";

        /// <summary>The first line of the encoded form (format version 1).</summary>
        public const string Magic = "cnngen-weights 1";

        public static bool IsWeightsPath(string path) =>
            path.EndsWith(EncodedExtension, StringComparison.OrdinalIgnoreCase) || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);

        /// <summary>Reads an AdditionalFiles item: decodes the encoded form, or records a raw .safetensors item's path only.</summary>
        public static WeightsFileSpec From(AdditionalText file, System.Threading.CancellationToken ct)
        {
            string path = file.Path;
            if (!path.EndsWith(EncodedExtension, StringComparison.OrdinalIgnoreCase))
            {
                string raw = Normalize(path);
                return new WeightsFileSpec(raw, FileNameOf(raw), false, null, "", EquatableArray<TensorEntry>.Empty, EquatableArray<byte>.Empty);
            }
            string text = file.GetText(ct)?.ToString() ?? "";
            return Decode(text, FileNameOf(Normalize(path)));
        }

        /// <summary>Decodes the encoded form (see CnnGen.targets): a magic line, <c>source:</c>, <c>length:</c>, then base64 lines.</summary>
        public static WeightsFileSpec Decode(string text, string encodedName)
        {
            string source = encodedName.EndsWith(EncodedExtension, StringComparison.OrdinalIgnoreCase)
                ? encodedName.Substring(0, encodedName.Length - EncodedExtension.Length)
                : encodedName;
            WeightsFileSpec Fail(string error) =>
                new WeightsFileSpec(source, FileNameOf(source), true, error, "", EquatableArray<TensorEntry>.Empty, EquatableArray<byte>.Empty);

            string[] lines = text.Replace("\r", "").Split('\n');
            if (lines.Length < 3 || lines[0] != Magic || !lines[1].StartsWith("source: ", StringComparison.Ordinal) || !lines[2].StartsWith("length: ", StringComparison.Ordinal))
                return Fail("its encoded form written by CnnGen.targets is damaged (rebuild to rewrite it)");
            source = Normalize(lines[1].Substring("source: ".Length));
            if (!long.TryParse(lines[2].Substring("length: ".Length), NumberStyles.None, CultureInfo.InvariantCulture, out long length))
                return Fail("its encoded form written by CnnGen.targets is damaged (rebuild to rewrite it)");
            var b64 = new StringBuilder();
            for (int i = 3; i < lines.Length; i++) b64.Append(lines[i].Trim());
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(b64.ToString());
            }
            catch (FormatException)
            {
                return Fail("its encoded form written by CnnGen.targets is damaged (rebuild to rewrite it)");
            }
            if (bytes.Length != length)
                return Fail("its encoded form written by CnnGen.targets is damaged (rebuild to rewrite it)");
            return Parse(source, bytes);
        }

        /// <summary>Parses and checks a safetensors file's structure (not yet against a model).</summary>
        public static WeightsFileSpec Parse(string source, byte[] bytes)
        {
            string sha = Sha256Hex(bytes);
            WeightsFileSpec Fail(string error) =>
                new WeightsFileSpec(source, FileNameOf(source), true, error, sha, EquatableArray<TensorEntry>.Empty, EquatableArray<byte>.Empty);

            if (bytes.Length < 8)
                return Fail($"it holds {bytes.Length} bytes, less than the 8-byte header length");
            ulong headerLength = 0;
            for (int i = 7; i >= 0; i--) headerLength = (headerLength << 8) | bytes[i];
            if (headerLength > (ulong)(bytes.Length - 8))
                return Fail($"the header length {headerLength} runs past the end of the file ({bytes.Length} bytes): the file is truncated or not safetensors");
            int dataStart = 8 + (int)headerLength;
            long dataLength = bytes.Length - dataStart;

            object? root;
            try
            {
                string json = new UTF8Encoding(false, true).GetString(bytes, 8, (int)headerLength);
                root = new MiniJson(json).ParseDocument();
            }
            catch (Exception ex) when (ex is FormatException || ex is ArgumentException)
            {
                return Fail("its JSON header cannot be read: " + ex.Message);
            }
            if (!(root is Dictionary<string, object?> entries))
                return Fail("its JSON header is not an object");

            var tensors = new List<TensorEntry>();
            foreach (var kv in entries)
            {
                if (kv.Key == "__metadata__") continue;
                if (!(kv.Value is Dictionary<string, object?> t)
                    || !t.TryGetValue("dtype", out object? dt) || !(dt is string dtype)
                    || !t.TryGetValue("shape", out object? sh) || !(sh is List<object?> shapeList)
                    || !t.TryGetValue("data_offsets", out object? off) || !(off is List<object?> offsets) || offsets.Count != 2)
                    return Fail($"the header entry of tensor '{kv.Key}' lacks dtype, shape or data_offsets");
                var shape = new long[shapeList.Count];
                for (int i = 0; i < shape.Length; i++)
                {
                    if (!(shapeList[i] is long d) || d < 0) return Fail($"tensor '{kv.Key}' has an invalid shape");
                    shape[i] = d;
                }
                if (!(offsets[0] is long begin) || !(offsets[1] is long end) || begin < 0 || end < begin)
                    return Fail($"tensor '{kv.Key}' has invalid data_offsets");
                if (end > dataLength)
                    return Fail($"tensor '{kv.Key}' ends at byte {end} of the data, but the file holds only {dataLength} data bytes: the file is truncated");
                int size = ElementSize(dtype);
                if (size > 0)
                {
                    long count = 1;
                    foreach (long d in shape) count = d == 0 ? 0 : (count > long.MaxValue / d ? -1 : count * d);
                    if (count < 0 || count * size != end - begin)
                        return Fail($"tensor '{kv.Key}' of shape [{string.Join(", ", shape)}] and dtype {dtype} needs {count * size} bytes, but its data_offsets span {end - begin}");
                }
                tensors.Add(new TensorEntry(kv.Key, dtype, new EquatableArray<long>(shape), begin, end));
            }
            tensors.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            var data = new byte[dataLength];
            Array.Copy(bytes, dataStart, data, 0, data.Length);
            return new WeightsFileSpec(source, FileNameOf(source), true, null, sha, new EquatableArray<TensorEntry>(tensors.ToArray()), new EquatableArray<byte>(data));
        }

        /// <summary>Bytes per element of a safetensors dtype; 0 when unknown.</summary>
        public static int ElementSize(string dtype)
        {
            switch (dtype)
            {
                case "BOOL": case "U8": case "I8": case "F8_E4M3": case "F8_E5M2": return 1;
                case "U16": case "I16": case "F16": case "BF16": return 2;
                case "U32": case "I32": case "F32": return 4;
                case "U64": case "I64": case "F64": return 8;
                default: return 0;
            }
        }

        /// <summary>Forward slashes, no leading "./".</summary>
        public static string Normalize(string path)
        {
            string p = path.Replace('\\', '/');
            while (p.StartsWith("./", StringComparison.Ordinal)) p = p.Substring(2);
            return p;
        }

        public static string FileNameOf(string normalized)
        {
            int slash = normalized.LastIndexOf('/');
            return slash < 0 ? normalized : normalized.Substring(slash + 1);
        }

        private static string Sha256Hex(byte[] bytes)
        {
            using (var sha = System.Security.Cryptography.SHA256.Create())
            {
                byte[] hash = sha.ComputeHash(bytes);
                var sb = new StringBuilder(64);
                foreach (byte b in hash) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
                return sb.ToString();
            }
        }
    }

    /// <summary>
    /// Just enough JSON for a safetensors header: objects (→ Dictionary), arrays (→ List), strings, integers
    /// (→ long), other numbers (→ double), true/false/null. Throws FormatException on anything malformed.
    /// </summary>
    internal sealed class MiniJson
    {
        private readonly string _s;
        private int _i;

        public MiniJson(string s) { _s = s; }

        public object? ParseDocument()
        {
            object? value = Value(0);
            Skip();
            if (_i != _s.Length) throw Error("unexpected text after the JSON value");
            return value;
        }

        private FormatException Error(string what) => new FormatException($"{what} at character {_i}");

        private void Skip()
        {
            while (_i < _s.Length && (_s[_i] == ' ' || _s[_i] == '\t' || _s[_i] == '\n' || _s[_i] == '\r')) _i++;
        }

        private object? Value(int depth)
        {
            if (depth > 64) throw Error("JSON nested too deeply");
            Skip();
            if (_i >= _s.Length) throw Error("unexpected end of the JSON header");
            char c = _s[_i];
            if (c == '{') return Object(depth);
            if (c == '[') return Array(depth);
            if (c == '"') return String();
            if (c == '-' || (c >= '0' && c <= '9')) return Number();
            if (Literal("true")) return true;
            if (Literal("false")) return false;
            if (Literal("null")) return null;
            throw Error($"unexpected '{c}'");
        }

        private bool Literal(string word)
        {
            if (string.CompareOrdinal(_s, _i, word, 0, word.Length) != 0) return false;
            _i += word.Length;
            return true;
        }

        private Dictionary<string, object?> Object(int depth)
        {
            var result = new Dictionary<string, object?>(StringComparer.Ordinal);
            _i++;
            Skip();
            if (_i < _s.Length && _s[_i] == '}') { _i++; return result; }
            while (true)
            {
                Skip();
                if (_i >= _s.Length || _s[_i] != '"') throw Error("expected a key");
                string key = String();
                Skip();
                if (_i >= _s.Length || _s[_i] != ':') throw Error("expected ':'");
                _i++;
                if (result.ContainsKey(key)) throw Error($"duplicate key '{key}'");
                result[key] = Value(depth + 1);
                Skip();
                if (_i < _s.Length && _s[_i] == ',') { _i++; continue; }
                if (_i < _s.Length && _s[_i] == '}') { _i++; return result; }
                throw Error("expected ',' or '}'");
            }
        }

        private List<object?> Array(int depth)
        {
            var result = new List<object?>();
            _i++;
            Skip();
            if (_i < _s.Length && _s[_i] == ']') { _i++; return result; }
            while (true)
            {
                result.Add(Value(depth + 1));
                Skip();
                if (_i < _s.Length && _s[_i] == ',') { _i++; continue; }
                if (_i < _s.Length && _s[_i] == ']') { _i++; return result; }
                throw Error("expected ',' or ']'");
            }
        }

        private string String()
        {
            var sb = new StringBuilder();
            _i++; // opening quote
            while (_i < _s.Length)
            {
                char c = _s[_i++];
                if (c == '"') return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                if (_i >= _s.Length) break;
                char e = _s[_i++];
                switch (e)
                {
                    case '"': case '\\': case '/': sb.Append(e); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_i + 4 > _s.Length || !int.TryParse(_s.Substring(_i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int u))
                            throw Error("invalid \\u escape");
                        sb.Append((char)u);
                        _i += 4;
                        break;
                    default: throw Error($"invalid escape '\\{e}'");
                }
            }
            throw Error("unterminated string");
        }

        private object Number()
        {
            int start = _i;
            if (_s[_i] == '-') _i++;
            bool integer = true;
            while (_i < _s.Length)
            {
                char c = _s[_i];
                if (c >= '0' && c <= '9') { _i++; continue; }
                if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') { integer = false; _i++; continue; }
                break;
            }
            string text = _s.Substring(start, _i - start);
            if (integer && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
            throw Error($"invalid number '{text}'");
        }
    }
}

// This file is compiled into two assemblies: the runtime (SafeTensors.LoadInto / Read) and the generator (baking of
// [Model(Weights = "...")]), so a file is accepted or rejected by the same rules, with the same words, in both.
// It is written in the C# both share (netstandard2.0 + the generator's polyfills): no spans, no newer BCL APIs.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

#if CNNGEN_GENERATOR
namespace CnnGen.Generator.Weights
#else
namespace CnnGen.IO
#endif
{
    /// <summary>One tensor as a safetensors header describes it: key, dtype name, shape, byte range in the data section.</summary>
    internal sealed class SafeTensorsEntry
    {
        public SafeTensorsEntry(string name, string dtype, long[] shape, long begin, long end)
        {
            Name = name;
            DType = dtype;
            Shape = shape;
            Begin = begin;
            End = end;
        }

        public string Name { get; }
        public string DType { get; }
        public long[] Shape { get; }
        public long Begin { get; }
        public long End { get; }

        /// <summary>The product of the dimensions (checked by <see cref="SafeTensorsFormat.ParseHeader"/> to fit an int).</summary>
        public long ElementCount
        {
            get
            {
                long n = 1;
                foreach (long d in Shape) n *= d;
                return n;
            }
        }
    }

    /// <summary>A parsed and checked header: entries in header order, the metadata, and the exact data-section size.</summary>
    internal sealed class SafeTensorsHeader
    {
        public SafeTensorsHeader(List<SafeTensorsEntry> entries, Dictionary<string, string> metadata, long dataLength)
        {
            Entries = entries;
            Metadata = metadata;
            DataLength = dataLength;
        }

        /// <summary>The tensors in the order the header lists them.</summary>
        public List<SafeTensorsEntry> Entries { get; }

        /// <summary>The <c>__metadata__</c> strings.</summary>
        public Dictionary<string, string> Metadata { get; }

        /// <summary>The size the data section must have: the tensors cover [0, DataLength) exactly.</summary>
        public long DataLength { get; }
    }

    /// <summary>A rule of the safetensors format that a file breaks; <see cref="Key"/> names the tensor when one is at fault.</summary>
    internal sealed class SafeTensorsFormatProblem : Exception
    {
        public SafeTensorsFormatProblem(string problem, string? key = null) : base(problem) { Key = key; }

        public string? Key { get; }
    }

    /// <summary>
    /// The one validator of the safetensors format: an 8-byte little-endian header length (at least 2, at most
    /// <see cref="MaxHeaderBytes"/>, within the file), a UTF-8 JSON object whose entries are exactly
    /// <c>{dtype, shape, data_offsets}</c> (known dtype, non-negative integer dimensions, element count within an int,
    /// <c>end - begin == count × dtype size</c> computed without overflow) plus an optional <c>__metadata__</c> object of
    /// strings, and a data section the tensors index entirely: sorted by offset they start at 0, each begins where the
    /// previous ends (no holes, no overlaps) and the last ends at the end of the file (no trailing bytes).
    /// Every method throws <see cref="SafeTensorsFormatProblem"/> with one sentence saying what is wrong.
    /// </summary>
    internal static class SafeTensorsFormat
    {
        /// <summary>Upper bound on the JSON header (the reference implementation uses the same 100 MB limit).</summary>
        public const int MaxHeaderBytes = 100_000_000;

        public const string MetadataKey = "__metadata__";

        /// <summary>The dtypes CnnGen reads, with their sizes in bytes; any other dtype is rejected.</summary>
        public static int ElementSize(string dtype)
        {
            switch (dtype)
            {
                case "BOOL": case "U8": case "I8": return 1;
                case "U16": case "I16": case "F16": case "BF16": return 2;
                case "U32": case "I32": case "F32": return 4;
                case "U64": case "I64": case "F64": return 8;
                default: return 0;
            }
        }

        /// <summary>
        /// Checks the 8-byte prefix (little-endian header length) against the bytes that follow it.
        /// <paramref name="available"/> is the number of bytes after the prefix, or -1 when unknown (a pipe).
        /// </summary>
        /// <returns>The header length, ready to read.</returns>
        public static int CheckHeaderLength(byte[] prefix, int prefixLength, long available)
        {
            if (prefixLength < 8)
                throw new SafeTensorsFormatProblem($"the file is {prefixLength} bytes long, less than the 8-byte header length of the safetensors format");
            ulong length = 0;
            for (int i = 7; i >= 0; i--) length = (length << 8) | prefix[i];
            if (length < 2)
                throw new SafeTensorsFormatProblem($"header length {length} is too small to hold a JSON object");
            if (available >= 0 && length > (ulong)available)
                throw new SafeTensorsFormatProblem($"header length {length} is larger than the rest of the file ({available} bytes): it runs past the end of the file, which is truncated or not safetensors");
            if (length > MaxHeaderBytes)
                throw new SafeTensorsFormatProblem($"header length {length} exceeds the {MaxHeaderBytes}-byte limit: not a safetensors file");
            return (int)length;
        }

        /// <summary>Parses and checks the JSON header (<paramref name="count"/> bytes at <paramref name="offset"/>), tensors and layout included.</summary>
        public static SafeTensorsHeader ParseHeader(byte[] bytes, int offset, int count)
        {
            object? root;
            try
            {
                string json = new UTF8Encoding(false, true).GetString(bytes, offset, count);
                root = new SafeTensorsJson(json).ParseDocument();
            }
            catch (DecoderFallbackException ex)
            {
                throw new SafeTensorsFormatProblem("the JSON header cannot be read: it is not valid UTF-8 (" + ex.Message + ")");
            }
            catch (FormatException ex)
            {
                throw new SafeTensorsFormatProblem("the JSON header cannot be read: it is not well-formed JSON (" + ex.Message + ")");
            }
            if (root is not List<KeyValuePair<string, object?>> members)
                throw new SafeTensorsFormatProblem("the JSON header is not an object: the header must be a JSON object");

            var entries = new List<SafeTensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var kv in members)
            {
                if (!seen.Add(kv.Key))
                    throw kv.Key == MetadataKey
                        ? new SafeTensorsFormatProblem("the header has two __metadata__ entries (duplicate key)")
                        : new SafeTensorsFormatProblem($"tensor '{kv.Key}' appears twice in the header (duplicate key)", kv.Key);
                if (kv.Key == MetadataKey)
                    ReadMetadata(kv.Value, metadata);
                else
                    entries.Add(ReadEntry(kv.Key, kv.Value));
            }
            return new SafeTensorsHeader(entries, metadata, CheckLayout(entries));
        }

        /// <summary>
        /// Checks the data section's size against the header: <paramref name="available"/> bytes follow the header.
        /// Fewer is truncation (naming the first tensor that does not fit), more is trailing bytes.
        /// </summary>
        public static void CheckDataLength(SafeTensorsHeader header, long available)
        {
            if (available < header.DataLength)
            {
                foreach (SafeTensorsEntry e in Sorted(header.Entries))
                {
                    if (e.End > available)
                        throw new SafeTensorsFormatProblem($"tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] extend past the end of the data ({available} bytes after the header): the file is truncated", e.Name);
                }
            }
            if (available > header.DataLength)
            {
                string last = header.Entries.Count == 0 ? "the header (which lists no tensors)" : "the last tensor";
                throw new SafeTensorsFormatProblem($"the file has {available - header.DataLength} bytes after {last}, which no tensor indexes (the data section must hold exactly {header.DataLength} bytes)");
            }
        }

        /// <summary>The first NaN or infinity in <paramref name="values"/>[start, start + count), or -1.</summary>
        public static int FirstNonFinite(float[] values, int start, int count)
        {
            for (int i = 0; i < count; i++)
            {
                float v = values[start + i];
                if (float.IsNaN(v) || float.IsInfinity(v)) return i;
            }
            return -1;
        }

        /// <summary>The sentence for a non-finite value at element <paramref name="index"/> of tensor <paramref name="key"/>.</summary>
        public static string NonFiniteProblem(string key, string dtype, int index, float value) =>
            $"tensor '{key}' ({dtype}) holds a non-finite value ({(float.IsNaN(value) ? "NaN" : value > 0 ? "+Infinity" : "-Infinity")}) at element {index.ToString(CultureInfo.InvariantCulture)}";

        public static string ShapeText(long[] shape)
        {
            var sb = new StringBuilder("[");
            for (int i = 0; i < shape.Length; i++)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(shape[i].ToString(CultureInfo.InvariantCulture));
            }
            return sb.Append(']').ToString();
        }

        private static void ReadMetadata(object? value, Dictionary<string, string> metadata)
        {
            if (value is null) return;
            if (value is not List<KeyValuePair<string, object?>> members)
                throw new SafeTensorsFormatProblem("__metadata__ must be an object of strings");
            foreach (var kv in members)
            {
                if (kv.Value is not string s)
                    throw new SafeTensorsFormatProblem($"__metadata__ entry '{kv.Key}' must be a string, not {Describe(kv.Value)}");
                if (metadata.ContainsKey(kv.Key))
                    throw new SafeTensorsFormatProblem($"__metadata__ entry '{kv.Key}' appears twice (duplicate key)");
                metadata.Add(kv.Key, s);
            }
        }

        private static string Describe(object? value) => value switch
        {
            null => "null",
            bool _ => "a boolean",
            long _ => "a number",
            double _ => "a number",
            List<object?> _ => "an array",
            _ => "an object",
        };

        private static SafeTensorsEntry ReadEntry(string key, object? value)
        {
            if (key.Length == 0)
                throw new SafeTensorsFormatProblem("the header has a tensor with an empty key", key);
            if (value is not List<KeyValuePair<string, object?>> fields)
                throw new SafeTensorsFormatProblem($"tensor '{key}' must be described by an object with dtype, shape and data_offsets", key);
            object? dtypeValue = null, shapeValue = null, offsetsValue = null;
            bool hasDType = false, hasShape = false, hasOffsets = false;
            foreach (var f in fields)
            {
                switch (f.Key)
                {
                    case "dtype": hasDType = Once(hasDType, key, f.Key); dtypeValue = f.Value; break;
                    case "shape": hasShape = Once(hasShape, key, f.Key); shapeValue = f.Value; break;
                    case "data_offsets": hasOffsets = Once(hasOffsets, key, f.Key); offsetsValue = f.Value; break;
                    default: throw new SafeTensorsFormatProblem($"tensor '{key}' has unknown field '{f.Key}'", key);
                }
            }
            if (!hasDType || !hasShape || !hasOffsets)
            {
                string missing = !hasDType ? "dtype" : !hasShape ? "shape" : "data_offsets";
                throw new SafeTensorsFormatProblem($"tensor '{key}' lacks dtype, shape or data_offsets (it has no {missing})", key);
            }
            if (dtypeValue is not string dtype)
                throw new SafeTensorsFormatProblem($"tensor '{key}': dtype must be a string", key);
            if (ElementSize(dtype) == 0)
                throw new SafeTensorsFormatProblem($"tensor '{key}' has unsupported dtype '{dtype}'", key);

            if (shapeValue is not List<object?> dims)
                throw new SafeTensorsFormatProblem($"tensor '{key}' has an invalid shape: shape must be an array of non-negative integers", key);
            var shape = new long[dims.Count];
            long elements = 1;
            for (int i = 0; i < shape.Length; i++)
            {
                if (dims[i] is not long d || d < 0)
                    throw new SafeTensorsFormatProblem($"tensor '{key}' has an invalid shape: shape must be an array of non-negative integers", key);
                if (d > int.MaxValue)
                    throw new SafeTensorsFormatProblem($"tensor '{key}': dimension {d} is too large", key);
                shape[i] = d;
                // Both factors are at most int.MaxValue here, so the product cannot overflow a long.
                elements = d == 0 ? 0 : elements * d;
                if (elements > int.MaxValue)
                    throw new SafeTensorsFormatProblem($"tensor '{key}' {ShapeText(shape)} has too many elements (more than {int.MaxValue})", key);
            }

            if (offsetsValue is not List<object?> offsets || offsets.Count != 2 || offsets[0] is not long begin || offsets[1] is not long end || begin < 0 || end < 0)
                throw new SafeTensorsFormatProblem($"tensor '{key}' has invalid data_offsets: they must be two non-negative integers [begin, end]", key);
            if (end < begin)
                throw new SafeTensorsFormatProblem($"tensor '{key}' has invalid data_offsets [{begin}, {end}] that end before they begin", key);
            long needed = elements * ElementSize(dtype); // at most int.MaxValue * 8
            if (end - begin != needed)
                throw new SafeTensorsFormatProblem($"tensor '{key}' is {dtype} {ShapeText(shape)}, which needs {needed} bytes, but its data_offsets [{begin}, {end}] span {end - begin} bytes (the data_offsets span must be the dtype's size times the element count)", key);
            return new SafeTensorsEntry(key, dtype, shape, begin, end);
        }

        private static bool Once(bool already, string key, string field)
        {
            if (already) throw new SafeTensorsFormatProblem($"tensor '{key}' has two '{field}' fields (duplicate key)", key);
            return true;
        }

        /// <summary>Sorted by offset, the tensors must tile [0, end) exactly; returns end.</summary>
        private static long CheckLayout(List<SafeTensorsEntry> entries)
        {
            long position = 0;
            SafeTensorsEntry? previous = null;
            foreach (SafeTensorsEntry e in Sorted(entries))
            {
                if (e.Begin < position)
                    throw new SafeTensorsFormatProblem($"tensors '{previous!.Name}' [{previous.Begin}, {previous.End}] and '{e.Name}' [{e.Begin}, {e.End}] have overlapping data_offsets", e.Name);
                if (e.Begin > position)
                {
                    string after = previous is null ? "the start of the data" : $"tensor '{previous.Name}' (which ends at {previous.End})";
                    throw new SafeTensorsFormatProblem($"bytes [{position}, {e.Begin}) between {after} and tensor '{e.Name}' belong to no tensor: the data section has a hole", e.Name);
                }
                position = e.End;
                previous = e;
            }
            return position;
        }

        private static List<SafeTensorsEntry> Sorted(List<SafeTensorsEntry> entries)
        {
            var sorted = new List<SafeTensorsEntry>(entries);
            // Stable order for equal offsets (zero-size tensors) so messages never depend on the sort algorithm.
            var index = new Dictionary<SafeTensorsEntry, int>();
            for (int i = 0; i < entries.Count; i++) index[entries[i]] = i;
            sorted.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End != b.End ? a.End.CompareTo(b.End) : index[a].CompareTo(index[b]));
            return sorted;
        }
    }

    /// <summary>
    /// Just enough JSON for a safetensors header: objects (→ list of members, in order, duplicates kept for the caller
    /// to report), arrays (→ List), strings, integers (→ long), other numbers (→ double), true/false/null.
    /// Throws FormatException on anything malformed.
    /// </summary>
    internal sealed class SafeTensorsJson
    {
        private const int MaxDepth = 64;
        private readonly string _s;
        private int _i;

        public SafeTensorsJson(string s) { _s = s; }

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
            if (depth > MaxDepth) throw Error("JSON nested too deeply");
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

        private List<KeyValuePair<string, object?>> Object(int depth)
        {
            var result = new List<KeyValuePair<string, object?>>();
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
                result.Add(new KeyValuePair<string, object?>(key, Value(depth + 1)));
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
                if (c < ' ') throw Error("control character in a string");
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

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
        EquatableArray<byte> Data,
        bool Missing = false)
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

        /// <summary>
        /// Decodes the encoded form (see CnnGen.targets): a magic line, <c>source:</c>, <c>length:</c>, then base64 lines; or, for an
        /// item whose file does not exist, a magic line, <c>source:</c> and <c>missing: full path</c>.
        /// </summary>
        public static WeightsFileSpec Decode(string text, string encodedName)
        {
            string source = encodedName.EndsWith(EncodedExtension, StringComparison.OrdinalIgnoreCase)
                ? encodedName.Substring(0, encodedName.Length - EncodedExtension.Length)
                : encodedName;
            WeightsFileSpec Fail(string error) =>
                new WeightsFileSpec(source, FileNameOf(source), true, error, "", EquatableArray<TensorEntry>.Empty, EquatableArray<byte>.Empty);

            string[] lines = text.Replace("\r", "").Split('\n');
            if (lines.Length < 3 || lines[0] != Magic || !lines[1].StartsWith("source: ", StringComparison.Ordinal))
                return Fail("its encoded form written by CnnGen.targets is damaged (rebuild to rewrite it)");
            source = Normalize(lines[1].Substring("source: ".Length));
            if (lines.Length < 3 || !lines[2].StartsWith("length: ", StringComparison.Ordinal))
            {
                // CnnGen.targets writes "missing: <full path>" for an item whose file does not exist (CNN0047).
                if (lines[2].StartsWith("missing: ", StringComparison.Ordinal))
                    return new WeightsFileSpec(source, FileNameOf(source), true, lines[2].Substring("missing: ".Length), "",
                        EquatableArray<TensorEntry>.Empty, EquatableArray<byte>.Empty, Missing: true);
                return Fail("its encoded form written by CnnGen.targets is damaged (rebuild to rewrite it)");
            }
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

            // The one validator shared with the runtime's LoadWeights (src/Runtime/IO/SafeTensorsFormat.cs): a file is
            // baked exactly when LoadWeights would accept its structure.
            SafeTensorsHeader header;
            int dataStart;
            try
            {
                var prefix = new byte[8];
                int got = Math.Min(8, bytes.Length);
                Array.Copy(bytes, prefix, got);
                int headerLength = SafeTensorsFormat.CheckHeaderLength(prefix, got, bytes.Length - 8);
                dataStart = 8 + headerLength;
                header = SafeTensorsFormat.ParseHeader(bytes, 8, headerLength);
                SafeTensorsFormat.CheckDataLength(header, bytes.Length - dataStart);
            }
            catch (SafeTensorsFormatProblem p)
            {
                return Fail(p.Message);
            }

            var tensors = new List<TensorEntry>();
            foreach (SafeTensorsEntry e in header.Entries)
                tensors.Add(new TensorEntry(e.Name, e.DType, new EquatableArray<long>(e.Shape), e.Begin, e.End));
            tensors.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            var data = new byte[header.DataLength];
            Array.Copy(bytes, dataStart, data, 0, data.Length);
            return new WeightsFileSpec(source, FileNameOf(source), true, null, sha, new EquatableArray<TensorEntry>(tensors.ToArray()), new EquatableArray<byte>(data));
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
}

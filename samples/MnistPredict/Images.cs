using System;
using System.Buffers.Binary;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace CnnGen.Samples.MnistPredict;

/// <summary>A grayscale image: Width × Height bytes, row-major, 0 = black.</summary>
public sealed record GrayImage(int Width, int Height, byte[] Pixels);

/// <summary>
/// Readers for the image files mnist-predict takes: PGM (P2/P5) and PNG. PNG is decoded here with the framework's
/// zlib (<see cref="ZLibStream"/>), so the executable needs no native library and no package beside it.
/// Every malformed file raises <see cref="InvalidDataException"/> naming the file and the problem; the size is read from
/// the header and checked (against a caller's expected size, and against <see cref="MaxPixels"/>) before anything is decoded,
/// so memory stays bounded whatever the file claims.
/// </summary>
public static class Images
{
    /// <summary>The largest image decoded at all (4096 × 4096).</summary>
    public const long MaxPixels = 4096L * 4096;

    /// <summary>The largest file read (an image of <see cref="MaxPixels"/> in 16-bit RGBA, uncompressed, is 128 MB).</summary>
    public const long MaxFileBytes = 160L << 20;

    /// <summary>Reads a PGM or PNG file of any size up to <see cref="MaxPixels"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The gray pixels.</returns>
    public static GrayImage Read(string path) => Read(path, 0, 0);

    /// <summary>
    /// Reads a PGM or PNG file that must be <paramref name="width"/> × <paramref name="height"/> (0, 0: any size): the size in the
    /// header is checked before the pixels are decoded.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="width">The width the caller needs, or 0.</param>
    /// <param name="height">The height the caller needs, or 0.</param>
    /// <returns>The gray pixels.</returns>
    public static GrayImage Read(string path, int width, int height)
    {
        long length = new FileInfo(path).Length;
        if (length == 0)
            throw new InvalidDataException($"{path}: the file is empty");
        if (length > MaxFileBytes)
            throw new InvalidDataException($"{path}: the file is {length} bytes, more than an image this reader takes ({MaxFileBytes} bytes)");
        byte[] bytes = File.ReadAllBytes(path);
        var need = new Size(width, height);
        if (bytes.Length >= 8 && bytes.AsSpan(0, 8).SequenceEqual(PngSignature))
            return Png(bytes, path, need);
        if (bytes.Length >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '2'))
            return Pgm(bytes, path, need);
        throw new InvalidDataException($"{path}: not a PGM (P2/P5) or PNG file");
    }

    private readonly record struct Size(int Width, int Height);

    /// <summary>Checks a header's size: positive, within <see cref="MaxPixels"/>, and the caller's size when it asks for one.</summary>
    private static void CheckSize(string path, long w, long h, Size need)
    {
        if (w <= 0 || h <= 0)
            throw new InvalidDataException($"{path}: the header gives the image size {w}x{h}");
        if (need.Width > 0 && (w != need.Width || h != need.Height))
            throw new InvalidDataException($"{path}: the image is {w}x{h}, the model takes {need.Width}x{need.Height} (MNIST's size: a white digit on black)");
        if (w * h > MaxPixels)
            throw new InvalidDataException($"{path}: the image is {w}x{h}, more than the {MaxPixels} pixels this reader decodes");
    }

    // ---- PGM (netpbm): "P5 <w> <h> <maxval>" + one whitespace + binary samples, or "P2 ..." with ASCII samples.
    private static GrayImage Pgm(byte[] b, string path, Size need)
    {
        int pos = 2;
        long Token(string what)
        {
            while (true)
            {
                while (pos < b.Length && char.IsWhiteSpace((char)b[pos])) pos++;
                if (pos < b.Length && b[pos] == '#') { while (pos < b.Length && b[pos] != '\n') pos++; continue; }
                break;
            }
            if (pos >= b.Length)
                throw new InvalidDataException($"{path}: the PGM file ends before its {what}: it is truncated");
            int start = pos;
            while (pos < b.Length && b[pos] >= '0' && b[pos] <= '9') pos++;
            if (start == pos)
                throw new InvalidDataException($"{path}: malformed PGM: expected the {what} as a decimal number at byte {start}");
            if (pos - start > 9)
                throw new InvalidDataException($"{path}: malformed PGM: the {what} {Encoding.ASCII.GetString(b, start, Math.Min(pos - start, 20))} is too large");
            return long.Parse(Encoding.ASCII.GetString(b, start, pos - start), NumberStyles.None, CultureInfo.InvariantCulture);
        }
        bool binary = b[1] == '5';
        if (b.Length < 3 || !char.IsWhiteSpace((char)b[2]))
            throw new InvalidDataException($"{path}: malformed PGM: the magic number P{(char)b[1]} must be followed by whitespace");
        long w = Token("width"), h = Token("height");
        CheckSize(path, w, h, need);
        long max = Token("maxval");
        if (max <= 0 || max > 65535)
            throw new InvalidDataException($"{path}: invalid PGM maxval {max} (must be 1..65535)");
        var pixels = new byte[w * h];
        if (binary)
        {
            pos++; // the single whitespace after maxval
            int bps = max < 256 ? 1 : 2;
            if (b.Length - (long)pos < pixels.LongLength * bps)
                throw new InvalidDataException($"{path}: PGM data is truncated ({Math.Max(b.Length - pos, 0)} bytes for {w}x{h} samples of {bps} bytes)");
            for (int i = 0; i < pixels.Length; i++)
            {
                int v = bps == 1 ? b[pos + i] : (b[pos + 2 * i] << 8) | b[pos + 2 * i + 1];
                if (v > max)
                    throw new InvalidDataException($"{path}: PGM sample {i} is {v}, above the maxval {max}");
                pixels[i] = Scale(v, (int)max);
            }
        }
        else
        {
            for (int i = 0; i < pixels.Length; i++)
            {
                long v = Token($"sample {i}");
                if (v > max)
                    throw new InvalidDataException($"{path}: PGM sample {i} is {v}, above the maxval {max}");
                pixels[i] = Scale((int)v, (int)max);
            }
        }
        return new GrayImage((int)w, (int)h, pixels);
    }

    private static byte Scale(int v, int max) => (byte)Math.Clamp((v * 255L + max / 2) / max, 0, 255);

    // ---- PNG: IHDR, PLTE, IDAT chunks; bit depth 8 (or 16), colour types gray, RGB, palette, gray+alpha, RGBA; no interlacing.
    private static ReadOnlySpan<byte> PngSignature => new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    private static GrayImage Png(byte[] b, string path, Size need)
    {
        int pos = 8, w = 0, h = 0, depth = 0, colour = 0;
        bool header = false;
        byte[]? palette = null;
        var idat = new MemoryStream();
        while (pos + 8L <= b.Length)
        {
            uint declared = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(pos));
            string type = Encoding.Latin1.GetString(b, pos + 4, 4);
            if (declared > int.MaxValue || pos + 12L + declared > b.Length)
                throw new InvalidDataException($"{path}: PNG chunk {Printable(type)} of {declared} bytes runs past the end of the file: it is truncated");
            int length = (int)declared;
            var data = b.AsSpan(pos + 8, length);
            if (!header && type != "IHDR")
                throw new InvalidDataException($"{path}: malformed PNG: the first chunk is {Printable(type)}, not IHDR");
            switch (type)
            {
                case "IHDR":
                    if (header)
                        throw new InvalidDataException($"{path}: malformed PNG: two IHDR chunks");
                    if (length != 13)
                        throw new InvalidDataException($"{path}: malformed PNG: the IHDR chunk is {length} bytes, not 13");
                    header = true;
                    // The size first: nothing is decoded for an image of the wrong size.
                    CheckSize(path, BinaryPrimitives.ReadUInt32BigEndian(data), BinaryPrimitives.ReadUInt32BigEndian(data[4..]), need);
                    w = BinaryPrimitives.ReadInt32BigEndian(data);
                    h = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    depth = data[8];
                    colour = data[9];
                    if (data[10] != 0 || data[11] != 0)
                        throw new InvalidDataException($"{path}: malformed PNG: compression method {data[10]}, filter method {data[11]} (both must be 0)");
                    if (data[12] != 0)
                        throw new InvalidDataException($"{path}: interlaced PNG is not supported; save it without interlacing");
                    break;
                case "PLTE":
                    if (length == 0 || length % 3 != 0 || length > 768)
                        throw new InvalidDataException($"{path}: malformed PNG: a PLTE chunk of {length} bytes (must be 3 per entry, at most 256 entries)");
                    palette = data.ToArray();
                    break;
                case "IDAT": idat.Write(data); break;
            }
            pos += 12 + length;
            if (type == "IEND") break;
        }
        if (!header)
            throw new InvalidDataException($"{path}: malformed PNG: no IHDR chunk");
        int channels = colour switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        if (channels == 0 || !(depth == 8 || depth == 16) || (colour == 3 && (depth != 8 || palette is null)))
            throw new InvalidDataException($"{path}: unsupported PNG (bit depth {depth}, colour type {colour}); use 8-bit gray, RGB, RGBA or palette");
        if (idat.Length == 0)
            throw new InvalidDataException($"{path}: the PNG has no image data (no IDAT chunk): it is truncated");
        int bpp = channels * depth / 8;
        int stride = w * bpp; // w * h ≤ MaxPixels, so these fit
        var raw = new byte[(stride + 1L) * h];
        idat.Position = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            int read = 0, n;
            while (read < raw.Length && (n = z.Read(raw, read, raw.Length - read)) > 0) read += n;
            if (read != raw.Length)
                throw new InvalidDataException($"{path}: PNG image data is truncated ({read} of {raw.Length} bytes)");
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: corrupt PNG image data ({ex.Message})");
        }
        var cur = new byte[stride];
        var prev = new byte[stride];
        var pixels = new byte[w * h];
        int entries = palette is null ? 0 : palette.Length / 3;
        for (int y = 0; y < h; y++)
        {
            int filter = raw[y * (stride + 1)];
            if (filter > 4)
                throw new InvalidDataException($"{path}: invalid PNG filter {filter} on row {y}");
            Array.Copy(raw, y * (stride + 1) + 1, cur, 0, stride);
            for (int x = 0; x < stride; x++)
            {
                int a = x >= bpp ? cur[x - bpp] : 0, up = prev[x], c = x >= bpp ? prev[x - bpp] : 0;
                cur[x] = (byte)(cur[x] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => up,
                    3 => (a + up) >> 1,
                    _ => Paeth(a, up, c),
                });
            }
            for (int x = 0; x < w; x++)
            {
                int Sample(int ch) => depth == 8 ? cur[x * bpp + ch] : cur[x * bpp + 2 * ch]; // 16-bit: high byte
                int r, g, bl, alpha = 255;
                switch (colour)
                {
                    case 0: r = g = bl = Sample(0); break;
                    case 4: r = g = bl = Sample(0); alpha = Sample(1); break;
                    case 3:
                    {
                        if (cur[x] >= entries)
                            throw new InvalidDataException($"{path}: PNG pixel ({x}, {y}) uses palette entry {cur[x]}, but the palette has {entries}");
                        int i = cur[x] * 3;
                        r = palette![i]; g = palette[i + 1]; bl = palette[i + 2];
                        break;
                    }
                    case 2: r = Sample(0); g = Sample(1); bl = Sample(2); break;
                    default: r = Sample(0); g = Sample(1); bl = Sample(2); alpha = Sample(3); break;
                }
                // ITU-R BT.601 luma, composited over black (transparent = background).
                int luma = (299 * r + 587 * g + 114 * bl + 500) / 1000;
                pixels[y * w + x] = (byte)(luma * alpha / 255);
            }
            (cur, prev) = (prev, cur);
        }
        return new GrayImage(w, h, pixels);
    }

    private static string Printable(string type)
    {
        foreach (char c in type)
        {
            if (c < 0x21 || c > 0x7E)
                return "of type bytes " + BitConverter.ToString(Encoding.Latin1.GetBytes(type));
        }
        return "'" + type + "'";
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}

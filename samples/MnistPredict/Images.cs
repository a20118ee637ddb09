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
/// </summary>
public static class Images
{
    public static GrayImage Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length >= 8 && bytes.AsSpan(0, 8).SequenceEqual(PngSignature))
            return Png(bytes, path);
        if (bytes.Length >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '2'))
            return Pgm(bytes, path);
        throw new InvalidDataException($"{path}: not a PGM (P2/P5) or PNG file");
    }

    // ---- PGM (netpbm): "P5 <w> <h> <maxval>" + one whitespace + binary samples, or "P2 ..." with ASCII samples.
    private static GrayImage Pgm(byte[] b, string path)
    {
        int pos = 2;
        int Token()
        {
            while (true)
            {
                while (pos < b.Length && char.IsWhiteSpace((char)b[pos])) pos++;
                if (pos < b.Length && b[pos] == '#') { while (pos < b.Length && b[pos] != '\n') pos++; continue; }
                break;
            }
            int start = pos;
            while (pos < b.Length && b[pos] >= '0' && b[pos] <= '9') pos++;
            if (start == pos) throw new InvalidDataException($"{path}: malformed PGM header");
            return int.Parse(Encoding.ASCII.GetString(b, start, pos - start), CultureInfo.InvariantCulture);
        }
        bool binary = b[1] == '5';
        int w = Token(), h = Token(), max = Token();
        if (w <= 0 || h <= 0 || max <= 0 || max > 65535) throw new InvalidDataException($"{path}: invalid PGM size or maxval");
        var pixels = new byte[checked(w * h)];
        if (binary)
        {
            pos++; // the single whitespace after maxval
            int bps = max < 256 ? 1 : 2;
            if (b.Length - pos < pixels.Length * bps) throw new InvalidDataException($"{path}: PGM data is truncated");
            for (int i = 0; i < pixels.Length; i++)
            {
                int v = bps == 1 ? b[pos + i] : (b[pos + 2 * i] << 8) | b[pos + 2 * i + 1];
                pixels[i] = Scale(v, max);
            }
        }
        else
        {
            for (int i = 0; i < pixels.Length; i++) pixels[i] = Scale(Token(), max);
        }
        return new GrayImage(w, h, pixels);
    }

    private static byte Scale(int v, int max) => (byte)Math.Clamp((v * 255 + max / 2) / max, 0, 255);

    // ---- PNG: IHDR, PLTE, IDAT chunks; bit depth 8 (or 16), colour types gray, RGB, palette, gray+alpha, RGBA; no interlacing.
    private static ReadOnlySpan<byte> PngSignature => new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    private static GrayImage Png(byte[] b, string path)
    {
        int pos = 8, w = 0, h = 0, depth = 0, colour = 0;
        byte[]? palette = null;
        var idat = new MemoryStream();
        while (pos + 8 <= b.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(pos));
            string type = Encoding.ASCII.GetString(b, pos + 4, 4);
            if (length < 0 || pos + 12 + length > b.Length) throw new InvalidDataException($"{path}: PNG chunk {type} is truncated");
            var data = b.AsSpan(pos + 8, length);
            switch (type)
            {
                case "IHDR":
                    w = BinaryPrimitives.ReadInt32BigEndian(data);
                    h = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    depth = data[8];
                    colour = data[9];
                    if (data[12] != 0) throw new InvalidDataException($"{path}: interlaced PNG is not supported; save it without interlacing");
                    break;
                case "PLTE": palette = data.ToArray(); break;
                case "IDAT": idat.Write(data); break;
            }
            pos += 12 + length;
            if (type == "IEND") break;
        }
        int channels = colour switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        if (w <= 0 || h <= 0 || channels == 0 || !(depth == 8 || depth == 16) || (colour == 3 && (depth != 8 || palette is null)))
            throw new InvalidDataException($"{path}: unsupported PNG (bit depth {depth}, colour type {colour}); use 8-bit gray, RGB, RGBA or palette");
        int bpp = channels * depth / 8;
        int stride = checked(w * bpp);
        var raw = new byte[checked((stride + 1) * h)];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            int read = 0, n;
            while (read < raw.Length && (n = z.Read(raw, read, raw.Length - read)) > 0) read += n;
            if (read != raw.Length) throw new InvalidDataException($"{path}: PNG image data is truncated");
        }
        var cur = new byte[stride];
        var prev = new byte[stride];
        var pixels = new byte[w * h];
        for (int y = 0; y < h; y++)
        {
            int filter = raw[y * (stride + 1)];
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
                    4 => Paeth(a, up, c),
                    _ => throw new InvalidDataException($"{path}: invalid PNG filter {filter}"),
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
                    case 3: { int i = cur[x] * 3; r = palette![i]; g = palette[i + 1]; bl = palette[i + 2]; break; }
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

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}

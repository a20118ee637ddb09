using System;
using System.Buffers.Binary;
using System.Globalization;
using System.IO;
using System.IO.Compression;

namespace CnnGen.Data;

/// <summary>The element types of the IDX format (third byte of the magic number).</summary>
public enum IdxDataType : byte
{
    /// <summary>Unsigned byte (MNIST images and labels).</summary>
    UInt8 = 0x08,
    /// <summary>Signed byte.</summary>
    Int8 = 0x09,
    /// <summary>Big-endian 16-bit integer.</summary>
    Int16 = 0x0B,
    /// <summary>Big-endian 32-bit integer.</summary>
    Int32 = 0x0C,
    /// <summary>Big-endian IEEE single.</summary>
    Float32 = 0x0D,
    /// <summary>Big-endian IEEE double.</summary>
    Float64 = 0x0E,
}

/// <summary>The content of an IDX file: element type, dimensions and the raw (big-endian) element bytes.</summary>
public sealed class IdxFile
{
    internal IdxFile(IdxDataType type, int[] dimensions, byte[] data)
    {
        DataType = type;
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>The element type.</summary>
    public IdxDataType DataType { get; }

    /// <summary>The dimensions, outermost (item count) first.</summary>
    public int[] Dimensions { get; }

    /// <summary>The elements' bytes as stored (multi-byte types are big-endian).</summary>
    public byte[] Data { get; }
}

/// <summary>
/// Reads IDX files (the MNIST distribution format), raw or gzip-compressed; compression is detected from the gzip magic
/// bytes 1f 8b, not from the file name. Malformed input (bad magic, unexpected type or rank, truncation, trailing bytes)
/// raises <see cref="InvalidDataException"/> naming the file and the defect.
/// </summary>
public static class IdxReader
{
    /// <summary>Reads any IDX file.</summary>
    /// <param name="path">The file, raw or gzipped.</param>
    /// <returns>Its type, dimensions and data.</returns>
    public static IdxFile Read(string path)
    {
        using Stream s = OpenDecompressed(path);
        return ReadCore(s, Path.GetFileName(path), null, null, "items");
    }

    /// <summary>Reads IDX content from a stream (raw or gzipped).</summary>
    /// <param name="stream">The content.</param>
    /// <param name="nameForErrors">How to name the source in error messages.</param>
    /// <returns>Its type, dimensions and data.</returns>
    public static IdxFile Read(Stream stream, string nameForErrors)
    {
        using Stream s = Decompressed(stream, leaveOpen: true);
        return ReadCore(s, nameForErrors, null, null, "items");
    }

    /// <summary>Reads an images file: unsigned bytes, 3 dimensions (count, rows, columns).</summary>
    /// <param name="path">The file, raw or gzipped.</param>
    /// <param name="count">The number of images.</param>
    /// <param name="rows">The image height.</param>
    /// <param name="cols">The image width.</param>
    /// <returns>count * rows * cols pixel bytes, image after image, row-major.</returns>
    public static byte[] ReadImages(string path, out int count, out int rows, out int cols)
    {
        using Stream s = OpenDecompressed(path);
        IdxFile f = ReadCore(s, Path.GetFileName(path), IdxDataType.UInt8, 3, "images");
        count = f.Dimensions[0];
        rows = f.Dimensions[1];
        cols = f.Dimensions[2];
        return f.Data;
    }

    /// <summary>Reads a labels file: unsigned bytes, 1 dimension.</summary>
    /// <param name="path">The file, raw or gzipped.</param>
    /// <returns>One byte per label.</returns>
    public static byte[] ReadLabels(string path)
    {
        using Stream s = OpenDecompressed(path);
        return ReadCore(s, Path.GetFileName(path), IdxDataType.UInt8, 1, "labels").Data;
    }

    /// <summary>Opens a file for reading, transparently decompressing it when it starts with the gzip magic bytes.</summary>
    /// <param name="path">The file.</param>
    /// <returns>A stream of the decompressed content.</returns>
    /// <remarks>
    /// A gzip file's trailer (CRC-32 and size of the content) is checked when the content has been read to its end, so a truncated or
    /// damaged file raises <see cref="InvalidDataException"/> ("corrupt gzip data") instead of yielding fewer or wrong bytes.
    /// Files of several gzip members (<c>cat a.gz b.gz</c>) are reported the same way; decompress and recompress them.
    /// </remarks>
    public static Stream OpenDecompressed(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            return GzipCheck.Wrap(file, Decompressed(file, leaveOpen: false), Path.GetFileName(path));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static Stream Decompressed(Stream stream, bool leaveOpen)
    {
        Span<byte> magic = stackalloc byte[2];
        Stream source;
        int n;
        if (stream.CanSeek)
        {
            long start = stream.Position;
            n = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            stream.Position = start;
            source = leaveOpen ? new PrefixStream(Array.Empty<byte>(), stream, leaveOpen: true) : stream;
        }
        else
        {
            // Not seekable: hand the two peeked bytes back in front of the rest.
            n = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            source = new PrefixStream(magic.Slice(0, n).ToArray(), stream, leaveOpen);
        }
        bool gzip = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        return gzip ? new GZipStream(source, CompressionMode.Decompress, leaveOpen: false) : source;
    }

    private static int ElementSize(IdxDataType t) => t switch
    {
        IdxDataType.UInt8 or IdxDataType.Int8 => 1,
        IdxDataType.Int16 => 2,
        IdxDataType.Int32 or IdxDataType.Float32 => 4,
        IdxDataType.Float64 => 8,
        _ => 0,
    };

    private static InvalidDataException Bad(string name, string problem) => new($"{name}: {problem}");

    private static IdxFile ReadCore(Stream s, string name, IdxDataType? requiredType, int? requiredRank, string noun)
    {
        try
        {
            return ReadCoreUnchecked(s, name, requiredType, requiredRank, noun);
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith(name + ":", StringComparison.Ordinal))
        {
            // GZipStream's own errors ("unsupported compression method", "truncated") get the file name.
            throw Bad(name, "corrupt gzip data (" + ex.Message + ")");
        }
    }

    private static IdxFile ReadCoreUnchecked(Stream s, string name, IdxDataType? requiredType, int? requiredRank, string noun)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = s.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4)
            throw Bad(name, $"the file is {got} bytes long, too short for the 4-byte IDX magic number");
        if (magic[0] != 0 || magic[1] != 0)
            throw Bad(name, $"bad magic number {Hex(magic)}: an IDX file starts with 00 00 <type> <dimensions>");
        var type = (IdxDataType)magic[2];
        int elementSize = ElementSize(type);
        if (elementSize == 0)
            throw Bad(name, $"unknown IDX element type 0x{magic[2]:X2} in magic number {Hex(magic)}");
        int rank = magic[3];
        if (requiredType is { } rt && type != rt)
            throw Bad(name, $"element type is 0x{(byte)type:X2} ({type}) but {noun} must be unsigned bytes (0x{(byte)rt:X2})");
        if (requiredRank is { } rr && rank != rr)
            throw Bad(name, $"has {rank} dimensions but {noun} files have {rr} (magic number {Hex(magic)})");
        if (rank == 0)
            throw Bad(name, "has 0 dimensions");

        Span<byte> dimBytes = stackalloc byte[4 * 255];
        dimBytes = dimBytes.Slice(0, 4 * rank);
        got = s.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false);
        if (got < dimBytes.Length)
            throw Bad(name, $"the header ends after {4 + got} bytes, but {rank} dimensions need {4 + 4 * rank}");
        var dims = new int[rank];
        long total = elementSize;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.Slice(4 * i));
            if (d > int.MaxValue)
                throw Bad(name, $"dimension {i} is {d}, too large");
            dims[i] = (int)d;
            total *= d;
            if (total > Array.MaxLength)
                throw Bad(name, $"dimensions [{string.Join(", ", dims[..(i + 1)])}] declare more than {Array.MaxLength} bytes of data");
        }

        if (requiredType is not null)
        {
            // An images or labels file must hold data: a count (or an image side) of 0 is a damaged or wrongly written file.
            if (dims[0] == 0)
                throw Bad(name, $"declares 0 {noun}: the file holds no data");
            for (int i = 1; i < rank; i++)
            {
                if (dims[i] == 0)
                    throw Bad(name, $"declares {noun} of {string.Join(" x ", dims[1..])} pixels: dimension {i} is 0");
            }
        }

        // Grow the buffer as data arrives, so a corrupt header cannot make us allocate gigabytes up front.
        var data = new byte[Math.Min(total, 1 << 24)];
        long filled = 0;
        while (filled < total)
        {
            if (filled == data.Length)
                Array.Resize(ref data, (int)Math.Min(total, (long)data.Length * 2));
            int r = s.Read(data, (int)filled, data.Length - (int)filled);
            if (r == 0)
                break;
            filled += r;
        }
        if (filled < total)
        {
            long itemBytes = total / Math.Max(dims[0], 1);
            long complete = itemBytes == 0 ? 0 : filled / itemBytes;
            long partial = itemBytes == 0 ? 0 : filled % itemBytes;
            string what = requiredType is null ? $"{dims[0]} items of {itemBytes} bytes" : $"{dims[0]} {noun}";
            throw Bad(name, $"expected {what} but the file ends after {complete}" + (partial > 0 ? $" (and {partial} bytes of the next)" : ""));
        }
        int extra = 0;
        Span<byte> tail = stackalloc byte[4096];
        for (int r; (r = s.Read(tail)) > 0;)
        {
            extra += r;
            if (extra > 1 << 30) break;
        }
        if (extra > 0)
            throw Bad(name, $"has {extra.ToString(CultureInfo.InvariantCulture)} unexpected bytes after the {dims[0]} {noun} its header declares");
        return new IdxFile(type, dims, data);
    }

    private static string Hex(ReadOnlySpan<byte> b)
    {
        var parts = new string[b.Length];
        for (int i = 0; i < b.Length; i++)
            parts[i] = b[i].ToString("x2", CultureInfo.InvariantCulture);
        return string.Join(' ', parts);
    }

    /// <summary>A read-only stream that yields a few prefix bytes and then the inner stream.</summary>
    private sealed class PrefixStream(byte[] prefix, Stream inner, bool leaveOpen) : ReadOnlyStream
    {
        private int _pos;

        public override int Read(Span<byte> buffer)
        {
            if (_pos < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _pos);
                prefix.AsSpan(_pos, n).CopyTo(buffer);
                _pos += n;
                return n;
            }
            return inner.Read(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !leaveOpen)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

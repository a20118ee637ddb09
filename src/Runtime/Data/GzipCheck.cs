using System;
using System.Buffers.Binary;
using System.IO;

namespace CnnGen.Data;

/// <summary>
/// Checks a gzip file against its trailer: GZipStream neither checks the CRC-32 nor notices a file cut short (it just ends
/// early), so a truncated or damaged download would read as a shorter or different file. The trailer is the file's last
/// 8 bytes (CRC-32 and size mod 2^32 of the content); when the content has been read to its end, both must match, otherwise
/// an <see cref="InvalidDataException"/> says the gzip data are corrupt.
/// </summary>
internal static class GzipCheck
{
    /// <summary>Wraps <paramref name="decompressed"/> (a GZipStream over <paramref name="file"/>) in a check; other streams are returned as they are.</summary>
    /// <param name="file">The compressed file.</param>
    /// <param name="decompressed">The stream reading it.</param>
    /// <param name="name">How errors name the file.</param>
    public static Stream Wrap(FileStream file, Stream decompressed, string name)
    {
        if (decompressed is not System.IO.Compression.GZipStream)
            return decompressed;
        long length = file.Length;
        // 10-byte header + at least 2 bytes of deflate data (an empty final block) + 8-byte trailer.
        if (length < 20)
            throw new InvalidDataException($"{name}: corrupt gzip data (the file is {length} bytes long, too short for gzip data of at least 20 bytes: it is truncated)");
        long start = file.Position;
        Span<byte> trailer = stackalloc byte[8];
        file.Position = length - 8;
        file.ReadExactly(trailer);
        file.Position = start;
        return new Checked(decompressed, name, BinaryPrimitives.ReadUInt32LittleEndian(trailer), BinaryPrimitives.ReadUInt32LittleEndian(trailer.Slice(4)));
    }

    private sealed class Checked(Stream inner, string name, uint expectedCrc, uint expectedSize) : ReadOnlyStream
    {
        private uint _crc = 0xFFFFFFFF;
        private long _size;
        private bool _verified;

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty)
                return 0;
            int n;
            try
            {
                n = inner.Read(buffer);
            }
            catch (InvalidDataException ex)
            {
                // GZipStream's own words ("unsupported compression method" for any damaged byte) get the file's name.
                throw new InvalidDataException($"{name}: corrupt gzip data ({ex.Message})", ex);
            }
            if (n > 0)
            {
                _crc = Crc32.Update(_crc, buffer.Slice(0, n));
                _size += n;
                return n;
            }
            if (!_verified)
            {
                _verified = true;
                uint crc = ~_crc;
                if (crc != expectedCrc || (uint)_size != expectedSize)
                    throw new InvalidDataException(
                        $"{name}: corrupt gzip data (the data end after {_size} decompressed bytes with CRC-32 {crc:x8}, but the gzip trailer says {expectedSize} bytes with CRC-32 {expectedCrc:x8}: the file is truncated or damaged)");
            }
            return 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as gzip uses.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = MakeTable();

    private static uint[] MakeTable()
    {
        var table = new uint[256 * 4];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        // Slicing by 4: table[k * 256 + i] is the CRC of byte i followed by k zero bytes.
        for (int i = 0; i < 256; i++)
        {
            for (int k = 1; k < 4; k++)
            {
                uint prev = table[(k - 1) * 256 + i];
                table[k * 256 + i] = (prev >> 8) ^ table[prev & 0xFF];
            }
        }
        return table;
    }

    /// <summary>Continues a CRC over <paramref name="data"/>; start from 0xFFFFFFFF and complement the result.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] t = Table;
        int i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            crc ^= BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i));
            crc = t[768 + (crc & 0xFF)] ^ t[512 + ((crc >> 8) & 0xFF)] ^ t[256 + ((crc >> 16) & 0xFF)] ^ t[crc >> 24];
        }
        for (; i < data.Length; i++)
            crc = (crc >> 8) ^ t[(crc ^ data[i]) & 0xFF];
        return crc;
    }
}

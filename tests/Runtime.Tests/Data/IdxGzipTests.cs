using System;
using System.IO;
using System.Text;
using CnnGen.Data;
using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>
/// Damaged gzip files (cut short anywhere, a flipped byte, a wrong trailer) are "corrupt gzip data" naming the file, never a
/// silently shorter file or a bare decompressor message; empty images/labels files and overflowing dimensions are named too.
/// </summary>
public class IdxGzipTests
{
    private static InvalidDataException RejectImages(string fileName, byte[] content)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File(fileName), content);
        return Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(dir.File(fileName), out _, out _, out _));
    }

    private static InvalidDataException RejectLabels(string fileName, byte[] content)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File(fileName), content);
        return Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(dir.File(fileName)));
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value()
    {
        // The CRC-32 "check" value of the ASCII string 123456789 (IEEE 802.3 / zlib / gzip).
        Assert.Equal(0xCBF43926u, ~Crc32.Update(0xFFFFFFFF, Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, ~Crc32.Update(0xFFFFFFFF, ReadOnlySpan<byte>.Empty));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void A_gzip_file_cut_short_is_corrupt_gzip_data(double keep)
    {
        byte[] gz = IdxBytes.Gzip(IdxBytes.Images(50));
        var ex = RejectImages("train-images-idx3-ubyte.gz", gz.AsSpan(0, (int)(gz.Length * keep)).ToArray());
        Assert.StartsWith("train-images-idx3-ubyte.gz: corrupt gzip data (", ex.Message);
        Assert.Contains("truncated or damaged", ex.Message);
    }

    [Theory]
    [InlineData(1)] // the last byte of the size
    [InlineData(4)] // the whole size
    [InlineData(8)] // the whole trailer: GZipStream alone reads such a file as if it were complete
    public void A_gzip_file_missing_trailer_bytes_is_corrupt_gzip_data(int cut)
    {
        byte[] gz = IdxBytes.Gzip(IdxBytes.Labels(300));
        var ex = RejectLabels("labels.gz", gz.AsSpan(0, gz.Length - cut).ToArray());
        Assert.StartsWith("labels.gz: corrupt gzip data (", ex.Message);
    }

    [Fact]
    public void A_wrong_crc_or_a_flipped_byte_is_corrupt_gzip_data()
    {
        byte[] gz = IdxBytes.Gzip(IdxBytes.Labels(3000));
        byte[] crc = (byte[])gz.Clone();
        crc[^6] ^= 0x40;
        Assert.StartsWith("labels.gz: corrupt gzip data (", RejectLabels("labels.gz", crc).Message);
        byte[] flipped = (byte[])gz.Clone();
        flipped[gz.Length / 2] ^= 0xFF;
        Assert.StartsWith("labels.gz: corrupt gzip data (", RejectLabels("labels.gz", flipped).Message);
    }

    [Fact]
    public void OpenDecompressed_names_the_file_in_gzip_errors_too()
    {
        using var dir = new TempDir();
        byte[] gz = IdxBytes.Gzip(IdxBytes.Labels(3000));
        gz[gz.Length / 2] ^= 0xFF;
        File.WriteAllBytes(dir.File("x.gz"), gz);
        using Stream s = IdxReader.OpenDecompressed(dir.File("x.gz"));
        var ex = Assert.Throws<InvalidDataException>(() => s.CopyTo(Stream.Null));
        Assert.StartsWith("x.gz: corrupt gzip data (", ex.Message);
    }

    [Fact]
    public void A_gzip_file_of_only_the_magic_bytes_is_corrupt_gzip_data()
    {
        var ex = RejectLabels("labels.gz", new byte[] { 0x1f, 0x8b, 8, 0 });
        Assert.Equal("labels.gz: corrupt gzip data (the file is 4 bytes long, too short for gzip data of at least 20 bytes: it is truncated)", ex.Message);
    }

    [Fact]
    public void Intact_gzip_files_still_read()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("i.gz"), IdxBytes.Gzip(IdxBytes.Images(7, 5, 4)));
        byte[] pixels = IdxReader.ReadImages(dir.File("i.gz"), out int n, out int rows, out int cols);
        Assert.Equal((7, 5, 4), (n, rows, cols));
        Assert.Equal(IdxBytes.Images(7, 5, 4).AsSpan(16).ToArray(), pixels);
    }

    [Fact]
    public void Files_with_no_images_or_labels_are_rejected()
    {
        Assert.Equal("imgs: declares 0 images: the file holds no data", RejectImages("imgs", IdxBytes.Images(0)).Message);
        Assert.Equal("imgs.gz: declares 0 images: the file holds no data", RejectImages("imgs.gz", IdxBytes.Gzip(IdxBytes.Images(0))).Message);
        Assert.Equal("labels: declares 0 labels: the file holds no data", RejectLabels("labels", IdxBytes.Labels(0)).Message);
        Assert.Equal("imgs: declares images of 0 x 28 pixels: dimension 1 is 0", RejectImages("imgs", IdxBytes.Make(0x08, new[] { 5, 0, 28 }, Array.Empty<byte>())).Message);
    }

    [Fact]
    public void Overflowing_dimensions_are_named_before_anything_is_allocated()
    {
        var ex = RejectImages("imgs", IdxBytes.Make(0x08, new[] { 65536, 65536, 65536 }, new byte[10]));
        Assert.Equal($"imgs: dimensions [65536, 65536] declare more than {Array.MaxLength} bytes of data", ex.Message);
        var neg = RejectImages("imgs", IdxBytes.Make(0x08, new[] { -1, 28, 28 }, new byte[10]));
        Assert.Equal("imgs: dimension 0 is 4294967295, too large", neg.Message);
    }
}

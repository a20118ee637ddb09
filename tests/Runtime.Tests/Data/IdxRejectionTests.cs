using System;
using System.IO;
using CnnGen.Data;
using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>Malformed IDX files, built in temp directories, are rejected with messages naming the file and the defect.</summary>
public class IdxRejectionTests
{
    private static InvalidDataException RejectLabels(string fileName, byte[] content)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File(fileName), content);
        return Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(dir.File(fileName)));
    }

    private static InvalidDataException RejectImages(string fileName, byte[] content)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File(fileName), content);
        return Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(dir.File(fileName), out _, out _, out _));
    }

    [Fact]
    public void Truncated_gzipped_labels_name_the_expected_and_actual_counts()
    {
        byte[] labels = IdxBytes.Labels(10000);
        byte[] cut = labels.AsSpan(0, labels.Length - 10).ToArray();
        var ex = RejectLabels("t10k-labels-idx1-ubyte.gz", IdxBytes.Gzip(cut));
        Assert.Equal("t10k-labels-idx1-ubyte.gz: expected 10000 labels but the file ends after 9990", ex.Message);
    }

    [Fact]
    public void Truncated_images_report_complete_images_and_the_partial_one()
    {
        byte[] images = IdxBytes.Images(3, 4, 5);
        var ex = RejectImages("imgs", images.AsSpan(0, images.Length - 25).ToArray());
        Assert.Equal("imgs: expected 3 images but the file ends after 1 (and 15 bytes of the next)", ex.Message);
    }

    [Fact]
    public void Truncated_gzip_stream_is_rejected_naming_the_file()
    {
        byte[] gz = IdxBytes.Gzip(IdxBytes.Images(50));
        var ex = RejectImages("train-images-idx3-ubyte.gz", gz.AsSpan(0, gz.Length / 2).ToArray());
        Assert.StartsWith("train-images-idx3-ubyte.gz: ", ex.Message);
        Assert.True(ex.Message.Contains("expected 50 images but the file ends after") || ex.Message.Contains("corrupt gzip data"), ex.Message);
    }

    [Fact]
    public void Bad_magic_is_rejected()
    {
        byte[] content = IdxBytes.Labels(5);
        content[0] = 0x08; content[1] = 0x01;
        var ex = RejectLabels("labels.idx", content);
        Assert.Equal("labels.idx: bad magic number 08 01 08 01: an IDX file starts with 00 00 <type> <dimensions>", ex.Message);

        var ex2 = RejectLabels("short", new byte[] { 0, 0 });
        Assert.Equal("short: the file is 2 bytes long, too short for the 4-byte IDX magic number", ex2.Message);
    }

    [Fact]
    public void Wrong_element_type_is_rejected()
    {
        byte[] content = IdxBytes.Make(0x0D, new[] { 1, 2, 2 }, new byte[16]);
        var ex = RejectImages("floats.idx", content);
        Assert.Equal("floats.idx: element type is 0x0D (Float32) but images must be unsigned bytes (0x08)", ex.Message);
        // The generic reader accepts it.
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("f"), content);
        IdxFile f = IdxReader.Read(dir.File("f"));
        Assert.Equal(IdxDataType.Float32, f.DataType);
        Assert.Equal(new[] { 1, 2, 2 }, f.Dimensions);

        var ex2 = RejectLabels("odd", IdxBytes.Make(0x07, new[] { 1 }, new byte[1]));
        Assert.Contains("unknown IDX element type 0x07", ex2.Message);
    }

    [Fact]
    public void Wrong_rank_is_rejected()
    {
        var ex = RejectLabels("train-labels-idx1-ubyte", IdxBytes.Images(2));
        Assert.Equal("train-labels-idx1-ubyte: has 3 dimensions but labels files have 1 (magic number 00 00 08 03)", ex.Message);
    }

    [Fact]
    public void Truncated_header_and_trailing_bytes_are_rejected()
    {
        byte[] images = IdxBytes.Images(1, 2, 2);
        var ex = RejectImages("hdr", images.AsSpan(0, 10).ToArray());
        Assert.Equal("hdr: the header ends after 10 bytes, but 3 dimensions need 16", ex.Message);

        byte[] extra = new byte[images.Length + 7];
        images.CopyTo(extra, 0);
        var ex2 = RejectImages("tail", extra);
        Assert.Equal("tail: has 7 unexpected bytes after the 1 images its header declares", ex2.Message);
    }

    [Fact]
    public void Image_and_label_count_mismatch_is_rejected()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("train-images-idx3-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Images(12)));
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Labels(11)));
        var ex = Assert.Throws<InvalidDataException>(() => MnistDataset.LoadTrain(dir.Path));
        Assert.Equal("train-images-idx3-ubyte.gz holds 12 images but train-labels-idx1-ubyte.gz holds 11 labels; they must pair up one to one.", ex.Message);
    }

    [Fact]
    public void Label_outside_the_classes_is_rejected()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte"), IdxBytes.Images(4));
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte"), IdxBytes.Labels(4, i => (byte)(i == 2 ? 10 : i)));
        var ex = Assert.Throws<InvalidDataException>(() => MnistDataset.LoadTest(dir.Path));
        Assert.Equal("t10k-labels-idx1-ubyte: label 10 at index 2 is outside 0..9.", ex.Message);
    }

    [Fact]
    public void Missing_files_are_reported()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<FileNotFoundException>(() => MnistDataset.LoadTrain(dir.Path));
        Assert.Contains("No train-images-idx3-ubyte.gz or train-images-idx3-ubyte in " + dir.Path, ex.Message);
    }
}

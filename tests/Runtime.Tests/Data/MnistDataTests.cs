using System;
using System.IO;
using System.Linq;
using CnnGen.Data;
using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>The real MNIST / Fashion-MNIST files in ../shared/data (see TestData).</summary>
public class MnistDataTests
{
    private static readonly Lazy<MnistDataset> s_train = new(() => MnistDataset.LoadTrain(TestData.Mnist));

    [Fact]
    public void Mnist_train_has_60000_images_of_28x28_and_the_known_first_labels()
    {
        MnistDataset train = s_train.Value;
        Assert.Equal(60000, train.Count);
        Assert.Equal(28, train.Rows);
        Assert.Equal(28, train.Cols);
        Assert.Equal(784, train.SampleSize);
        Assert.Equal(60000 * 784, train.Images.Length);
        Assert.Equal(new[] { 5, 0, 4, 1, 9 }, train.Labels.Take(5));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), train.ClassNames);
        // Every class is present, roughly balanced (MNIST: 5421 to 6742 per digit).
        var perClass = train.Labels.GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(10, perClass.Count);
        Assert.Equal(5923, perClass[0]);
        Assert.Equal(6742, perClass[1]);
    }

    [Fact]
    public void Mnist_train_pixel_statistics_are_the_well_known_0_1307_and_0_3081()
    {
        float[] px = s_train.Value.Images;
        double sum = 0, sum2 = 0;
        float min = float.MaxValue, max = float.MinValue;
        foreach (float v in px) { sum += v; sum2 += (double)v * v; min = Math.Min(min, v); max = Math.Max(max, v); }
        double mean = sum / px.Length, std = Math.Sqrt(sum2 / px.Length - mean * mean);
        Assert.Equal(0.1307, mean, 4);
        Assert.Equal(0.3081, std, 4);
        Assert.Equal(0f, min);
        Assert.Equal(1f, max);
    }

    [Fact]
    public void Mnist_test_has_10000_images_and_normalization_centres_the_data()
    {
        MnistDataset test = MnistDataset.LoadTest(TestData.Mnist, Normalization.Mnist);
        Assert.Equal(10000, test.Count);
        Assert.Equal(new[] { 7, 2, 1, 0, 4 }, test.Labels.Take(5));
        Assert.Equal((0f - 0.1307f) / 0.3081f, test.Images[0], 6); // top-left pixel is background
        double mean = test.Images.Average(v => (double)v);
        Assert.InRange(mean, -0.02, 0.02); // the test set's mean is 0.1325, so slightly above 0 after train normalization
        // Normalization is exactly (x - mean) / std of the unnormalized value.
        MnistDataset raw = MnistDataset.LoadTest(TestData.Mnist);
        Assert.Equal((raw.Image(3)[400] - 0.1307f) / 0.3081f, test.Image(3)[400], 5);
    }

    [Fact]
    public void Fashion_mnist_loads_with_its_class_names()
    {
        MnistDataset test = MnistDataset.LoadTest(TestData.FashionMnist, classNames: MnistDataset.ClassNamesFor("fashion-mnist"));
        Assert.Equal(10000, test.Count);
        Assert.Equal(new[] { 9, 2, 1, 1, 6 }, test.Labels.Take(5));
        Assert.Equal("Ankle boot", test.ClassNames[test.Labels[0]]);
        Assert.Equal("T-shirt/top", test.ClassNames[0]);
    }

    [Fact]
    public void Gzip_is_detected_by_magic_bytes_not_by_file_name()
    {
        using var dir = new TempDir();
        byte[] raw = IdxBytes.Gunzip(Path.Combine(TestData.Mnist, "t10k-labels-idx1-ubyte.gz"));
        Assert.Equal(10008, raw.Length);
        // Raw content under a .gz name, gzip content under a plain name.
        File.WriteAllBytes(dir.File("raw-but-named.gz"), raw);
        File.Copy(Path.Combine(TestData.Mnist, "t10k-labels-idx1-ubyte.gz"), dir.File("gzipped-but-plain"));
        byte[] a = IdxReader.ReadLabels(dir.File("raw-but-named.gz"));
        byte[] b = IdxReader.ReadLabels(dir.File("gzipped-but-plain"));
        Assert.Equal(raw.AsSpan(8).ToArray(), a);
        Assert.Equal(a, b);

        // Non-seekable streams work too.
        IdxFile f = IdxReader.Read(new NonSeekableStream(File.ReadAllBytes(dir.File("gzipped-but-plain"))), "pipe");
        Assert.Equal(new[] { 10000 }, f.Dimensions);
        Assert.Equal(a, f.Data);
    }

    [Fact]
    public void Uncompressed_files_in_a_directory_load_the_same_as_gzipped_ones()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte"), IdxBytes.Gunzip(Path.Combine(TestData.Mnist, "t10k-images-idx3-ubyte.gz")));
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte"), IdxBytes.Gunzip(Path.Combine(TestData.Mnist, "t10k-labels-idx1-ubyte.gz")));
        MnistDataset fromRaw = MnistDataset.LoadTest(dir.Path);
        MnistDataset fromGz = MnistDataset.LoadTest(TestData.Mnist);
        Assert.Equal(fromGz.Labels, fromRaw.Labels);
        Assert.True(fromGz.Images.AsSpan().SequenceEqual(fromRaw.Images));
    }

    internal sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    }
}

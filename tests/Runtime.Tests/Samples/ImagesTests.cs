using System;
using System.IO;
using CnnGen.Samples.MnistPredict;
using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>
/// mnist-predict's PGM and PNG readers against files written by Pillow 9.4 and by a hand encoder checked with Pillow
/// (tools/golden/make_image_fixtures.py): every file must decode to the pixels the script wrote.
/// </summary>
public class ImagesTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "images", name);

    [Theory]
    [InlineData("gray8.png", "expected.gray")]           // 8-bit gray; Sub, Up and Paeth rows
    [InlineData("rgb.png", "expected.gray")]             // 8-bit RGB (r = g = b, so the luma is the gray value)
    [InlineData("gray16.png", "expected.gray")]          // 16-bit gray: the high byte
    [InlineData("rgba.png", "expected-rgba.gray")]       // RGBA composited over black
    [InlineData("palette16.png", "expected16.gray")]     // 16-colour palette
    [InlineData("filters-all.png", "expected.gray")]     // rows with filters None, Sub, Up, Average, Paeth
    [InlineData("digit.pgm", "expected.gray")]           // P5
    [InlineData("digit-ascii.pgm", "expected.gray")]     // P2 with a comment
    [InlineData("digit16.pgm", "expected.gray")]         // P5, maxval 65535
    public void DecodesToThePixelsPillowWrote(string file, string expected)
    {
        GrayImage image = Images.Read(Fixture(file));
        Assert.Equal(28, image.Width);
        Assert.Equal(28, image.Height);
        Assert.Equal(File.ReadAllBytes(Fixture(expected)), image.Pixels);
    }

    [Fact]
    public void RejectsWhatItCannotRead()
    {
        string dir = Path.Combine(Path.GetTempPath(), "cnngen-images-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string text = Path.Combine(dir, "x.pgm");
            File.WriteAllText(text, "hello");
            Assert.Contains("not a PGM (P2/P5) or PNG file", Assert.Throws<InvalidDataException>(() => Images.Read(text)).Message);

            string cut = Path.Combine(dir, "cut.pgm");
            File.WriteAllBytes(cut, File.ReadAllBytes(Fixture("digit.pgm"))[..500]);
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Images.Read(cut)).Message);

            string png = Path.Combine(dir, "cut.png");
            byte[] full = File.ReadAllBytes(Fixture("gray8.png"));
            File.WriteAllBytes(png, full[..(full.Length - 40)]);
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Images.Read(png)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

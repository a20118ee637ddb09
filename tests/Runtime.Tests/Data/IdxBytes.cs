using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace CnnGen.Runtime.Tests;

/// <summary>Builds IDX files byte by byte for the data tests.</summary>
internal static class IdxBytes
{
    public static byte[] Make(byte type, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Images(int count, int rows = 28, int cols = 28, Func<int, byte>? pixel = null)
    {
        var data = new byte[count * rows * cols];
        for (int i = 0; i < data.Length; i++)
            data[i] = pixel?.Invoke(i) ?? (byte)(i % 251);
        return Make(0x08, new[] { count, rows, cols }, data);
    }

    public static byte[] Labels(int count, Func<int, byte>? label = null)
    {
        var data = new byte[count];
        for (int i = 0; i < count; i++)
            data[i] = label?.Invoke(i) ?? (byte)(i % 10);
        return Make(0x08, new[] { count }, data);
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(raw);
        return ms.ToArray();
    }

    public static byte[] Gunzip(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>Writes the four files of a small MNIST-layout data set into <paramref name="dir"/>.</summary>
    public static void WriteDataset(string dir, int train = 12, int test = 5, bool gzip = true)
    {
        Directory.CreateDirectory(dir);
        void W(string name, byte[] raw) => File.WriteAllBytes(Path.Combine(dir, name + (gzip ? ".gz" : "")), gzip ? Gzip(raw) : raw);
        W("train-images-idx3-ubyte", Images(train));
        W("train-labels-idx1-ubyte", Labels(train));
        W("t10k-images-idx3-ubyte", Images(test));
        W("t10k-labels-idx1-ubyte", Labels(test));
    }
}

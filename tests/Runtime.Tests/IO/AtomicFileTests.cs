using System;
using System.IO;
using System.Linq;
using CnnGen.IO;
using CnnGen.Optim;
using CnnGen.Runtime.Tests.Generated;
using CnnGen.Training;
using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>
/// Atomic saves: the temporary files of interrupted saves are removed by the next save of the same target (only files of
/// exactly our pattern, never a user's file, never one another save is still writing), and a failed save keeps the previous file.
/// </summary>
public class AtomicFileTests
{
    [Fact]
    public void The_next_save_removes_abandoned_temp_files_of_its_target_and_nothing_else()
    {
        using var dir = new TempDir();
        string target = dir.File("model.safetensors");
        string[] ours = { ".model.safetensors.0123456789ab.tmp", ".model.safetensors.ffffffffffff.tmp" };
        string[] theirs =
        {
            ".model.safetensors.backup.tmp",          // not 12 hex digits
            ".model.safetensors.0123456789AB.tmp",    // upper case: not what we write
            ".model.safetensors.0123456789abc.tmp",   // 13 digits
            "model.safetensors.0123456789ab.tmp",     // no leading dot
            ".model.safetensors.0123456789ab.tmp.keep",
            ".other.safetensors.0123456789ab.tmp",    // another target's
            "model.safetensors.tmp",
        };
        foreach (string f in ours.Concat(theirs))
            File.WriteAllText(dir.File(f), "left over");

        AtomicFile.WriteAllBytes(target, new byte[] { 1, 2, 3 });

        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(target));
        foreach (string f in ours)
            Assert.False(File.Exists(dir.File(f)), f + " was not cleaned up");
        foreach (string f in theirs)
            Assert.True(File.Exists(dir.File(f)), f + " (not ours) was deleted");
    }

    [Fact]
    public void A_temp_file_another_save_is_still_writing_is_kept()
    {
        using var dir = new TempDir();
        string target = dir.File("w.bin");
        using (AtomicFileWriter first = AtomicFile.Create(target))
        {
            first.Stream.Write(new byte[] { 9, 9 });
            AtomicFile.WriteAllBytes(target, new byte[] { 1 }); // a second save while the first is open
            Assert.True(File.Exists(first.TempPath));
            first.Commit();
        }
        Assert.Equal(new byte[] { 9, 9 }, File.ReadAllBytes(target));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void An_interrupted_checkpoint_save_keeps_the_previous_checkpoint_and_its_temp_file_is_cleaned_next_time()
    {
        using var dir = new TempDir();
        string path = dir.File("run.ckpt");
        var model = new FoldSeq(1);
        var sgd = new Sgd(FoldSeq.ParameterCount, 0.1f);
        Checkpoint.Save(path, model, sgd, new Checkpoint { Epoch = 1 });
        byte[] previous = File.ReadAllBytes(path);

        // A save that fails midway (a full disk).
        var ex = Assert.Throws<IOException>(() => Checkpoint.Save(path, model, sgd, new Checkpoint { Epoch = 2 }, s => new FailingStream(s, 100)));
        Assert.Equal("disk full", ex.Message);
        Assert.Equal(previous, File.ReadAllBytes(path));
        Assert.Equal(1, Checkpoint.ReadInfo(path).Epoch);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp")); // a save that fails by exception removes its own temp file

        // A kill leaves the temp file behind: the next save removes it.
        string killed = Path.Combine(dir.Path, ".run.ckpt.00000000beef.tmp");
        File.WriteAllBytes(killed, previous.AsSpan(0, 50).ToArray());
        Checkpoint.Save(path, model, sgd, new Checkpoint { Epoch = 3 });
        Assert.False(File.Exists(killed));
        Assert.Equal(3, Checkpoint.ReadInfo(path).Epoch);
    }

    /// <summary>Passes writes through until <c>limit</c> bytes, then throws as a full disk would.</summary>
    private sealed class FailingStream(Stream inner, long limit) : Stream
    {
        private long _written;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > limit)
                throw new IOException("disk full");
            _written += buffer.Length;
            inner.Write(buffer);
        }
        public override void WriteByte(byte value) => Write(new[] { value });
    }
}

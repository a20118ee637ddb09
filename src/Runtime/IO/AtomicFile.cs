using System;
using System.IO;

namespace CnnGen.IO;

/// <summary>
/// Writes files so that a crash or an exception midway never leaves a corrupted target:
/// the content goes to a temporary file in the same directory, is flushed to disk, and only then
/// replaces the target with a rename (atomic on POSIX file systems and on NTFS).
/// </summary>
/// <remarks>
/// Used for weights and checkpoints: the previous file stays intact until the new one is complete. The temporary files of
/// saves that were interrupted (a crash, a kill) are deleted by the next save of the same target.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically with the content produced by <paramref name="write"/>.</summary>
    /// <param name="path">The target file; its directory must exist. An existing file is replaced only on success.</param>
    /// <param name="write">Writes the whole content to the given stream. If it throws, the target is left as it was and the temporary file is removed.</param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using AtomicFileWriter writer = Create(path);
        write(writer.Stream);
        writer.Commit();
    }

    /// <summary>Writes all of <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="bytes">The complete new content.</param>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using AtomicFileWriter writer = Create(path);
        writer.Stream.Write(bytes);
        writer.Commit();
    }

    /// <summary>
    /// Starts an atomic write; write to <see cref="AtomicFileWriter.Stream"/>, then call <see cref="AtomicFileWriter.Commit"/>.
    /// Disposing without committing discards everything written. Use this form when the content comes from spans,
    /// which a callback cannot capture.
    /// </summary>
    /// <param name="path">The target file; its directory must exist.</param>
    /// <returns>The pending write.</returns>
    public static AtomicFileWriter Create(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new AtomicFileWriter(Path.GetFullPath(path));
    }
}

/// <summary>An atomic write in progress (see <see cref="AtomicFile.Create"/>).</summary>
public sealed class AtomicFileWriter : IDisposable
{
    private readonly FileStream _stream;
    private bool _done;

    internal AtomicFileWriter(string fullPath)
    {
        TargetPath = fullPath;
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{fullPath}' has no directory.", nameof(fullPath));
        string name = Path.GetFileName(fullPath);
        if (name.Length == 0)
            throw new ArgumentException($"'{fullPath}' names a directory, not a file.", nameof(fullPath));
        // Same directory as the target, so the final rename never crosses file systems.
        TempPath = Path.Combine(directory, TempName(name, Guid.NewGuid().ToString("N").Substring(0, TempIdLength)));
        _stream = new FileStream(TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        RemoveAbandonedTempFiles(directory, name);
    }

    private const int TempIdLength = 12;

    /// <summary>The temporary file of one save of <paramref name="name"/>: <c>.NAME.</c> + 12 hex digits + <c>.tmp</c>.</summary>
    internal static string TempName(string name, string id) => "." + name + "." + id + ".tmp";

    /// <summary>
    /// Deletes the temporary files that earlier saves of the same target left behind when they were interrupted (a crash, a
    /// kill): exactly our pattern (<see cref="TempName"/>, 12 lowercase hex digits), never anything else. A temporary file another
    /// save is still writing is kept: the writer holds it open with <see cref="FileShare.None"/>, so it cannot be opened here.
    /// </summary>
    private void RemoveAbandonedTempFiles(string directory, string name)
    {
        string[] candidates;
        try
        {
            candidates = Directory.GetFiles(directory, "." + name + ".*.tmp");
        }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        foreach (string candidate in candidates)
        {
            string file = Path.GetFileName(candidate);
            if (candidate == TempPath || !IsOurTempName(file, name))
                continue;
            try
            {
                // Exclusive open: fails while another writer (this process or another) still has the file.
                using (new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                }
                File.Delete(candidate);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    internal static bool IsOurTempName(string file, string name)
    {
        string prefix = "." + name + ".";
        if (file.Length != prefix.Length + TempIdLength + ".tmp".Length || !file.StartsWith(prefix, StringComparison.Ordinal) || !file.EndsWith(".tmp", StringComparison.Ordinal))
            return false;
        for (int i = prefix.Length; i < prefix.Length + TempIdLength; i++)
        {
            char c = file[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return false;
        }
        return true;
    }

    /// <summary>The file that will be replaced on <see cref="Commit"/>.</summary>
    public string TargetPath { get; }

    /// <summary>The temporary file being written.</summary>
    public string TempPath { get; }

    /// <summary>Where to write the new content.</summary>
    public Stream Stream => _done ? throw new ObjectDisposedException(nameof(AtomicFileWriter)) : _stream;

    /// <summary>Flushes the content to disk and renames the temporary file over the target.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        try
        {
            _stream.Flush(flushToDisk: true);
            _stream.Dispose();
            File.Move(TempPath, TargetPath, overwrite: true);
            _done = true;
        }
        catch
        {
            Discard();
            throw;
        }
    }

    /// <summary>Discards the temporary file unless <see cref="Commit"/> succeeded.</summary>
    public void Dispose()
    {
        if (!_done)
            Discard();
    }

    private void Discard()
    {
        _done = true;
        try { _stream.Dispose(); } catch (IOException) { }
        try { File.Delete(TempPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

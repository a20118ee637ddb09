using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Text;
using CnnGen.IO;

namespace CnnGen.Data;

/// <summary>Where <see cref="DataLocator"/> looks, and whether and how it downloads. Defaults follow the environment.</summary>
public sealed class DataLocatorOptions
{
    /// <summary>An explicit directory (a <c>--data</c> option), looked in first: the directory itself, then its &lt;name&gt; subdirectory.</summary>
    public string? ExplicitDirectory { get; set; }

    /// <summary>The value of <c>$CNNGEN_DATA</c> (the directory itself, then its &lt;name&gt; subdirectory); null when unset.</summary>
    public string? EnvironmentDirectory { get; set; } = NullIfEmpty(Environment.GetEnvironmentVariable(DataLocator.EnvironmentVariable));

    /// <summary>Whether to look in system-wide package locations (Debian's <c>/usr/share/datasets/fashion-mnist</c>).</summary>
    public bool UseSystemDirectories { get; set; } = true;

    /// <summary>The per-user cache root; the data set lives in &lt;CacheRoot&gt;/&lt;name&gt; and downloads go there. Default <c>~/.cache/cnngen</c>.</summary>
    public string CacheRoot { get; set; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "cnngen");

    /// <summary>Whether to download into the cache when no copy is found.</summary>
    public bool AllowDownload { get; set; } = true;

    /// <summary>The base addresses to download from (file names are appended); null for the data set's standard mirrors.</summary>
    public IReadOnlyList<string>? Mirrors { get; set; }

    /// <summary>How long to wait for a connection to a mirror before trying the next (keeps offline machines fast).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long one file's whole download may take.</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Where to report download progress (e.g. <see cref="Console.Error"/>); null for silence.</summary>
    public TextWriter? Log { get; set; }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

/// <summary>No copy of a data set was found anywhere and it could not be downloaded. The message lists every place looked and how to get the files.</summary>
public sealed class DatasetNotFoundException : FileNotFoundException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="datasetName">The data set.</param>
    /// <param name="searched">Each place looked, with why it did not qualify.</param>
    /// <param name="message">The full message.</param>
    /// <param name="cacheDirectory">Where the files are expected when downloaded by hand.</param>
    public DatasetNotFoundException(string datasetName, IReadOnlyList<string> searched, string message, string cacheDirectory)
        : base(message, cacheDirectory)
    {
        DatasetName = datasetName;
        Searched = searched;
    }

    /// <summary>The data set that was not found.</summary>
    public string DatasetName { get; }

    /// <summary>Each place looked, in order, with why it did not qualify.</summary>
    public IReadOnlyList<string> Searched { get; }
}

/// <summary>
/// Finds the directory holding an MNIST-layout data set ("mnist" or "fashion-mnist"): the four IDX files
/// (<c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>,
/// each gzipped or raw). Order: the explicit directory (<c>--data</c>), <c>$CNNGEN_DATA</c>, for Fashion-MNIST Debian's
/// <c>/usr/share/datasets/fashion-mnist</c>, <c>~/.cache/cnngen/&lt;name&gt;</c>, then a download from the standard mirrors
/// into that cache (each file written atomically and verified by parsing it).
/// </summary>
public static class DataLocator
{
    /// <summary>The environment variable naming a data directory.</summary>
    public const string EnvironmentVariable = "CNNGEN_DATA";

    /// <summary>The four IDX files of an MNIST-layout data set, without the .gz suffix.</summary>
    public static IReadOnlyList<string> FileNames { get; } = new[]
    {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
    };

    /// <summary>The standard download mirrors of a data set (base addresses; append a file name and ".gz").</summary>
    /// <param name="datasetName">"mnist" or "fashion-mnist".</param>
    /// <returns>The mirrors, most reliable first.</returns>
    public static IReadOnlyList<string> StandardMirrors(string datasetName) => Normalize(datasetName) switch
    {
        "mnist" => new[] { "https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/" },
        _ => new[] { "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/" },
    };

    /// <summary>Finds (or downloads) a data set using the environment's defaults.</summary>
    /// <param name="datasetName">"mnist" or "fashion-mnist".</param>
    /// <param name="explicitDirectory">A <c>--data</c> directory, looked in first; may be null.</param>
    /// <returns>The directory holding the four files.</returns>
    /// <exception cref="DatasetNotFoundException">No copy found and the download failed.</exception>
    public static string Locate(string datasetName, string? explicitDirectory = null) =>
        Locate(datasetName, new DataLocatorOptions { ExplicitDirectory = explicitDirectory });

    /// <summary>Finds (or downloads) a data set.</summary>
    /// <param name="datasetName">"mnist" or "fashion-mnist".</param>
    /// <param name="options">Where to look and whether to download.</param>
    /// <returns>The directory holding the four files.</returns>
    /// <exception cref="DatasetNotFoundException">No copy found and the download failed.</exception>
    public static string Locate(string datasetName, DataLocatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string name = Normalize(datasetName);
        var searched = new List<string>();

        if (options.ExplicitDirectory is { } explicitDir)
        {
            if (TryDirectory(explicitDir, name, "--data directory", searched) is { } found)
                return found;
        }
        else
        {
            searched.Add("--data directory: not given");
        }

        if (options.EnvironmentDirectory is { } envDir)
        {
            if (TryDirectory(envDir, name, "$" + EnvironmentVariable, searched) is { } found)
                return found;
        }
        else
        {
            searched.Add("$" + EnvironmentVariable + ": not set");
        }

        if (options.UseSystemDirectories && name == "fashion-mnist")
        {
            if (Check("/usr/share/datasets/fashion-mnist", "Debian package dataset-fashion-mnist", searched))
                return "/usr/share/datasets/fashion-mnist";
        }

        string cacheDir = Path.GetFullPath(Path.Combine(options.CacheRoot, name));
        if (Check(cacheDir, "cache", searched))
            return cacheDir;

        IReadOnlyList<string> mirrors = options.Mirrors ?? StandardMirrors(name);
        if (options.AllowDownload)
        {
            if (TryDownload(name, cacheDir, mirrors, options, searched))
                return cacheDir;
        }
        else
        {
            searched.Add("download: disabled");
        }

        throw NotFound(name, searched, cacheDir, mirrors);
    }

    /// <summary>Whether <paramref name="directory"/> holds all four files (gzipped or raw).</summary>
    /// <param name="directory">The directory.</param>
    /// <returns>True when every file is there.</returns>
    public static bool HasAllFiles(string directory) => MissingFiles(directory).Count == 0;

    internal static string Normalize(string datasetName)
    {
        ArgumentNullException.ThrowIfNull(datasetName);
        string n = datasetName.Trim().ToLowerInvariant().Replace('_', '-');
        return n switch
        {
            "mnist" => "mnist",
            "fashion-mnist" or "fashionmnist" or "fmnist" => "fashion-mnist",
            _ => throw new ArgumentException($"Unknown data set '{datasetName}'; known: mnist, fashion-mnist.", nameof(datasetName)),
        };
    }

    private static List<string> MissingFiles(string directory)
    {
        var missing = new List<string>();
        foreach (string f in FileNames)
        {
            if (MnistDataset.TryFindFile(directory, f) is null)
                missing.Add(f + "[.gz]");
        }
        return missing;
    }

    private static string? TryDirectory(string dir, string name, string label, List<string> searched)
    {
        if (Check(dir, label, searched))
            return Path.GetFullPath(dir);
        string sub = Path.Combine(dir, name);
        if (Check(sub, label + "/" + name, searched))
            return Path.GetFullPath(sub);
        return null;
    }

    private static bool Check(string dir, string label, List<string> searched)
    {
        string full = Path.GetFullPath(dir);
        if (!Directory.Exists(full))
        {
            searched.Add($"{label} {full}: no such directory");
            return false;
        }
        List<string> missing = MissingFiles(full);
        if (missing.Count == 0)
            return true;
        searched.Add(missing.Count == FileNames.Count
            ? $"{label} {full}: none of the files"
            : $"{label} {full}: missing {string.Join(", ", missing)}");
        return false;
    }

    private static bool TryDownload(string name, string cacheDir, IReadOnlyList<string> mirrors, DataLocatorOptions options, List<string> searched)
    {
        if (mirrors.Count == 0)
        {
            searched.Add("download: no mirrors configured");
            return false;
        }
        using var handler = new SocketsHttpHandler { ConnectTimeout = options.ConnectTimeout };
        using var client = new HttpClient(handler) { Timeout = options.DownloadTimeout };
        foreach (string baseName in FileNames)
        {
            if (MnistDataset.TryFindFile(cacheDir, baseName) is not null)
                continue; // an earlier partial download already fetched it
            string file = baseName + ".gz";
            var failures = new List<string>();
            bool ok = false;
            foreach (string mirror in mirrors)
            {
                string url = mirror.EndsWith('/') ? mirror + file : mirror + "/" + file;
                try
                {
                    options.Log?.WriteLine($"Downloading {url} ...");
                    byte[] bytes = Download(client, url);
                    // Verify before keeping: it must parse as a complete IDX file of the right rank.
                    IdxFile idx = IdxReader.Read(new MemoryStream(bytes), url);
                    int rank = baseName.Contains("images", StringComparison.Ordinal) ? 3 : 1;
                    if (idx.DataType != IdxDataType.UInt8 || idx.Dimensions.Length != rank)
                        throw new InvalidDataException($"{url}: not an IDX file of unsigned bytes with {rank} dimensions");
                    Directory.CreateDirectory(cacheDir);
                    AtomicFile.WriteAllBytes(Path.Combine(cacheDir, file), bytes);
                    ok = true;
                    break;
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException or OperationCanceledException or UnauthorizedAccessException)
                {
                    failures.Add($"download {url}: failed ({FirstLine(ex)})");
                }
            }
            if (!ok)
            {
                // Every mirror failed for this file: give up now instead of waiting on the others (offline machines).
                searched.AddRange(failures);
                return false;
            }
        }
        return true;
    }

    private static byte[] Download(HttpClient client, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using HttpResponseMessage response = client.Send(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        using Stream body = response.Content.ReadAsStream();
        using var ms = new MemoryStream();
        body.CopyTo(ms);
        return ms.ToArray();
    }

    private static string FirstLine(Exception ex)
    {
        string m = ex.InnerException is { } inner && ex is HttpRequestException && !ex.Message.Contains(inner.Message, StringComparison.Ordinal)
            ? ex.Message + " " + inner.Message
            : ex.Message;
        int nl = m.IndexOf('\n');
        return (nl >= 0 ? m.Substring(0, nl) : m).Trim();
    }

    private static DatasetNotFoundException NotFound(string name, List<string> searched, string cacheDir, IReadOnlyList<string> mirrors)
    {
        var sb = new StringBuilder();
        sb.Append("Could not find the ").Append(name).Append(" data set. Looked in, in order:");
        for (int i = 0; i < searched.Count; i++)
            sb.Append("\n  ").Append(i + 1).Append(". ").Append(searched[i]);
        sb.Append("\nTo get the files, download ");
        for (int i = 0; i < FileNames.Count; i++)
            sb.Append(i == 0 ? "" : i == FileNames.Count - 1 ? " and " : ", ").Append(FileNames[i]).Append(".gz");
        sb.Append(" from ").Append(string.Join(" or ", mirrors)).Append(" into ").Append(cacheDir)
          .Append(" (or into any directory you then pass with --data or set in $").Append(EnvironmentVariable).Append(')');
        if (name == "fashion-mnist")
            sb.Append(", or on Debian/Ubuntu install them with: sudo apt install dataset-fashion-mnist");
        sb.Append('.');
        return new DatasetNotFoundException(name, searched.ToArray(), sb.ToString(), cacheDir);
    }
}

using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using CnnGen.Data;
using Xunit;

namespace CnnGen.Runtime.Tests;

public class DataLocatorTests
{
    /// <summary>Options that look nowhere by default: no environment, no system directories, an empty cache, no download.</summary>
    private static DataLocatorOptions Isolated(TempDir tmp) => new()
    {
        EnvironmentDirectory = null,
        UseSystemDirectories = false,
        CacheRoot = tmp.File("cache"),
        AllowDownload = false,
    };

    [Fact]
    public void Explicit_directory_comes_first_and_may_hold_the_files_or_a_name_subdirectory()
    {
        using var tmp = new TempDir();
        IdxBytes.WriteDataset(tmp.File("explicit"));
        IdxBytes.WriteDataset(tmp.File("env"));
        var o = Isolated(tmp);
        o.ExplicitDirectory = tmp.File("explicit");
        o.EnvironmentDirectory = tmp.File("env");
        Assert.Equal(tmp.File("explicit"), DataLocator.Locate("mnist", o));

        IdxBytes.WriteDataset(Path.Combine(tmp.File("parent"), "fashion-mnist"), gzip: false);
        o.ExplicitDirectory = tmp.File("parent");
        Assert.Equal(Path.Combine(tmp.File("parent"), "fashion-mnist"), DataLocator.Locate("Fashion_MNIST", o));
    }

    [Fact]
    public void Environment_directory_then_cache_are_used_when_earlier_places_lack_the_files()
    {
        using var tmp = new TempDir();
        var o = Isolated(tmp);
        o.ExplicitDirectory = tmp.File("nothing-here");
        IdxBytes.WriteDataset(Path.Combine(tmp.File("env"), "mnist"));
        o.EnvironmentDirectory = tmp.File("env");
        Assert.Equal(Path.Combine(tmp.File("env"), "mnist"), DataLocator.Locate("mnist", o));

        o.EnvironmentDirectory = tmp.File("env-without");
        IdxBytes.WriteDataset(Path.Combine(tmp.File("cache"), "mnist"));
        Assert.Equal(Path.Combine(tmp.File("cache"), "mnist"), DataLocator.Locate("mnist", o));
    }

    [Fact]
    public void Shared_test_data_is_found_through_the_environment_variable_style_parent_directory()
    {
        using var tmp = new TempDir();
        var o = Isolated(tmp);
        o.EnvironmentDirectory = TestData.SharedData;
        Assert.Equal(TestData.Mnist, DataLocator.Locate("mnist", o));
        Assert.Equal(TestData.FashionMnist, DataLocator.Locate("fashion-mnist", o));
    }

    [Fact]
    public void Not_found_lists_every_place_looked_and_how_to_get_the_files()
    {
        using var tmp = new TempDir();
        var o = Isolated(tmp);
        o.ExplicitDirectory = tmp.File("given");
        Directory.CreateDirectory(tmp.File("given"));
        File.WriteAllBytes(Path.Combine(tmp.File("given"), "train-images-idx3-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Images(1)));
        var ex = Assert.Throws<DatasetNotFoundException>(() => DataLocator.Locate("mnist", o));
        string m = ex.Message;
        Assert.StartsWith("Could not find the mnist data set. Looked in, in order:", m);
        Assert.Contains("1. --data directory " + tmp.File("given") + ": missing train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]", m);
        Assert.Contains("2. --data directory/mnist " + Path.Combine(tmp.File("given"), "mnist") + ": no such directory", m);
        Assert.Contains("3. $CNNGEN_DATA: not set", m);
        Assert.Contains("4. cache " + Path.Combine(tmp.File("cache"), "mnist") + ": no such directory", m);
        Assert.Contains("5. download: disabled", m);
        Assert.Contains("download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz", m);
        Assert.Contains("https://ossci-datasets.s3.amazonaws.com/mnist/", m);
        Assert.Equal(5, ex.Searched.Count);
        Assert.IsAssignableFrom<FileNotFoundException>(ex);

        var fashion = Assert.Throws<DatasetNotFoundException>(() => DataLocator.Locate("fashion-mnist", Isolated(tmp)));
        Assert.Contains("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", fashion.Message);
        Assert.Contains("apt install dataset-fashion-mnist", fashion.Message);
        Assert.Throws<ArgumentException>(() => DataLocator.Locate("cifar10", Isolated(tmp)));
    }

    [Fact]
    public void Unreachable_mirrors_fail_fast_and_are_listed()
    {
        using var tmp = new TempDir();
        var o = Isolated(tmp);
        o.AllowDownload = true;
        int closedPort = FreePort(); // nothing listens there: connection refused
        o.Mirrors = new[] { $"http://127.0.0.1:{closedPort}/a/", $"http://127.0.0.1:{closedPort}/b" };
        var sw = Stopwatch.StartNew();
        var ex = Assert.Throws<DatasetNotFoundException>(() => DataLocator.Locate("mnist", o));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), sw.Elapsed.ToString());
        Assert.Contains($"download http://127.0.0.1:{closedPort}/a/train-images-idx3-ubyte.gz: failed (", ex.Message);
        Assert.Contains($"download http://127.0.0.1:{closedPort}/b/train-images-idx3-ubyte.gz: failed (", ex.Message);
        Assert.DoesNotContain("t10k-labels-idx1-ubyte.gz: failed", ex.Message); // gave up after the first file
        Assert.False(Directory.Exists(Path.Combine(tmp.File("cache"), "mnist")) && Directory.GetFiles(Path.Combine(tmp.File("cache"), "mnist")).Length > 0);
    }

    [Fact]
    public void Download_from_a_local_mirror_fills_the_cache_and_verifies_each_file()
    {
        using var tmp = new TempDir();
        IdxBytes.WriteDataset(tmp.File("served"), train: 7, test: 3);
        // A corrupt copy of one file on the first mirror: verification must reject it and fall through to the second.
        Directory.CreateDirectory(tmp.File("bad"));
        File.WriteAllBytes(Path.Combine(tmp.File("bad"), "train-images-idx3-ubyte.gz"), IdxBytes.Gzip(new byte[] { 0, 0, 8, 3, 0, 0 }));
        using var server = new FileServer(tmp.Path);
        var o = Isolated(tmp);
        o.AllowDownload = true;
        o.Mirrors = new[] { server.Url + "bad/", server.Url + "served/" };
        var log = new StringWriter();
        o.Log = log;

        string dir = DataLocator.Locate("mnist", o);
        Assert.Equal(Path.Combine(tmp.File("cache"), "mnist"), dir);
        MnistDataset train = MnistDataset.LoadTrain(dir);
        Assert.Equal(7, train.Count);
        Assert.Equal(3, MnistDataset.LoadTest(dir).Count);
        Assert.Contains(server.Url + "bad/train-images-idx3-ubyte.gz", log.ToString());
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(tmp.File("served"), "train-images-idx3-ubyte.gz")),
            File.ReadAllBytes(Path.Combine(dir, "train-images-idx3-ubyte.gz")));
        Assert.Equal(4, Directory.GetFiles(dir).Length); // no temp files left
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>A minimal HTTP/1.1 file server on loopback (GET only, one request per connection).</summary>
    private sealed class FileServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _cts = new();
        private readonly string _root;

        public FileServer(string root)
        {
            _root = root;
            _listener.Start();
            Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";
            _ = Task.Run(Loop);
        }

        public string Url { get; }

        private async Task Loop()
        {
            while (!_cts.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_cts.Token); }
                catch (Exception) { return; }
                _ = Task.Run(() => Serve(client));
            }
        }

        private void Serve(TcpClient client)
        {
            using (client)
            using (NetworkStream s = client.GetStream())
            {
                var reader = new StreamReader(s);
                string? requestLine = reader.ReadLine();
                while (!string.IsNullOrEmpty(reader.ReadLine())) { }
                string path = requestLine?.Split(' ')[1].TrimStart('/') ?? "";
                string file = Path.Combine(_root, path);
                byte[] body = File.Exists(file) ? File.ReadAllBytes(file) : Array.Empty<byte>();
                string status = File.Exists(file) ? "200 OK" : "404 Not Found";
                byte[] head = System.Text.Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 {status}\r\nContent-Length: {body.Length}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n");
                s.Write(head);
                s.Write(body);
            }
        }

        public void Dispose()
        {
            _cts.Cancel();
            _listener.Stop();
        }
    }
}

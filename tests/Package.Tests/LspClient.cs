using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;

namespace CnnGen.Package.Tests;

/// <summary>
/// A small Language Server Protocol client: JSON-RPC 2.0 with Content-Length framing over a server process's stdio.
/// Requests the server sends are answered (workspace/configuration from <see cref="Configuration"/>, everything else
/// with null); notifications are queued for <see cref="WaitForNotification"/>. The server's stderr and log messages
/// are kept for failure messages (<see cref="Log"/>).
/// </summary>
public sealed class LspClient : IDisposable
{
    private readonly Process _process;
    private readonly Stream _input;
    private readonly object _writeLock = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonNode?>> _pending = new();
    private readonly BlockingCollection<JsonObject> _notifications = new();
    private readonly StringBuilder _log = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _nextId;

    /// <summary>The answer to workspace/configuration, by section (e.g. "csharp" → { "analyzersEnabled": true }).</summary>
    public Dictionary<string, JsonNode> Configuration { get; } = new();

    public LspClient(string fileName, IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        DotNet.Isolate(psi, environment);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + fileName);
        _input = _process.StandardInput.BaseStream;
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) Note("stderr: " + e.Data); };
        _process.BeginErrorReadLine();
        new Thread(ReadLoop) { IsBackground = true, Name = "lsp-reader" }.Start();
    }

    /// <summary>What the server wrote to stderr and in window/logMessage, and the messages seen, with times.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public void Note(string line)
    {
        lock (_log) _log.Append($"[{_clock.Elapsed.TotalSeconds,6:F1} s] ").AppendLine(line.Length > 2000 ? line[..2000] + " …" : line);
    }

    public JsonNode? Request(string method, JsonNode? parameters, TimeSpan timeout)
    {
        int id = Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        Send(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters });
        if (!tcs.Task.Wait(timeout))
            throw new TimeoutException($"LSP request {method} got no answer in {timeout.TotalSeconds:F0} s" + Tail());
        return tcs.Task.Result;
    }

    public void Notify(string method, JsonNode? parameters) =>
        Send(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method, ["params"] = parameters });

    /// <summary>The first notification <paramref name="method"/> (queued or arriving) whose params satisfy <paramref name="match"/>; others of the queue are dropped.</summary>
    public JsonObject WaitForNotification(string method, Func<JsonNode, bool> match, TimeSpan timeout, string what)
    {
        var end = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = end - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !_notifications.TryTake(out var n, left))
                throw new TimeoutException($"no {method} {what} within {timeout.TotalSeconds:F0} s" + Tail());
            if ((string?)n["method"] == method && n["params"] is { } p && match(p)) return n;
        }
    }

    private string Tail() =>
        (_process.HasExited ? $"\nthe server exited with code {_process.ExitCode}" : "") + "\nserver log and messages:\n" + Log;

    private void Send(JsonObject message)
    {
        byte[] body = Encoding.UTF8.GetBytes(message.ToJsonString());
        byte[] header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
        lock (_writeLock)
        {
            _input.Write(header);
            _input.Write(body);
            _input.Flush();
        }
    }

    private void ReadLoop()
    {
        var output = _process.StandardOutput.BaseStream;
        try
        {
            while (true)
            {
                int length = -1;
                string? line;
                while (!string.IsNullOrEmpty(line = ReadHeaderLine(output)))
                {
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                        length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
                if (line is null) break;
                if (length < 0) throw new InvalidDataException("LSP message without Content-Length");
                byte[] body = new byte[length];
                output.ReadExactly(body);
                Dispatch((JsonObject)JsonNode.Parse(body)!);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidDataException or JsonException)
        {
            Note("reader stopped: " + e.Message);
        }
        foreach (var p in _pending.Values) p.TrySetException(new IOException("the LSP server closed its output" + Tail()));
        _notifications.CompleteAdding();
    }

    private static string? ReadHeaderLine(Stream s)
    {
        var bytes = new List<byte>();
        while (true)
        {
            int b = s.ReadByte();
            if (b < 0) return bytes.Count == 0 ? null : Encoding.ASCII.GetString(bytes.ToArray());
            if (b == '\n') return Encoding.ASCII.GetString(bytes.ToArray()).TrimEnd('\r');
            bytes.Add((byte)b);
        }
    }

    private void Dispatch(JsonObject message)
    {
        string? method = (string?)message["method"];
        bool hasId = message.ContainsKey("id") && message["id"] is not null;
        if (method is null && hasId)
        {
            int id = message["id"]!.GetValue<int>();
            if (_pending.TryRemove(id, out var tcs))
            {
                if (message["error"] is { } error) tcs.TrySetException(new InvalidOperationException($"LSP error for request {id}: {error.ToJsonString()}"));
                else tcs.TrySetResult(message["result"]?.DeepClone());
            }
            return;
        }
        if (method is null) return;
        if (hasId)
        {
            // A request from the server: answer it.
            JsonNode? result = null;
            if (method == "workspace/configuration")
            {
                var items = new JsonArray();
                foreach (var item in message["params"]?["items"]?.AsArray() ?? new JsonArray())
                {
                    string section = (string?)item?["section"] ?? "";
                    items.Add(Configuration.TryGetValue(section, out var c) ? c.DeepClone() : null);
                }
                result = items;
            }
            Note($"server request {method} → {result?.ToJsonString() ?? "null"}");
            Send(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = message["id"]!.DeepClone(), ["result"] = result });
            return;
        }
        if (method is "window/logMessage" or "window/showMessage" or "$/logTrace")
        {
            Note(method + ": " + (string?)message["params"]?["message"]);
            return;
        }
        if (method == "textDocument/publishDiagnostics") Note("publishDiagnostics " + message["params"]?.ToJsonString());
        if (!_notifications.IsAddingCompleted) _notifications.Add(message);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                try
                {
                    Request("shutdown", null, TimeSpan.FromSeconds(5));
                    Notify("exit", null);
                    _process.WaitForExit(5000);
                }
                catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException or AggregateException)
                {
                }
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}

using System;
using System.Diagnostics;
using System.Threading;

namespace CnnGen.Training;

/// <summary>
/// A reusable barrier for a fixed number of threads that spins for a few microseconds, then yields for up to a
/// millisecond, then blocks: the phases of a training step are a few milliseconds long and nearly balanced, so a waiter
/// is usually released while it spins or yields (no sleep and wake-up), while a thread parked for longer (between
/// epochs, during evaluation) sleeps instead of occupying a core. Sense is kept by a generation counter, so the barrier
/// can be used again right away.
/// </summary>
internal sealed class SpinBarrier
{
    /// <summary>How long a waiter spins before it starts yielding its core between checks.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000; // 50 µs

    /// <summary>
    /// How long a waiter keeps checking (yielding in between) before it blocks. With blocking after 50 µs, a profile
    /// on the 2-core VM showed a blocked waiter's wake-up adding tens of microseconds to most steps (two shards often
    /// finish 100 µs apart), so waiting within a step should not block; a yielding waiter leaves the core to any other
    /// runnable thread.
    /// </summary>
    private static readonly long YieldTicks = Stopwatch.Frequency / 1_000; // 1 ms

    private readonly int _participants;
    private readonly object _gate = new();
    private int _remaining;
    private int _generation;
    private int _sleepers;

    /// <summary>Creates a barrier for <paramref name="participants"/> threads.</summary>
    public SpinBarrier(int participants)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(participants);
        _participants = participants;
        _remaining = participants;
    }

    /// <summary>The number of threads that must arrive before any leaves.</summary>
    public int Participants => _participants;

    /// <summary>
    /// Arrives and waits until all participants have arrived. Everything a thread wrote before arriving is visible to
    /// every thread after it leaves.
    /// </summary>
    public void SignalAndWait()
    {
        int generation = Volatile.Read(ref _generation);
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            // Last to arrive: reset for the next use, then release (the increment is a full fence, so the reset and
            // everything written before it are visible to the threads it releases).
            _remaining = _participants;
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleepers) > 0)
            {
                lock (_gate)
                    Monitor.PulseAll(_gate);
            }
            return;
        }
        if (Volatile.Read(ref _generation) != generation)
            return;
        long start = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref _generation) == generation)
        {
            long waited = Stopwatch.GetTimestamp() - start;
            if (waited < SpinTicks)
            {
                Thread.SpinWait(8);
            }
            else if (waited < YieldTicks)
            {
                Thread.Yield();
            }
            else
            {
                Block(generation);
                return;
            }
        }
    }

    private void Block(int generation)
    {
        lock (_gate)
        {
            // Either the releaser sees this increment and pulses under the lock, or it incremented the generation
            // first and the check below sees it (both are interlocked, hence ordered).
            Interlocked.Increment(ref _sleepers);
            while (Volatile.Read(ref _generation) == generation)
                Monitor.Wait(_gate);
            Interlocked.Decrement(ref _sleepers);
        }
    }
}

/// <summary>
/// A fixed team of threads that run one body together, again and again: the calling thread is worker 0 and
/// <c>workers - 1</c> background threads are the others, started once and parked on a <see cref="SpinBarrier"/> between
/// runs (instead of a <c>Parallel.For</c> per run, whose dispatch costs tens of microseconds and wakes thread-pool
/// threads). The body may use <see cref="Barrier"/> between its own phases (every worker must call it equally often).
/// Dispose stops and joins the threads; they are background threads, so a team that is never disposed does not keep a
/// process alive.
/// </summary>
internal sealed class WorkerTeam : IDisposable
{
    private readonly Thread[] _threads;
    private readonly Action<int> _body;
    private readonly Exception?[] _errors;
    private volatile bool _stop;
    private bool _disposed;

    /// <summary>Starts <paramref name="workers"/> - 1 threads that will run <paramref name="body"/> with their index.</summary>
    /// <param name="workers">Workers including the calling thread (at least 2).</param>
    /// <param name="body">
    /// The work of worker w in one <see cref="Run"/>; it should not throw (an exception is caught and rethrown by
    /// <see cref="Run"/>, but a body that throws between its own <see cref="Barrier"/> calls deadlocks the others).
    /// </param>
    /// <param name="name">The threads' name prefix.</param>
    public WorkerTeam(int workers, Action<int> body, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 2);
        ArgumentNullException.ThrowIfNull(body);
        _body = body;
        _errors = new Exception?[workers];
        Barrier = new SpinBarrier(workers);
        _threads = new Thread[workers - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int w = i + 1;
            _threads[i] = new Thread(() => Loop(w)) { IsBackground = true, Name = $"{name} {w}" };
            _threads[i].Start();
        }
    }

    /// <summary>The number of workers, including the calling thread.</summary>
    public int Workers => _errors.Length;

    /// <summary>The barrier of all workers, for the phases of the body.</summary>
    public SpinBarrier Barrier { get; }

    /// <summary>Runs the body on every worker (the calling thread is worker 0) and returns when all are done.</summary>
    /// <exception cref="ObjectDisposedException">The team was disposed.</exception>
    public void Run()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Barrier.SignalAndWait(); // start
        Execute(0);
        Barrier.SignalAndWait(); // end: every worker's writes are visible from here on
        Exception? first = null;
        int count = 0;
        foreach (Exception? e in _errors)
        {
            if (e is not null)
            {
                first ??= e;
                count++;
            }
        }
        if (count == 0)
            return;
        var all = new Exception[count];
        for (int w = 0, k = 0; w < _errors.Length; w++)
        {
            if (_errors[w] is { } e)
                all[k++] = e;
            _errors[w] = null;
        }
        if (count == 1)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first!);
        throw new AggregateException(all);
    }

    /// <summary>
    /// Records an exception thrown by worker <paramref name="worker"/>'s part of the body, to be rethrown by
    /// <see cref="Run"/>, for bodies that catch it to reach their next <see cref="Barrier"/>.
    /// </summary>
    public void Record(int worker, Exception error) => _errors[worker] = error;

    /// <summary>
    /// Whether any worker has recorded an exception in this run; reliable after a <see cref="Barrier"/> that follows
    /// the <see cref="Record"/> calls, where every worker sees the same answer.
    /// </summary>
    public bool AnyFailed
    {
        get
        {
            foreach (Exception? e in _errors)
                if (e is not null)
                    return true;
            return false;
        }
    }

    /// <summary>Stops the threads and waits for them to end.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _stop = true;
        Barrier.SignalAndWait(); // releases the parked workers, which see _stop and return
        foreach (Thread t in _threads)
            t.Join();
    }

    private void Loop(int worker)
    {
        while (true)
        {
            Barrier.SignalAndWait(); // start
            if (_stop)
                return;
            Execute(worker);
            Barrier.SignalAndWait(); // end
        }
    }

    private void Execute(int worker)
    {
        try
        {
            _body(worker);
        }
        catch (Exception e)
        {
            _errors[worker] ??= e; // rethrown by Run on the calling thread (an exception must not end a worker thread)
        }
    }
}

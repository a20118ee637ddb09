using System;
using System.Threading;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Intra-operator parallelism: how many threads one large matrix product (a ResNet-class convolution) may use, so a
    /// single image (batch 1) runs on more than one core. Batches are better split across threads by the caller (each
    /// thread runs <c>Forward</c> on its own samples); this is for latency.
    /// <para>Default 1: nothing changes unless the program asks. With 2, the calling thread and one helper thread (started
    /// on first use, a background thread that waits on an event between products) share each product's output columns or
    /// rows. Products too small to pay for the hand-off, and products started while the helper is busy with another
    /// thread's product, run on the calling thread alone, so concurrent <c>Forward</c> calls stay correct.</para>
    /// </summary>
    public static class Parallelism
    {
        private static int s_threads = 1;

        /// <summary>Threads per large matrix product: 1 (default) or 2. Set it once at start-up (e.g. to 2 on a 2-core machine).</summary>
        public static int IntraOpThreads
        {
            get => s_threads;
            set
            {
                if (value is < 1 or > 2) throw new ArgumentOutOfRangeException(nameof(value), value, "IntraOpThreads is 1 or 2");
                s_threads = value;
            }
        }
    }

    /// <summary>
    /// The helper thread of <see cref="Parallelism"/>: runs the second half of one job at a time while the caller runs the
    /// first. A job is a static function pointer taking its arguments (a struct on the caller's stack, alive until the
    /// caller returns, which is after the helper is done) and the half to run (0 or 1); no delegate, no allocation.
    /// </summary>
    internal static unsafe class PairWorker
    {
        private static delegate*<void*, int, void> s_job;
        private static void* s_args;

        private static int s_busy; // 0: free; 1: taken by a caller
        private static readonly ManualResetEventSlim s_start = new(false, 2000), s_done = new(false, 2000);
        private static Thread? s_thread;
        private static readonly object s_startLock = new();

        /// <summary>
        /// Runs job(args, 0) on the calling thread and job(args, 1) on the helper; false (nothing run) when intra-op
        /// parallelism is off or the helper is taken by another thread's job (the caller then runs the work serially).
        /// </summary>
        internal static bool TryRun(delegate*<void*, int, void> job, void* args)
        {
            if (Parallelism.IntraOpThreads < 2 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0) return false;
            try
            {
                EnsureThread();
                s_job = job;
                s_args = args;
                s_done.Reset();
                s_start.Set();
                job(args, 0);
                s_done.Wait();
            }
            finally { Volatile.Write(ref s_busy, 0); }
            return true;
        }

        private static void EnsureThread()
        {
            if (s_thread is not null) return;
            lock (s_startLock)
            {
                if (s_thread is not null) return;
                var t = new Thread(Loop) { IsBackground = true, Name = "CnnGen intra-op" };
                t.Start();
                s_thread = t;
            }
        }

        private static void Loop()
        {
            while (true)
            {
                s_start.Wait();
                s_start.Reset();
                s_job(s_args, 1);
                s_done.Set();
            }
        }
    }
}

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

    /// <summary>The helper thread of <see cref="Parallelism"/>: runs one delegate-free work item at a time.</summary>
    internal static unsafe class GemmWorker
    {
        // The work item: the second half of a GemmBlocked product.
        private static int s_M, s_N, s_K, s_aRow, s_aCol, s_ldb, s_ldc;
        private static float* s_a, s_b, s_c;
        private static bool s_accumulate;

        private static int s_busy; // 0: free; 1: taken by a caller
        private static readonly ManualResetEventSlim s_start = new(false, 2000), s_done = new(false, 2000);
        private static Thread? s_thread;
        private static readonly object s_startLock = new();

        /// <summary>Runs the two halves on the caller and the helper; false (nothing done) if the helper is taken.</summary>
        internal static bool TryRunPair(int M, int N, int K, float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, bool accumulate,
            int M2, int N2, float* a2, float* b2, float* c2)
        {
            if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0) return false;
            try
            {
                EnsureThread();
                s_M = M2; s_N = N2; s_K = K; s_aRow = aRow; s_aCol = aCol; s_ldb = ldb; s_ldc = ldc;
                s_a = a2; s_b = b2; s_c = c2; s_accumulate = accumulate;
                s_done.Reset();
                s_start.Set();
                GemmBlocked.MultiplySerial(M, N, K, a, aRow, aCol, b, ldb, c, ldc, accumulate);
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
                GemmBlocked.MultiplySerial(s_M, s_N, s_K, s_a, s_aRow, s_aCol, s_b, s_ldb, s_c, s_ldc, s_accumulate);
                s_done.Set();
            }
        }
    }
}

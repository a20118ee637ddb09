// Repetitions for issue 19's figures, shared by the CnnGen bench and the C# peers (bench/peers-big).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

public sealed record TimingResult(double min_us, double median_us, double[] reps_us);

public static class Timing
{
    /// <summary>min and median over reps of (median µs per call over seconds, at least minCalls calls), after warmup calls.</summary>
    public static TimingResult Reps(Action fn, int reps, double seconds, int minCalls, int warmup = 2)
    {
        for (int i = 0; i < warmup; i++) fn();
        var v = new List<double>();
        double tick = 1e6 / Stopwatch.Frequency;
        for (int rep = 0; rep < reps; rep++)
        {
            var us = new List<double>();
            var total = Stopwatch.StartNew();
            while (us.Count < minCalls || total.Elapsed.TotalSeconds < seconds)
            {
                long t0 = Stopwatch.GetTimestamp();
                fn();
                us.Add((Stopwatch.GetTimestamp() - t0) * tick);
            }
            us.Sort();
            v.Add(us[us.Count / 2]);
        }
        v.Sort();
        return new TimingResult(Math.Round(v[0], 1), Math.Round(v[v.Count / 2], 1), v.Select(a => Math.Round(a, 1)).ToArray());
    }
}

using System;
using System.Diagnostics;
using System.IO;

namespace CnnGen.Training;

/// <summary>
/// The progress display of a <see cref="Trainer"/>: on a terminal (the console's error stream, not redirected) one
/// line redrawn in place at most 5 times a second; elsewhere a line every 10% of an epoch.
/// </summary>
internal sealed class ProgressDisplay
{
    private readonly TextWriter? _out;
    private readonly bool _interactive;
    private readonly int _epochs;
    private readonly int _trainCount;
    private readonly int _testCount;
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    private int _epoch;
    private int _lastDecile;
    private int _drawnLength;
    private double _epochSeconds = double.NaN;  // last full epoch's training time
    private double _evalSeconds = double.NaN;   // last evaluation's time

    public ProgressDisplay(TextWriter? output, int epochs, int trainCount, int testCount)
    {
        _out = output;
        _interactive = output is not null && ReferenceEquals(output, Console.Error) && !Console.IsErrorRedirected;
        _epochs = epochs;
        _trainCount = trainCount;
        _testCount = testCount;
    }

    public void StartEpoch(int epoch)
    {
        _epoch = epoch;
        _lastDecile = 0;
    }

    public void Update(int seen, double runningLoss, double elapsed)
    {
        if (_out is null || seen == 0 || elapsed <= 0)
            return;
        bool done = seen >= _trainCount;
        int decile = (int)(10L * seen / Math.Max(_trainCount, 1));
        if (_interactive)
        {
            if (!done && _sinceDraw.ElapsedMilliseconds < 200)
                return;
        }
        else if (decile == _lastDecile || decile >= 10)
        {
            return; // the epoch line reports the end
        }
        _lastDecile = decile;
        _sinceDraw.Restart();

        double rate = seen / elapsed;
        double etaEpoch = (_trainCount - seen) / rate;
        double epochTime = double.IsNaN(_epochSeconds) ? _trainCount / rate : _epochSeconds;
        double evalTime = double.IsNaN(_evalSeconds) ? epochTime * _testCount / Math.Max(_trainCount, 1) / 3 : _evalSeconds;
        double etaRun = etaEpoch + evalTime + (_epochs - _epoch) * (epochTime + evalTime);
        string line = TrainingLog.ProgressLine(_epoch, _epochs, seen, _trainCount, rate, runningLoss, etaEpoch, etaRun);
        if (_interactive)
        {
            string padded = line.Length < _drawnLength ? line + new string(' ', _drawnLength - line.Length) : line;
            _out.Write('\r' + padded);
            _drawnLength = line.Length;
        }
        else
        {
            _out.WriteLine(line);
        }
        _out.Flush();
    }

    public void EndEpoch(double trainSeconds, double evalSeconds)
    {
        _epochSeconds = trainSeconds;
        _evalSeconds = evalSeconds;
    }

    /// <summary>Erases the in-place line (before another line is written to the terminal).</summary>
    public void Clear()
    {
        if (_out is null || !_interactive || _drawnLength == 0)
            return;
        _out.Write('\r' + new string(' ', _drawnLength) + '\r');
        _out.Flush();
        _drawnLength = 0;
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using CnnGen.Metrics;
using CnnGen.Training;
using ScottPlot;

namespace CnnGen.Samples;

/// <summary>PNG plots of a training run (ScottPlot).</summary>
public static class Plots
{
    /// <summary>Writes &lt;prefix&gt;.loss.png (train and test loss per epoch) and &lt;prefix&gt;.accuracy.png; returns the paths.</summary>
    public static IReadOnlyList<string> WriteCurves(IReadOnlyList<EpochResult> epochs, string prefix, string title, string evalLabel = "test")
    {
        var x = new double[epochs.Count];
        var trainLoss = new double[epochs.Count];
        var testLoss = new double[epochs.Count];
        var acc = new double[epochs.Count];
        for (int i = 0; i < epochs.Count; i++)
        {
            x[i] = epochs[i].Epoch;
            trainLoss[i] = epochs[i].TrainLoss;
            testLoss[i] = epochs[i].TestLoss;
            acc[i] = 100 * epochs[i].TestAccuracy;
        }

        string lossPath = prefix + ".loss.png";
        var loss = new Plot();
        var a = loss.Add.Scatter(x, trainLoss);
        a.LegendText = "train (mean over the epoch)";
        var b = loss.Add.Scatter(x, testLoss);
        b.LegendText = $"{evalLabel} (after the epoch)";
        loss.Title($"{title}: loss");
        loss.XLabel("epoch");
        loss.YLabel("cross-entropy loss");
        loss.ShowLegend(Alignment.UpperRight);
        IntegerTicks(loss, x);
        loss.SavePng(lossPath, 800, 500);

        string accPath = prefix + ".accuracy.png";
        var accuracy = new Plot();
        var c = accuracy.Add.Scatter(x, acc);
        c.LegendText = $"{evalLabel} accuracy";
        accuracy.Title($"{title}: accuracy");
        accuracy.XLabel("epoch");
        accuracy.YLabel("accuracy (%)");
        accuracy.ShowLegend(Alignment.LowerRight);
        IntegerTicks(accuracy, x);
        accuracy.SavePng(accPath, 800, 500);
        return new[] { lossPath, accPath };
    }

    /// <summary>Writes the confusion matrix as a heat map with counts (rows: true class, top to bottom; columns: predicted).</summary>
    public static string WriteConfusion(ConfusionMatrix m, string path, string title)
    {
        int k = m.NumClasses;
        var rowNormalized = new double[k, k];
        for (int t = 0; t < k; t++)
        {
            long support = Math.Max(1, m.Support(t));
            for (int p = 0; p < k; p++)
                rowNormalized[t, p] = (double)m[t, p] / support;
        }
        var plot = new Plot();
        var hm = plot.Add.Heatmap(rowNormalized);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        // Row 0 is drawn at the top; cell (row t, column p) is centered on (p, k - 1 - t).
        for (int t = 0; t < k; t++)
        {
            for (int p = 0; p < k; p++)
            {
                var txt = plot.Add.Text(m[t, p].ToString(CultureInfo.InvariantCulture), p, k - 1 - t);
                txt.LabelFontSize = 11;
                txt.LabelAlignment = Alignment.MiddleCenter;
                txt.LabelFontColor = rowNormalized[t, p] > 0.5 ? Colors.Black : Colors.White;
            }
        }
        string[] names = new string[k];
        double[] pos = new double[k];
        double[] rowPos = new double[k];
        for (int i = 0; i < k; i++)
        {
            names[i] = m.ClassNames?[i] ?? i.ToString(CultureInfo.InvariantCulture);
            pos[i] = i;
            rowPos[i] = k - 1 - i;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(pos, names);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(rowPos, names);
        plot.Title($"{title}: confusion matrix ({m.Correct}/{m.Total} correct)");
        plot.XLabel("predicted class");
        plot.YLabel("true class");
        plot.Add.ColorBar(hm);
        plot.SavePng(path, 900, 800);
        return path;
    }

    private static void IntegerTicks(Plot plot, double[] x)
    {
        if (x.Length == 0 || x.Length > 30)
            return;
        var labels = new string[x.Length];
        for (int i = 0; i < x.Length; i++)
            labels[i] = x[i].ToString(CultureInfo.InvariantCulture);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(x, labels);
    }
}

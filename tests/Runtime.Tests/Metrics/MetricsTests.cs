using System;
using CnnGen.Metrics;
using Xunit;

namespace CnnGen.Runtime.Tests;

public class MetricsTests
{
    // Example from the sklearn docs (f1_score / precision_score / recall_score / fbeta_score):
    //   y_true = [0, 1, 2, 0, 1, 2]; y_pred = [0, 2, 1, 0, 0, 1]
    // By hand: class 0: TP 2, FP 1, FN 0 -> P 2/3, R 1, F1 = 2*2/(2*2+0+1) = 0.8, F0.5 = 1.25*2/(1.25*2+0.25*0+1) = 5/7.
    //          classes 1 and 2: TP 0 -> P = R = F = 0.
    private static readonly int[] TrueA = { 0, 1, 2, 0, 1, 2 };
    private static readonly int[] PredA = { 0, 2, 1, 0, 0, 1 };

    private static ConfusionMatrix Matrix(int[] pred, int[] truth, int classes = 3)
    {
        var m = new ConfusionMatrix(classes);
        m.Add(pred, truth);
        return m;
    }

    [Fact]
    public void Per_class_scores_match_hand_computed_values()
    {
        ConfusionMatrix m = Matrix(PredA, TrueA);
        Assert.Equal(2, m.TruePositives(0));
        Assert.Equal(1, m.FalsePositives(0));
        Assert.Equal(0, m.FalseNegatives(0));
        Assert.Equal(2, m.FalsePositives(1)); // two samples predicted 1: true 2 (twice)
        Assert.Equal(2, m.Support(2));
        Assert.Equal(1, m[1, 0]);
        Assert.Equal(2, m[2, 1]);
        Assert.Equal(1, m[1, 2]);

        Assert.Equal(2.0 / 3, m.Precision(0), 12);
        Assert.Equal(1.0, m.Recall(0), 12);
        Assert.Equal(0.8, m.F1(0), 12);
        Assert.Equal(5.0 / 7, m.FBeta(0, 0.5), 12);
        // F2 = 5*2/(5*2 + 4*0 + 1) = 10/11
        Assert.Equal(10.0 / 11, m.FBeta(0, 2), 12);
        for (int c = 1; c < 3; c++)
        {
            Assert.Equal(0, m.Precision(c));
            Assert.Equal(0, m.Recall(c));
            Assert.Equal(0, m.F1(c));
        }
        Assert.Equal(2.0 / 6, m.Accuracy, 12);
        Assert.Equal(6, m.Total);
        Assert.Equal(2, m.Correct);
    }

    [Fact]
    public void Macro_and_weighted_averages_match_sklearn_docs()
    {
        ConfusionMatrix m = Matrix(PredA, TrueA);
        Assert.Equal(0.2222222222, m.MacroPrecision, 9); // precision_score(average='macro')
        Assert.Equal(1.0 / 3, m.MacroRecall, 12);       // recall_score(average='macro')
        Assert.Equal(0.2666666667, m.MacroF1, 9);       // f1_score(average='macro')
        Assert.Equal(5.0 / 21, m.MacroFBeta(0.5), 12);  // fbeta_score(average='macro', beta=0.5) = (5/7)/3
        Assert.Equal(0.2666666667, m.WeightedF1, 9);    // f1_score(average='weighted'): equal supports
        Assert.Equal(5.0 / 21, m.WeightedFBeta(0.5), 12);
    }

    [Fact]
    public void Undefined_scores_are_zero_and_absent_classes_are_left_out_of_macro_averages()
    {
        // y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1] in a 4-class matrix: class 3 never occurs.
        ConfusionMatrix m = Matrix(new[] { 0, 0, 2, 2, 1 }, new[] { 0, 1, 2, 2, 2 }, classes: 4);
        Assert.False(m.IsPresent(3));
        Assert.Equal(0, m.Precision(3));
        Assert.Equal(0, m.Recall(3));
        Assert.Equal(0, m.F1(3));
        // Present classes 0..2: P = (1/2, 0, 1), R = (1, 0, 2/3), F1 = (2/3, 0, 4/5).
        Assert.Equal(0.5, m.MacroPrecision, 12);
        Assert.Equal((1 + 2.0 / 3) / 3, m.MacroRecall, 12);
        Assert.Equal((2.0 / 3 + 0.8) / 3, m.MacroF1, 12);
        // Weighted by support (1, 1, 3): P = (0.5 + 3) / 5 = 0.7, F1 = (2/3 + 3*0.8) / 5.
        Assert.Equal(0.7, m.WeightedPrecision, 12);
        Assert.Equal(0.6, m.WeightedRecall, 12);
        Assert.Equal((2.0 / 3 + 2.4) / 5, m.WeightedF1, 12);

        // Class 1 is predicted once but never correct; a class predicted but never true has recall 0, precision 0.
        ConfusionMatrix onlyWrong = Matrix(new[] { 1 }, new[] { 0 }, classes: 2);
        Assert.Equal(0, onlyWrong.Precision(1));
        Assert.Equal(0, onlyWrong.Recall(1));
        Assert.Equal(0, onlyWrong.MacroF1);
        Assert.Equal(0, new ConfusionMatrix(3).MacroF1);
        Assert.Equal(0, new ConfusionMatrix(3).Accuracy);
    }

    [Fact]
    public void Report_matches_sklearn_classification_report_docs_example()
    {
        // sklearn.metrics.classification_report(y_true=[0, 1, 2, 2, 2], y_pred=[0, 0, 2, 2, 1],
        //                                        target_names=['class 0', 'class 1', 'class 2'])
        ConfusionMatrix m = Matrix(new[] { 0, 0, 2, 2, 1 }, new[] { 0, 1, 2, 2, 2 });
        string expected =
            "              precision    recall  f1-score   support\n" +
            "\n" +
            "     class 0       0.50      1.00      0.67         1\n" +
            "     class 1       0.00      0.00      0.00         1\n" +
            "     class 2       1.00      0.67      0.80         3\n" +
            "\n" +
            "    accuracy                           0.60         5\n" +
            "   macro avg       0.50      0.56      0.49         5\n" +
            "weighted avg       0.70      0.60      0.61         5\n";
        Assert.Equal(expected, m.Report(new[] { "class 0", "class 1", "class 2" }));
    }

    [Fact]
    public void ToTable_is_aligned_with_class_names_and_counts()
    {
        var m = new ConfusionMatrix(3, new[] { "cat", "dog", "hamster" });
        m.Add(new[] { 0, 0, 1, 2, 2, 2 }, new[] { 0, 0, 1, 2, 0, 2 });
        for (int i = 0; i < 1234; i++) m.Add(1, 1);
        string expected =
            "true \\ pred      cat      dog  hamster\n" +
            "        cat        2        0        1\n" +
            "        dog        0     1235        0\n" +
            "    hamster        0        0        2\n";
        Assert.Equal(expected, m.ToTable());
        string digits = Matrix(new[] { 0, 1 }, new[] { 0, 0 }, classes: 2).ToTable();
        Assert.Equal("true \\ pred  0  1\n          0  1  1\n          1  0  0\n", digits);
    }

    [Fact]
    public void Scores_batches_argmax_and_accuracy()
    {
        float[] logits =
        {
            0.1f, 2.0f, -1f,   // -> 1
            3f, 3f, 0f,        // tie -> first (0)
            -5f, -4f, -3f,     // -> 2
            0f, float.NaN, 9f, // NaN wins, as torch.argmax
        };
        int[] labels = { 1, 1, 2, 1 };
        var preds = new int[4];
        Classification.ArgMax(logits, 3, preds);
        Assert.Equal(new[] { 1, 0, 2, 1 }, preds);
        Assert.Equal(3, Classification.CountCorrect(logits, 3, labels));
        Assert.Equal(0.75, Classification.Accuracy(logits, 3, labels));
        Assert.Equal(0.75, Classification.Accuracy(preds, labels));
        Assert.Equal(0, Classification.Accuracy(ReadOnlySpan<int>.Empty, ReadOnlySpan<int>.Empty));

        var m = new ConfusionMatrix(3);
        m.AddScores(logits, labels);
        Assert.Equal(0.75, m.Accuracy);
        Assert.Equal(1, m[1, 0]);
        Assert.Throws<ArgumentException>(() => Classification.CountCorrect(logits, 5, labels));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(0, -1));
    }

    [Fact]
    public void Merge_and_reset()
    {
        ConfusionMatrix a = Matrix(PredA, TrueA);
        ConfusionMatrix b = Matrix(new[] { 2 }, new[] { 2 });
        a.Merge(b);
        Assert.Equal(7, a.Total);
        Assert.Equal(3, a.Correct);
        Assert.Equal(1, a[2, 2]);
        a.Reset();
        Assert.Equal(0, a.Total);
        Assert.Equal(0, a[0, 0]);
        Assert.Throws<ArgumentException>(() => a.Merge(new ConfusionMatrix(4)));
    }
}

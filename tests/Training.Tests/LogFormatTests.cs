using Xunit;

namespace CnnGen.Training.Tests;

public class LogFormatTests
{
    [Fact]
    public void TrainLine_IsThePyTorchTutorialsFormat()
    {
        // batch 200 of 938 (60000 samples, batch 64): 200*64 = 12800, 100*200/938 = 21.3%
        Assert.Equal("Train Epoch: 1 [12800/60000 (21%)]\tLoss: 0.345638", TrainingLog.TrainLine(1, 200, 64, 60000, 938, 0.3456379));
        Assert.Equal("Train Epoch: 10 [0/60000 (0%)]\tLoss: 2.302585", TrainingLog.TrainLine(10, 0, 64, 60000, 938, 2.302585093));
        // the last (partial) batch: batch_idx * len(data), as the tutorial prints it
        Assert.Equal("Train Epoch: 2 [29984/60000 (100%)]\tLoss: 0.000100", TrainingLog.TrainLine(2, 937, 32, 60000, 938, 1e-4));
    }

    [Fact]
    public void TrainLine_RoundsThePercentageHalfToEven_AsPythonFormat()
    {
        // '{:.0f}'.format(12.5) == '12', '{:.0f}'.format(37.5) == '38'
        Assert.Contains("(12%)", TrainingLog.TrainLine(1, 1, 10, 80, 8, 1));
        Assert.Contains("(38%)", TrainingLog.TrainLine(1, 3, 10, 80, 8, 1));
    }

    [Fact]
    public void EpochLine_IsTheDesignFormat()
    {
        Assert.Equal("[3] Test Loss: 0.0412, Accuracy: 98.71%", TrainingLog.EpochLine(3, 0.04123, 0.9871));
        Assert.Equal("[1] Test Loss: 0.3145, Accuracy: 88.68%", TrainingLog.EpochLine(1, 0.31449, 0.8868));
        Assert.Equal("[12] Test Loss: 2.3026, Accuracy: 100.00%", TrainingLog.EpochLine(12, 2.302585, 1.0));
    }

    [Fact]
    public void ProgressLine_ShowsPercentSpeedAndEta()
    {
        string line = TrainingLog.ProgressLine(2, 10, 27000, 60000, 4000, 0.12345, 8.25, 72);
        Assert.Equal("epoch 2/10  45% [#########-----------] 27000/60000  4000 img/s  loss 0.1235  ETA epoch 8s, run 1m12s", line);
        Assert.Equal("1h02m", TrainingLog.Duration(3725));
        Assert.Equal("?", TrainingLog.Duration(double.NaN));
    }
}

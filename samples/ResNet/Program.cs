using System;
using System.Diagnostics;
using CnnGen.Losses;
using CnnGen.Optim;
using CnnGen.Samples.ResNet;

// Residual networks declared with [Block] / [Residual] / [SqueezeExcitation].
//   dotnet run -c Release --project samples/ResNet                  train CifarResNet on synthetic 3×32×32 data
//   dotnet run -c Release --project samples/ResNet -- --steps 300   (default 300 steps of batch 32)
//   dotnet run -c Release --project samples/ResNet -- resnet18      torchvision's ResNet-18: summary and one forward pass
//   dotnet run -c Release --project samples/ResNet -- mbconv        EfficientNet-style MBConv net (squeeze-excitation) on Fashion-MNIST
//   dotnet run -c Release --project samples/ResNet -- resnext       ResNeXt bottlenecks (grouped 3×3) on Fashion-MNIST
//        (both: --steps N, default 300 steps of batch 32; --data DIR, else $CNNGEN_DATA, ~/.cache/cnngen, a download;
//         --mnist for MNIST instead)

if (args.Length > 0 && args[0] == "resnet18")
{
    Console.Write(ResNet18.Summary());
    var net = new ResNet18(seed: 0);
    var image = new float[ResNet18.InputSize];
    var rng = new Random(1);
    for (int i = 0; i < image.Length; i++) image[i] = (float)(rng.NextDouble() * 2 - 1);
    var logits = new float[ResNet18.OutputSize];
    for (int run = 0; run < 3; run++)
    {
        var sw = Stopwatch.StartNew();
        net.Forward(image, logits);
        Console.WriteLine($"ResNet-18 forward, one 3×224×224 image: {sw.Elapsed.TotalMilliseconds:F1} ms");
    }
    return 0;
}

if (args.Length > 0 && (args[0] == "mbconv" || args[0] == "resnext"))
{
    int trainSteps = 300;
    string? data = null;
    string dataset = "fashion-mnist";
    for (int i = 1; i < args.Length; i++)
    {
        if (args[i] == "--steps" && i + 1 < args.Length)
        {
            if (!int.TryParse(args[++i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out trainSteps) || trainSteps < 1)
            {
                Console.Error.WriteLine($"ResNet: --steps takes a whole number above 0, not '{args[i]}'");
                return 2;
            }
        }
        else if (args[i] == "--data" && i + 1 < args.Length) data = args[++i];
        else if (args[i] == "--mnist") dataset = "mnist";
        else { Console.Error.WriteLine($"unknown option '{args[i]}' (--steps N, --data DIR, --mnist)"); return 2; }
    }
    var norm = dataset == "mnist" ? CnnGen.Data.Normalization.Mnist : CnnGen.Data.Normalization.FashionMnist;
    CnnGen.Training.LabeledData train, test;
    try
    {
        train = CnnGen.Training.LabeledData.From(CnnGen.Data.MnistDataset.Load(dataset, train: true, data, norm));
        test = CnnGen.Training.LabeledData.From(CnnGen.Data.MnistDataset.Load(dataset, train: false, data, norm));
    }
    catch (Exception ex) when (ex is System.IO.IOException or System.IO.InvalidDataException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"ResNet: {ex.Message}");
        return 2;
    }
    CnnGen.ICnnModel model = args[0] == "mbconv" ? new MBConvNet(seed: 1) : new ResNeXtNet(seed: 1);
    Console.Write(args[0] == "mbconv" ? MBConvNet.Summary() : ResNeXtNet.Summary());
    Console.WriteLine($"{dataset}: {train.Count} training samples, {test.Count} test samples; {trainSteps} steps of batch {ImageTraining.Batch}");
    var total = Stopwatch.StartNew();
    var (first, final, acc) = ImageTraining.Run(model, train, test, trainSteps, Console.Out, testSamples: test.Count);
    Console.WriteLine($"loss {first:F4} -> {final:F4}; test accuracy (inference mode, batch norm folded): {acc:P2} of {test.Count} ({total.Elapsed.TotalSeconds:F1} s)");
    return final < first ? 0 : 1;
}

if (args.Length > 0 && args[0] == "bench")
{
    // Throughput of CifarResNet on one thread, batch 32 (bench/resnet_cifar_torch.py measures PyTorch the same way).
    const int B = 32;
    var model = new CifarResNet(1);
    var ws = model.CreateWorkspace(B);
    var x = new float[B * CifarResNet.InputSize];
    var rng = new Random(2);
    for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
    var labels = new int[B];
    var y = new float[B * CifarResNet.OutputSize];
    var dy = new float[y.Length];
    var g = new float[CifarResNet.ParameterCount];
    var adam = new Adam(CifarResNet.ParameterCount);
    void TrainStep()
    {
        model.ForwardTrain(ws, x, y, B);
        Loss.CrossEntropy(y, labels, B, CifarResNet.OutputSize, dy);
        Array.Clear(g);
        model.Backward(ws, dy, g, Span<float>.Empty);
        adam.Step(model.Parameters, g);
    }
    for (int i = 0; i < 10; i++) { TrainStep(); model.Forward(x, y, B); }
    var sw = Stopwatch.StartNew();
    int n = 0;
    while (sw.Elapsed.TotalSeconds < 5) { TrainStep(); n++; }
    Console.WriteLine($"CnnGen CifarResNet training (forward+backward+Adam), batch {B}, 1 thread: {n * B / sw.Elapsed.TotalSeconds:F0} img/s");
    sw.Restart();
    n = 0;
    while (sw.Elapsed.TotalSeconds < 5) { model.Forward(x, y, B); n++; }
    Console.WriteLine($"CnnGen CifarResNet inference, batch {B}, 1 thread: {n * B / sw.Elapsed.TotalSeconds:F0} img/s");
    return 0;
}

int steps = 300;
for (int i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--steps" && (!int.TryParse(args[i + 1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out steps) || steps < 1))
    {
        Console.Error.WriteLine($"ResNet: --steps takes a whole number above 0, not '{args[i + 1]}'");
        return 2;
    }
}
Console.Write(CifarResNet.Summary());
Console.Write(CifarResNet.SummaryTree());
var (finalLoss, firstLoss, accuracy) = SyntheticTraining.Run(steps, Console.Out);
Console.WriteLine($"loss {firstLoss:F4} -> {finalLoss:F4}, accuracy on fresh samples (inference mode, running statistics): {accuracy:P1}");
return finalLoss < firstLoss ? 0 : 1;

using System;
using System.Diagnostics;
using CnnGen.Losses;
using CnnGen.Optim;
using CnnGen.Samples.ResNet;

// Residual networks declared with [Block] / [Residual] / [SqueezeExcitation].
//   dotnet run -c Release --project samples/ResNet                  train CifarResNet on synthetic 3×32×32 data
//   dotnet run -c Release --project samples/ResNet -- --steps 300   (default 300 steps of batch 32)
//   dotnet run -c Release --project samples/ResNet -- resnet18      torchvision's ResNet-18: summary and one forward pass

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

int steps = 300;
for (int i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--steps") steps = int.Parse(args[i + 1]);
}
Console.Write(CifarResNet.Summary());
var (finalLoss, firstLoss, accuracy) = SyntheticTraining.Run(steps, Console.Out);
Console.WriteLine($"loss {firstLoss:F4} -> {finalLoss:F4}, accuracy on fresh samples (inference mode, running statistics): {accuracy:P1}");
return finalLoss < firstLoss ? 0 : 1;

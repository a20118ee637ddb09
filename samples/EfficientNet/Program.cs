using System;
using System.Diagnostics;
using CnnGen.Samples.EfficientNet;

// torchvision's EfficientNet-B0 compiled by CnnGen: prints the parameter count and torchsummary's table, then times
// inference on a batch of random 224×224 images. With a path argument, loads those weights first: a safetensors file of
// torchvision's state_dict (e.g. converted with safetensors.torch.save_file(efficientnet_b0(weights="DEFAULT").state_dict(), path)).
//   dotnet run -c Release --project samples/EfficientNet [weights.safetensors]

var model = new EfficientNetB0();
if (args.Length > 0)
{
    model.LoadWeights(args[0]);
    Console.WriteLine($"Loaded {args[0]}");
}
Console.WriteLine($"EfficientNet-B0: {EfficientNetB0.ParameterCount:N0} parameters");
Console.WriteLine(EfficientNetB0.Summary(1));

const int batch = 4;
var rng = new Random(0);
var input = new float[batch * EfficientNetB0.InputSize];
for (int i = 0; i < input.Length; i++) input[i] = (float)(rng.NextDouble() * 2 - 1);
var output = new float[batch * EfficientNetB0.OutputSize];
model.Forward(input, output, batch); // warm-up
var sw = Stopwatch.StartNew();
model.Forward(input, output, batch);
sw.Stop();
int best = 0;
for (int k = 1; k < EfficientNetB0.OutputSize; k++) if (output[k] > output[best]) best = k;
Console.WriteLine($"Forward, batch {batch}: {sw.Elapsed.TotalMilliseconds / batch:F1} ms per image; sample 0's top class {best}");
return 0;

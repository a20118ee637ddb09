using System;
using CnnGen;
using CnnGen.Samples.MnistPredict;

// mnist-predict: the DESIGN.md MNIST model with its trained weights compiled in. Published as a Native AOT
// executable it needs no .NET runtime, no weights file and no native library beside it.
//   mnist-predict digit.pgm [more.png ...]           classify images (28x28 grayscale, white digit on black, as MNIST)
//   mnist-predict t10k-images-idx3-ubyte.gz 42       classify image 42 of an IDX file (True: from the labels file)
//   mnist-predict t10k-images-idx3-ubyte.gz          accuracy over the whole set
// Predictor.cs holds the command line (usage, readers, output); every bad input is one line on stderr and exit code 2.

// A Native AOT publish leaves an AVX-512 build beside this one (mnist-predict-avx512): switch to it when the CPU has
// AVX-512 (it doubles the kernels' FMA throughput). Returns at once everywhere else (JIT, no AVX-512, no copy).
NativeVariant.RunBestVariant();

return Predictor.Run(args, () => new MnistCnn(), Console.Out, Console.Error);

/// <summary>The DESIGN.md model, exactly as samples/Mnist trains it, with the trained weights compiled in.</summary>
[Model(Weights = "mnist.safetensors")]
[Input(1, 28, 28)]                          // channels, height, width (one sample)
[Conv2d(1, 16, 3)]
[ReLU]
[MaxPool2d(2, Stride = 2, Padding = 1)]
[Conv2d(16, 32, 3)]
[ReLU]
[MaxPool2d(2, Stride = 2, Padding = 1)]
[Flatten]
[Linear(7 * 7 * 32, 32)]
[ReLU]
[Dropout(0.3)]
[Linear(32, 10)]
public partial class MnistCnn { }

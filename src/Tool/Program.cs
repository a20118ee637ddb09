using System;
using System.IO;
using CnnGen.Tool;

// cnngen import model.onnx [--out DIR] [--class Name] [--namespace Ns] [--keep-fused-bn]
//   exit 0: Name.cs and Name.safetensors written; 1: usage; 2: the model cannot be imported (one line on stderr, no files written).
return Cli.Run(args, Console.Out, Console.Error);

namespace CnnGen.Tool
{
    internal static class Cli
    {
        public const int Usage = 1;
        public const int ImportError = 2;

        private const string Help =
            "usage: cnngen import model.onnx [--out DIR] [--class Name] [--namespace Ns]\n" +
            "  writes DIR/Name.cs (a [Model] declaration) and DIR/Name.safetensors (its weights; LoadWeights reads them)\n" +
            "  --out DIR        output folder (default: the current folder)\n" +
            "  --class Name     the model class (default: from the file name)\n" +
            "  --namespace Ns   the declaration's namespace (default: none)\n" +
            "  --keep-fused-bn  import a batch norm that the exporter folded into a convolution (torch.onnx's default\n" +
            "                   training=EVAL export: weights named onnx::Conv_*) as that convolution's bias; by default it\n" +
            "                   is restored as Conv2d(Bias = false) + BatchNorm2d computing the same function";

        public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                (args.Length == 0 ? stderr : stdout).WriteLine(Help);
                return args.Length == 0 ? Usage : 0;
            }
            if (args[0] != "import")
            {
                stderr.WriteLine($"cnngen: unknown command '{args[0]}'\n{Help}");
                return Usage;
            }
            string? input = null, outDir = null, className = null, ns = null;
            bool keepFused = false;
            for (int i = 1; i < args.Length; i++)
            {
                string a = args[i];
                if (a is "--out" or "--class" or "--namespace")
                {
                    if (i + 1 >= args.Length) { stderr.WriteLine($"cnngen import: {a} needs a value"); return Usage; }
                    string v = args[++i];
                    if (a == "--out") outDir = v; else if (a == "--class") className = v; else ns = v;
                }
                else if (a == "--keep-fused-bn") keepFused = true;
                else if (a.StartsWith('-')) { stderr.WriteLine($"cnngen import: unknown option '{a}'\n{Help}"); return Usage; }
                else if (input is null) input = a;
                else { stderr.WriteLine($"cnngen import: one model file expected, got '{input}' and '{a}'"); return Usage; }
            }
            if (input is null) { stderr.WriteLine($"cnngen import: the ONNX file is missing\n{Help}"); return Usage; }
            className ??= Naming.ClassName(Path.GetFileNameWithoutExtension(input));
            if (!Naming.IsIdentifier(className)) { stderr.WriteLine($"cnngen import: '{className}' is not a C# class name (use --class)"); return Usage; }
            if (ns is not null && !Naming.IsNamespace(ns)) { stderr.WriteLine($"cnngen import: '{ns}' is not a C# namespace"); return Usage; }
            try
            {
                ImportResult r = Importer.ImportFile(input, className, ns, keepFused);
                string dir = outDir ?? Directory.GetCurrentDirectory();
                r.WriteTo(dir);
                stdout.WriteLine($"cnngen import: {input} -> {Path.Combine(dir, className + ".cs")} + {className}.safetensors " +
                    $"({r.ParameterCount:N0} parameters, {r.LayerCount} layers)");
                if (r.UnfoldedBatchNorms > 0)
                    stdout.WriteLine($"cnngen import: note: {r.UnfoldedBatchNorms} convolutions had a batch norm folded in by the exporter " +
                        "(weights named onnx::Conv_*); each is declared as Conv2d(Bias = false) + BatchNorm2d (scale 1, shift = the folded " +
                        "bias, mean 0, variance 1 - eps: the same function, folded again at inference). --keep-fused-bn keeps them as " +
                        "convolutions with bias; exporting with training=torch.onnx.TrainingMode.PRESERVE keeps the original batch norms and names.");
                return 0;
            }
            catch (ImportException e)
            {
                stderr.WriteLine($"cnngen import: {input}: {e.Message}");
                return ImportError;
            }
        }
    }
}

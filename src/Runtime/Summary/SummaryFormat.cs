// This file is compiled into two assemblies: the runtime (public, called by generated Summary()
// methods) and the generator (internal, for the table in the model's XML documentation), so the two
// tables can never disagree.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

#if CNNGEN_GENERATOR
namespace CnnGen.Generator.Emit
#else
namespace CnnGen
#endif
{
    /// <summary>One layer's line in a model summary.</summary>
#if CNNGEN_GENERATOR
    internal
#else
    public
#endif
    readonly struct SummaryRow
    {
        /// <summary>Creates a row.</summary>
        /// <param name="torchName">torchsummary's name, e.g. "Conv2d-1"; null for layers without a torchsummary row (Flatten).</param>
        /// <param name="kerasName">Keras' layer name, e.g. "conv2d_1".</param>
        /// <param name="kerasType">Keras' layer class, e.g. "Conv2D".</param>
        /// <param name="shape">Output shape of one sample, channels first: [C, H, W] or [F].</param>
        /// <param name="parameters">Number of parameters.</param>
        public SummaryRow(string? torchName, string kerasName, string kerasType, int[] shape, long parameters)
        {
            TorchName = torchName;
            KerasName = kerasName;
            KerasType = kerasType;
            Shape = shape;
            Parameters = parameters;
        }

        /// <summary>Creates a row for a layer that also has non-trainable weights in Keras (batch norm's moving mean and variance).</summary>
        /// <param name="torchName">torchsummary's name; null for layers without a torchsummary row.</param>
        /// <param name="kerasName">Keras' layer name.</param>
        /// <param name="kerasType">Keras' layer class.</param>
        /// <param name="shape">Output shape of one sample, channels first.</param>
        /// <param name="parameters">Number of (trainable) parameters; what torchsummary counts.</param>
        /// <param name="kerasNonTrainable">Weights Keras counts as non-trainable parameters (torchsummary counts buffers nowhere).</param>
        public SummaryRow(string? torchName, string kerasName, string kerasType, int[] shape, long parameters, long kerasNonTrainable)
            : this(torchName, kerasName, kerasType, shape, parameters)
        {
            KerasNonTrainable = kerasNonTrainable;
        }

        /// <summary>torchsummary's name, or null when torchsummary shows no row.</summary>
        public string? TorchName { get; }
        /// <summary>Keras' layer name.</summary>
        public string KerasName { get; }
        /// <summary>Keras' layer class.</summary>
        public string KerasType { get; }
        /// <summary>Output shape of one sample, channels first.</summary>
        public int[] Shape { get; }
        /// <summary>Number of parameters.</summary>
        public long Parameters { get; }
        /// <summary>Keras' non-trainable weights of the layer (0 but for batch norm's moving statistics).</summary>
        public long KerasNonTrainable { get; }
    }

    /// <summary>Writes model summaries exactly as torchsummary and Keras print them.</summary>
#if CNNGEN_GENERATOR
    internal
#else
    public
#endif
    static class SummaryFormat
    {
        /// <summary>
        /// The <see cref="SummaryRow.KerasType"/> of a nameless row that marks where a residual or squeeze-excitation branch
        /// starts (its shape: the branch's input); Keras' summary of such a model is that of a functional model.
        /// </summary>
        public const string BranchStart = "(branch)";
        /// <summary>The <see cref="SummaryRow.KerasType"/> of a nameless row that marks where a branch's shortcut starts (from the branch's input).</summary>
        public const string ShortcutStart = "(shortcut)";

        /// <summary>
        /// The table torchsummary's <c>summary(model, input_size, batch_size)</c> prints, character for character.
        /// </summary>
        /// <param name="rows">The layers in order.</param>
        /// <param name="inputShape">One sample's input shape, e.g. [1, 28, 28].</param>
        /// <param name="batchSize">-1 (torchsummary's default) or a positive batch size.</param>
        public static string Torch(IReadOnlyList<SummaryRow> rows, int[] inputShape, int batchSize = -1)
        {
            if (batchSize == 0 || batchSize < -1)
                throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be -1 (unspecified) or positive");
            var sb = new StringBuilder();
            const string dashes = "----------------------------------------------------------------";
            const string equals = "================================================================";
            sb.Append(dashes).Append('\n');
            sb.Append(string.Format(CultureInfo.InvariantCulture, "{0,20}  {1,25} {2,15}", "Layer (type)", "Output Shape", "Param #")).Append('\n');
            sb.Append(equals).Append('\n');
            long totalParams = 0;
            decimal totalOutput = 0;
            foreach (var row in rows)
            {
                if (row.TorchName is null) continue;
                var shape = new StringBuilder("[").Append(batchSize.ToString(CultureInfo.InvariantCulture));
                decimal elements = batchSize;
                foreach (int d in row.Shape)
                {
                    shape.Append(", ").Append(d.ToString(CultureInfo.InvariantCulture));
                    elements *= d;
                }
                shape.Append(']');
                sb.Append(string.Format(CultureInfo.InvariantCulture, "{0,20}  {1,25} {2,15}",
                    row.TorchName, shape.ToString(), row.Parameters.ToString("N0", CultureInfo.InvariantCulture))).Append('\n');
                totalParams += row.Parameters;
                totalOutput += elements;
            }
            decimal inputElements = batchSize;
            foreach (int d in inputShape) inputElements *= d;
            // torchsummary assumes 4 bytes a number; "x2 for gradients" on activations. Every size is
            // an exact binary fraction, so decimal reproduces Python's float arithmetic exactly.
            const decimal mb = 1024m * 1024m;
            decimal inputSize = Math.Abs(inputElements * 4m / mb);
            decimal outputSize = Math.Abs(2m * totalOutput * 4m / mb);
            decimal paramsSize = Math.Abs(totalParams * 4m / mb);
            decimal total = paramsSize + outputSize + inputSize;
            sb.Append(equals).Append('\n');
            sb.Append("Total params: ").Append(totalParams.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("Trainable params: ").Append(totalParams.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("Non-trainable params: 0\n");
            sb.Append(dashes).Append('\n');
            sb.Append("Input size (MB): ").Append(Fixed2(inputSize)).Append('\n');
            sb.Append("Forward/backward pass size (MB): ").Append(Fixed2(outputSize)).Append('\n');
            sb.Append("Params size (MB): ").Append(Fixed2(paramsSize)).Append('\n');
            sb.Append("Estimated Total Size (MB): ").Append(Fixed2(total)).Append('\n');
            sb.Append(dashes).Append('\n');
            return sb.ToString();
        }

        // Python's "%0.2f": the exact value rounded half to even.
        private static string Fixed2(decimal value) =>
            Math.Round(value, 2, MidpointRounding.ToEven).ToString("F2", CultureInfo.InvariantCulture);

        /// <summary>
        /// The table Keras' <c>model.summary()</c> prints for a Sequential model (tf.keras 2.x layout:
        /// line length 65, columns at 45% and 85%, long fields wrapped as Keras wraps them), with
        /// channels-last shapes such as <c>(None, 26, 26, 32)</c>.
        /// </summary>
        public static string Keras(IReadOnlyList<SummaryRow> rows, string modelName = "sequential")
        {
            return Sequential(rows, modelName);
        }

        /// <summary>
        /// The table Keras' <c>model.summary()</c> prints: for a model without branches that of a Sequential model
        /// (<see cref="Keras(IReadOnlyList{SummaryRow}, string)"/>), for a model with residual or squeeze-excitation blocks
        /// (<see cref="BranchStart"/> rows) that of the functional model of the same structure (<see cref="KerasFunctionalFormat"/>,
        /// named "model" as tf.keras 2.x names it, with an InputLayer of <paramref name="inputShape"/> and the "Connected to" column).
        /// </summary>
        /// <param name="rows">The layers in order, with their branch markers.</param>
        /// <param name="inputShape">One sample's input shape, channels first, e.g. [3, 32, 32].</param>
        /// <param name="modelName">The model's name; default "sequential" or "model".</param>
        public static string Keras(IReadOnlyList<SummaryRow> rows, int[] inputShape, string? modelName = null) =>
            KerasFunctionalFormat.IsFunctional(rows)
                ? KerasFunctionalFormat.Text(rows, inputShape, modelName ?? "model")
                : Sequential(rows, modelName ?? "sequential");

        private static string Sequential(IReadOnlyList<SummaryRow> rows, string modelName)
        {
            const int lineLength = 65;
            int[] positions = { 29, 55, 65 }; // int(65 * p) for p in [0.45, 0.85, 1.0]
            var sb = new StringBuilder();
            KerasHeader(sb, modelName, new[] { "Layer (type)", "Output Shape", "Param #" }, positions);
            long total = 0, nonTrainable = 0;
            foreach (var row in rows)
            {
                if (row.KerasName.Length == 0) continue; // torchsummary-only rows (a residual block's container row)
                long count = row.Parameters + row.KerasNonTrainable;
                KerasRow(sb, new[] { row.KerasName + " (" + row.KerasType + ")", KerasShape(row.Shape), count.ToString(CultureInfo.InvariantCulture) }, positions);
                sb.Append(' ', lineLength).Append('\n');
                total += count;
                nonTrainable += row.KerasNonTrainable;
            }
            KerasTotals(sb, lineLength, total, nonTrainable);
            return sb.ToString();
        }

        /// <summary>Keras' channels-last shape tuple: [C, H, W] → "(None, H, W, C)", [F] → "(None, F)".</summary>
        internal static string KerasShape(int[] s)
        {
            var shape = new StringBuilder("(None");
            if (s.Length == 3) shape.Append(", ").Append(s[1]).Append(", ").Append(s[2]).Append(", ").Append(s[0]);
            else foreach (int d in s) shape.Append(", ").Append(d);
            return shape.Append(')').ToString();
        }

        /// <summary>The title, the rule, the column headers and the double rule of a Keras table (line length = the last position).</summary>
        internal static void KerasHeader(StringBuilder sb, string modelName, string[] headers, int[] positions)
        {
            int lineLength = positions[positions.Length - 1];
            sb.Append("Model: \"").Append(modelName).Append("\"\n");
            sb.Append('_', lineLength).Append('\n');
            KerasRow(sb, headers, positions);
            sb.Append('=', lineLength).Append('\n');
        }

        /// <summary>The double rule, the three parameter totals and the closing rule of a Keras table.</summary>
        internal static void KerasTotals(StringBuilder sb, int lineLength, long total, long nonTrainable)
        {
            sb.Append('=', lineLength).Append('\n');
            sb.Append("Total params: ").Append(total.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("Trainable params: ").Append((total - nonTrainable).ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("Non-trainable params: ").Append(nonTrainable.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
            sb.Append('_', lineLength).Append('\n');
        }

        // Keras' print_row: each column is cut to its width (less two spaces between columns), preferring
        // a break after "),", "},", "]," or "',"; what is left goes on the following lines.
        internal static void KerasRow(StringBuilder sb, string[] fields, int[] positions)
        {
            var left = (string[])fields.Clone();
            string[] breaks = { "),", "},", "],", "',", };
            while (Array.Exists(left, f => f.Length > 0))
            {
                var line = new StringBuilder();
                for (int col = 0; col < left.Length; col++)
                {
                    int start = col > 0 ? positions[col - 1] : 0;
                    int space = col != positions.Length - 1 ? 2 : 0;
                    int cutoff = positions[col] - start - space;
                    string fit = left[col].Length > cutoff ? left[col].Substring(0, cutoff) : left[col];
                    int best = -1;
                    foreach (string b in breaks)
                    {
                        int at = fit.IndexOf(b, StringComparison.Ordinal);
                        if (at >= 0 && (best < 0 || at + b.Length < best)) best = at + b.Length;
                    }
                    if (best >= 0)
                    {
                        cutoff = best;
                        fit = fit.Substring(0, cutoff);
                    }
                    if (col == 0) line.Append(' ');
                    line.Append(fit);
                    line.Append(' ', space);
                    left[col] = left[col].Length > cutoff ? left[col].Substring(cutoff) : "";
                    int pad = positions[col] - line.Length;
                    if (pad > 0) line.Append(' ', pad);
                }
                sb.Append(line.ToString()).Append('\n');
            }
        }
    }
}

using System;
using CnnGen.IO;

namespace CnnGen.IO
{
    /// <summary>How strictly <see cref="SafeTensors.LoadInto(string, ReadOnlySpan{TensorSlot}, Span{float}, WeightsLoadOptions)"/> checks a file's values.</summary>
    /// <remarks>The file's structure (keys, dtypes, shapes, layout) is always checked strictly; these options concern only the values.</remarks>
    public sealed class WeightsLoadOptions
    {
        /// <summary>The defaults: NaN and infinite values are rejected.</summary>
        public static WeightsLoadOptions Default { get; } = new();

        /// <summary>
        /// Accept NaN and infinite values (default false: a file holding one is rejected, naming the tensor and the element, since a
        /// model with such a weight computes NaN for every input). Set it to inspect a diverged run's weights.
        /// </summary>
        public bool AllowNonFinite { get; init; }
    }
}

namespace CnnGen
{
    /// <summary>Loading a model's weights with <see cref="WeightsLoadOptions"/>.</summary>
    public static class ModelWeightsExtensions
    {
        /// <summary>
        /// Loads the model's parameters (and batch-norm buffers, for models that have them) from a safetensors file, as the model's own
        /// <see cref="ICnnModel.LoadWeights(string)"/> does, with <paramref name="options"/>. All or nothing: on any error the model is unchanged.
        /// </summary>
        /// <param name="model">The model.</param>
        /// <param name="path">The safetensors file (PyTorch <c>state_dict</c> keys).</param>
        /// <param name="options">How strict to be about the values.</param>
        /// <exception cref="WeightsFormatException">The file is malformed or does not match the model.</exception>
        public static void LoadWeights(this ICnnModel model, string path, WeightsLoadOptions options)
        {
            ArgumentNullException.ThrowIfNull(model);
            ArgumentNullException.ThrowIfNull(options);
            TensorSlot[] parameters = model.ParameterSlots, buffers = model.BufferSlots;
            var slots = new TensorSlot[parameters.Length + buffers.Length];
            parameters.CopyTo(slots, 0);
            for (int i = 0; i < buffers.Length; i++)
                slots[parameters.Length + i] = buffers[i] with { Offset = model.ParameterCount + buffers[i].Offset };
            var state = new float[model.ParameterCount + model.Buffers.Length];
            SafeTensors.LoadInto(path, slots, state, options);
            state.AsSpan(0, model.ParameterCount).CopyTo(model.Parameters);
            state.AsSpan(model.ParameterCount).CopyTo(model.Buffers);
        }
    }
}

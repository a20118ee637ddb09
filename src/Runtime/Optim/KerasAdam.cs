namespace CnnGen.Optim
{
    /// <summary>
    /// Adam as Keras implements it (<c>keras.optimizers.Adam</c>, TensorFlow 2 and Keras 3), with Keras' defaults
    /// (lr 1e-3, β1 0.9, β2 0.999, <b>epsilon 1e-7</b>): <c>m = β1·m + (1-β1)·g</c>; <c>v = β2·v + (1-β2)·g²</c>;
    /// <c>α = lr·sqrt(1-β2^t)/(1-β1^t)</c>; <c>p = p - α·m/(sqrt(v) + eps)</c>. Keras adds epsilon to the
    /// <i>uncorrected</i> <c>sqrt(v)</c> (the "epsilon hat" of the Adam paper), PyTorch (<see cref="Adam"/>) to the
    /// bias-corrected one, so Keras' epsilon acts like PyTorch's <c>eps / sqrt(1-β2^t)</c>: about 30× larger at the first
    /// step, 1.6× after 1,000 steps. With AMSGrad, the maximum of the second moments replaces <c>v</c>, as in Keras.
    /// </summary>
    public sealed class KerasAdam : Adam
    {
        /// <summary>Creates the optimizer; the arguments mean what they mean in <c>keras.optimizers.Adam</c>.</summary>
        /// <param name="parameterCount">Length of the flat parameter array.</param>
        /// <param name="lr">Learning rate (Keras: <c>learning_rate</c>).</param>
        /// <param name="beta1">Decay of the first-moment average (<c>beta_1</c>).</param>
        /// <param name="beta2">Decay of the second-moment average (<c>beta_2</c>).</param>
        /// <param name="eps">Added to the uncorrected <c>sqrt(v)</c> (<c>epsilon</c>, Keras' default 1e-7).</param>
        /// <param name="amsgrad">Use the AMSGrad variant.</param>
        public KerasAdam(int parameterCount, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-7f, bool amsgrad = false)
            : base(parameterCount, lr, beta1, beta2, eps, 0f, amsgrad, decoupled: false, kerasEpsilon: true)
        {
        }

        /// <inheritdoc />
        public override string Kind => "KerasAdam";
    }
}

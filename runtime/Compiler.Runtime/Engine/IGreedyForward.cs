namespace Compiler.Runtime.Engine;

/// <summary>
/// A runner that can take each logits row's argmax where the logits are (on the GPU), so a greedy step without
/// log-probabilities copies one int per row to the host instead of [rows, vocab] floats and skips the host sampler.
/// </summary>
internal interface IGreedyForward
{
    /// <summary>Runs one batch like <see cref="IModelRunner.Forward"/> and writes the argmax token of each logits row.</summary>
    void ForwardGreedy(ForwardBatch batch, Span<int> tokens);
}

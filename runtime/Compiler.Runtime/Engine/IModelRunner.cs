namespace Compiler.Runtime.Engine;

/// <summary>
/// What the engine needs from a model backend (CUDA or CPU). The runner owns the KV tensors (Size + 1 token slots,
/// slot 0 = padding); the scheduler owns which slot means what and tells the runner through the ForwardBatch.
/// </summary>
internal interface IModelRunner
{
    int VocabSize { get; }
    /// <summary>Token ids that end generation unless ignore_eos (the model's eos/eot ids).</summary>
    IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>
    /// Runs one batch: writes K/V of every input token to its out_cache_loc slot, attends over each request's
    /// slots as listed in req_to_token[req_pool_indices[i], 0..seq_lens[i]), and writes the logits of the rows
    /// named by <see cref="ForwardBatch.LogitsTokenIndices"/> into <paramref name="logits"/> ([rows, VocabSize], row-major).
    /// </summary>
    void Forward(ForwardBatch batch, Span<float> logits);
}

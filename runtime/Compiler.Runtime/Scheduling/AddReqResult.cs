namespace Compiler.Runtime.Scheduling;

/// <summary>Outcome of offering a request to the <see cref="PrefillAdder"/> (SGLang's AddReqResult).</summary>
internal enum AddReqResult
{
    /// <summary>Added (or skipped) and there is budget left: keep going.</summary>
    Continue,
    /// <summary>Out of KV tokens: the batch is full.</summary>
    NoToken,
    /// <summary>Out of prefill / chunk budget: stop adding to this batch.</summary>
    Other,
}

namespace Compiler.Runtime.Scheduling;

/// <summary>
/// Consecutive scoring rows of one request in a batch (SGLang's extend_logprob_start_len .. extend_input_len of it):
/// logits rows [FirstRow, FirstRow + Count) are prompt positions [FirstPosition, FirstPosition + Count).
/// </summary>
internal readonly record struct InputLogprobSpan(Req Req, int FirstRow, int FirstPosition, int Count);

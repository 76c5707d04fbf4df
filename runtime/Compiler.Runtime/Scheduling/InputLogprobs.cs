namespace Compiler.Runtime.Scheduling;

/// <summary>
/// Prompt log-probabilities of one request (SGLang's input_token_logprobs / input_top_logprobs): one entry per prompt
/// position p in [StartLen, InputLen), entry i = p - StartLen. Entry 0 has no value (SGLang reports None: nothing
/// before it is scored); entry i &gt; 0 is log p(prompt[p] | prompt[..p]) from the logits row of position p - 1, and
/// its top alternatives from the same row. Raw distribution, as output logprobs (no penalties, no temperature).
/// <para>
/// Filled in position order by the engine, possibly over several chunked-prefill steps; the scheduler caps the prefix
/// match at <see cref="NextRowPosition"/> so every needed row is computed. Buffers are sized once per request. Once
/// <see cref="IsComplete"/> it is never written again, so the engine thread may hand it to other threads.
/// </para>
/// </summary>
internal sealed class InputLogprobs
{
    private readonly float[] _values;
    private readonly int[] _topIds;
    private readonly float[] _topValues;

    public InputLogprobs(int startLen, int inputLen, int topK)
    {
        if (startLen < 0 || startLen >= inputLen)
            throw new ArgumentOutOfRangeException(nameof(startLen), startLen, $"logprob_start_len must be in [0, {inputLen}) for a prompt of {inputLen} tokens.");
        StartLen = startLen;
        InputLen = inputLen;
        TopK = topK;
        Count = inputLen - startLen;
        _values = new float[Count];
        _topIds = new int[Count * topK];
        _topValues = new float[Count * topK];
    }

    /// <summary>First prompt position reported.</summary>
    public int StartLen { get; }
    public int InputLen { get; }
    /// <summary>Alternatives kept per entry.</summary>
    public int TopK { get; }
    /// <summary>Entries: InputLen - StartLen (the first without a value).</summary>
    public int Count { get; }
    /// <summary>Entries with a value so far (1..Filled).</summary>
    public int Filled { get; private set; }
    public bool IsComplete => Filled == Count - 1;
    /// <summary>The prompt position whose logits row is needed next (rows run from StartLen to InputLen - 2).</summary>
    public int NextRowPosition => StartLen + Filled;
    /// <summary>Logits rows still to compute.</summary>
    public int PendingRows => Count - 1 - Filled;

    /// <summary>Entry i's log-probability; null for entry 0.</summary>
    public float? Logprob(int i)
    {
        CheckFilled(i);
        return i == 0 ? null : _values[i];
    }

    /// <summary>Entry i's top alternatives, most likely first (empty for entry 0).</summary>
    public ReadOnlySpan<int> TopIds(int i)
    {
        CheckFilled(i);
        return i == 0 ? default : _topIds.AsSpan(i * TopK, TopK);
    }

    public ReadOnlySpan<float> TopLogprobs(int i)
    {
        CheckFilled(i);
        return i == 0 ? default : _topValues.AsSpan(i * TopK, TopK);
    }

    /// <summary>
    /// Engine: stores the next entry (the one scored by the row of <see cref="NextRowPosition"/>); returns the spans
    /// its top alternatives go to. Rows arrive strictly in order: a gap or a repeat is a scheduler bug.
    /// </summary>
    internal void Append(int rowPosition, float logprob, out Span<int> topIds, out Span<float> topValues)
    {
        if (rowPosition != NextRowPosition || IsComplete)
            throw new InvalidOperationException(
                $"InputLogprobs: got the row of prompt position {rowPosition} but the next one needed is {(IsComplete ? "none (complete)" : NextRowPosition.ToString())}; rows were skipped or computed twice.");
        int i = ++Filled;
        _values[i] = logprob;
        topIds = _topIds.AsSpan(i * TopK, TopK);
        topValues = _topValues.AsSpan(i * TopK, TopK);
    }

    private void CheckFilled(int i)
    {
        if ((uint)i > (uint)Filled) throw new ArgumentOutOfRangeException(nameof(i), i, $"Entry {i} is not computed yet ({Filled} of {Count - 1} are).");
    }
}

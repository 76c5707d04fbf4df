using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Compiler.Runtime.Text;

/// <summary>
/// Streaming detokenization (HF's <c>DecodeStream</c>, SGLang's read offsets) for byte-level BPE: ids come in
/// one at a time and text deltas come out. A character whose UTF-8 bytes span several tokens (emoji, CJK) is
/// held back until its last byte arrives, so a delta never ends in a broken sequence; invalid bytes become
/// U+FFFD as soon as they are known to be invalid, exactly where the full decode puts them. The deltas of
/// <see cref="Add(int)"/> followed by <see cref="Flush()"/> concatenate to <see cref="Tokenizer.Decode"/> of
/// the same ids. Not thread-safe: one per sequence.
/// </summary>
internal sealed class IncrementalDetokenizer
{
    private readonly ByteLevelDecoder _decoder;
    private readonly bool _skipSpecialTokens;
    private byte[] _bytes = new byte[64];  // held-back bytes (at most 3) followed by the new token's bytes
    private int _pending;
    private char[] _chars = new char[64];

    internal IncrementalDetokenizer(ByteLevelDecoder decoder, bool skipSpecialTokens)
    {
        _decoder = decoder;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>True while the bytes of an unfinished character are held back.</summary>
    public bool HasPendingBytes => _pending > 0;

    /// <summary>Feeds one id; returns the text it completes (often the token's text, possibly empty).</summary>
    public string Add(int id)
    {
        int n = Step(id);
        return n == 0 ? string.Empty : new string(_chars, 0, n);
    }

    /// <summary>Feeds one id and appends the text it completes to <paramref name="output"/>; returns the
    /// number of chars appended. Allocation-free once the internal buffers have grown to the longest token.</summary>
    public int Add(int id, StringBuilder output)
    {
        int n = Step(id);
        output.Append(_chars, 0, n);
        return n;
    }

    /// <summary>Ends the stream: returns what the held-back bytes decode to in the full decode (U+FFFD for an
    /// unfinished character) and clears them.</summary>
    public string Flush()
    {
        if (_pending == 0) return string.Empty;
        string tail = Encoding.UTF8.GetString(_bytes, 0, _pending);
        _pending = 0;
        return tail;
    }

    /// <summary>Forgets held-back bytes, to reuse this instance for another sequence.</summary>
    public void Reset() => _pending = 0;

    private int Step(int id)
    {
        var token = _decoder.GetBytes(id, _skipSpecialTokens);
        if (token.IsEmpty) return 0;
        int total = _pending + token.Length;
        if (total > _bytes.Length) Array.Resize(ref _bytes, Math.Max(total, _bytes.Length * 2));
        if (total > _chars.Length) _chars = new char[Math.Max(total, _chars.Length * 2)];
        token.CopyTo(_bytes.AsSpan(_pending));

        // isFinalBlock: false stops before an incomplete (but so far valid) sequence at the end and leaves it
        // unread; invalid sequences are still replaced with U+FFFD.
        var status = Utf8.ToUtf16(_bytes.AsSpan(0, total), _chars, out int read, out int written,
            replaceInvalidSequences: true, isFinalBlock: false);
        if (status is not (OperationStatus.Done or OperationStatus.NeedMoreData))
            throw new InvalidOperationException($"UTF-8 decoding of token {id} stopped with {status}.");
        _pending = total - read;
        _bytes.AsSpan(read, _pending).CopyTo(_bytes);
        return written;
    }
}

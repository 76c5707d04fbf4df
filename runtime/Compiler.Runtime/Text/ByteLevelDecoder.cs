using System.Buffers;
using System.Text;

namespace Compiler.Runtime.Text;

/// <summary>
/// HF's <c>ByteLevel</c> decoder, precomputed per id: each token's chars map back through the byte-level
/// alphabet to bytes (a token with a char outside the alphabet, e.g. an added token with a space, contributes
/// its UTF-8 bytes as is); the bytes of all tokens are concatenated and decoded as UTF-8 with U+FFFD for
/// invalid sequences (maximal subparts, as Rust's <c>from_utf8_lossy</c>). Ids without a token are dropped,
/// as HF does.
/// </summary>
internal sealed class ByteLevelDecoder
{
    private readonly byte[] _bytes;
    private readonly int[] _offsets;   // id -> _bytes[_offsets[id].._offsets[id + 1]]
    private readonly byte[] _flags;    // id -> Known | Special

    private const byte Known = 1, SpecialFlag = 2;

    public ByteLevelDecoder(BytePairModel model, IReadOnlyList<AddedToken> addedTokens)
    {
        int size = model.VocabSize;
        foreach (var t in addedTokens) size = Math.Max(size, t.Id + 1);
        var byId = new string?[size];
        _flags = new byte[size];
        for (int id = 0; id < model.VocabSize; id++)
        {
            byId[id] = model.IdToToken(id);
            if (byId[id] is not null) _flags[id] = Known;
        }
        foreach (var t in addedTokens)
        {
            byId[t.Id] = t.Content;
            _flags[t.Id] = (byte)(Known | (t.Special ? SpecialFlag : 0));
        }

        _offsets = new int[size + 1];
        var bytes = new ArrayBufferWriter<byte>(size * 6);
        for (int id = 0; id < size; id++)
        {
            _offsets[id] = bytes.WrittenCount;
            if (byId[id] is { } token) AppendTokenBytes(token, bytes);
        }
        _offsets[size] = bytes.WrittenCount;
        _bytes = bytes.WrittenSpan.ToArray();
    }

    /// <summary>Number of ids covered (model vocab and added tokens).</summary>
    public int Size => _flags.Length;

    public bool IsSpecial(int id) => (uint)id < (uint)_flags.Length && (_flags[id] & SpecialFlag) != 0;

    public bool IsKnown(int id) => (uint)id < (uint)_flags.Length && (_flags[id] & Known) != 0;

    /// <summary>The bytes <paramref name="id"/> decodes to; empty for unknown ids and, when
    /// <paramref name="skipSpecialTokens"/>, for special tokens.</summary>
    public ReadOnlySpan<byte> GetBytes(int id, bool skipSpecialTokens)
    {
        if ((uint)id >= (uint)_flags.Length) return default;
        if (skipSpecialTokens && (_flags[id] & SpecialFlag) != 0) return default;
        return _bytes.AsSpan(_offsets[id], _offsets[id + 1] - _offsets[id]);
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        int total = 0;
        foreach (int id in ids) total += GetBytes(id, skipSpecialTokens).Length;
        byte[]? rented = null;
        Span<byte> buffer = total <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(total));
        try
        {
            int n = 0;
            foreach (int id in ids)
            {
                var b = GetBytes(id, skipSpecialTokens);
                b.CopyTo(buffer[n..]);
                n += b.Length;
            }
            return Encoding.UTF8.GetString(buffer[..n]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void AppendTokenBytes(string token, ArrayBufferWriter<byte> output)
    {
        foreach (char c in token)
        {
            if (ByteLevelAlphabet.CharToByte(c) < 0)
            {
                int n = Encoding.UTF8.GetByteCount(token);
                Encoding.UTF8.GetBytes(token, output.GetSpan(n));
                output.Advance(n);
                return;
            }
        }
        var span = output.GetSpan(token.Length);
        for (int i = 0; i < token.Length; i++) span[i] = (byte)ByteLevelAlphabet.CharToByte(token[i]);
        output.Advance(token.Length);
    }
}

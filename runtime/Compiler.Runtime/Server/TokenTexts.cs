using System.Text;
using Compiler.Runtime.Text;

namespace Compiler.Runtime.Server;

/// <summary>Per-token text and bytes for logprobs output (a token may hold part of a UTF-8 character).</summary>
internal static class TokenTexts
{
    public static byte[] Bytes(Tokenizer tokenizer, int id)
    {
        string? token = tokenizer.IdToToken(id);
        if (token == null) return [];
        if (tokenizer.TokenToId(token) == id && IsAdded(tokenizer, id)) return Encoding.UTF8.GetBytes(token);
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            int b = ByteLevelAlphabet.CharToByte(token[i]);
            if (b < 0) return Encoding.UTF8.GetBytes(token); // not a byte-level token: its content is its text
            bytes[i] = (byte)b;
        }
        return bytes;
    }

    /// <summary>The token's text; bytes of an unfinished character show as U+FFFD, as OpenAI's "tokens" do.</summary>
    public static string Text(Tokenizer tokenizer, int id) => Encoding.UTF8.GetString(Bytes(tokenizer, id));

    public static int[] ByteValues(Tokenizer tokenizer, int id)
    {
        byte[] b = Bytes(tokenizer, id);
        var values = new int[b.Length];
        for (int i = 0; i < b.Length; i++) values[i] = b[i];
        return values;
    }

    private static bool IsAdded(Tokenizer tokenizer, int id)
    {
        foreach (var t in tokenizer.AddedTokens) if (t.Id == id) return true;
        return false;
    }

    /// <summary>JSON cannot hold -inf: a token the model rules out completely is reported at float's lowest value.</summary>
    public static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : logprob > 0 ? float.MaxValue : float.MinValue;
}

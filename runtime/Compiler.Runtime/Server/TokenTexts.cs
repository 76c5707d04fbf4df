using System.Text;
using Compiler.Runtime.Text;

namespace Compiler.Runtime.Server;

/// <summary>
/// Per-token text and bytes for logprobs output: the token's bytes as the decoder has them (a token may hold part of
/// a UTF-8 character), so a logprob entry reads exactly as the token decodes on its own (SGLang decodes each id).
/// </summary>
internal static class TokenTexts
{
    /// <summary>The token's text; bytes of an unfinished character show as U+FFFD, as OpenAI's "tokens" do.</summary>
    public static string Text(Tokenizer tokenizer, int id) => Encoding.UTF8.GetString(tokenizer.TokenBytes(id));

    public static int[] ByteValues(Tokenizer tokenizer, int id)
    {
        ReadOnlySpan<byte> b = tokenizer.TokenBytes(id);
        var values = new int[b.Length];
        for (int i = 0; i < b.Length; i++) values[i] = b[i];
        return values;
    }

    /// <summary>JSON cannot hold -inf: a token the model rules out completely is reported at float's lowest value.</summary>
    public static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : logprob > 0 ? float.MaxValue : float.MinValue;
}

namespace Compiler.Runtime.Text;

/// <summary>
/// An entry of tokenizer.json's <c>added_tokens</c>: matched in the text before pre-tokenization and emitted as
/// one id. <see cref="Special"/> tokens are dropped by <c>skipSpecialTokens</c>; <see cref="Normalized"/> ones are
/// matched on the normalized text; <see cref="LStrip"/>/<see cref="RStrip"/> swallow adjacent whitespace;
/// <see cref="SingleWord"/> ones match only between non-word characters.
/// </summary>
internal sealed record AddedToken(
    int Id, string Content, bool Special, bool LStrip, bool RStrip, bool Normalized, bool SingleWord);

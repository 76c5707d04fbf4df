namespace Compiler.Runtime.Text;

/// <summary>One piece of a text split by <see cref="AddedVocabulary"/>: [Start, End) is either the added
/// token <see cref="Token"/> (with any whitespace it strips) or, when Token is null, plain text.</summary>
internal readonly record struct AddedTokenMatch(int Start, int End, AddedToken? Token);

namespace Compiler.Runtime.Cache;

/// <summary>
/// Result of <see cref="IPrefixCache.MatchPrefix"/>: how many leading tokens are cached and the node the match ends at.
/// The KV indices are not copied out here (no allocation per match): <see cref="IPrefixCache.CopyPrefixIndices"/>
/// writes them straight into the request's ReqToTokenPool row once it has one.
/// </summary>
internal readonly record struct MatchResult(int PrefixLen, TreeNode LastNode);

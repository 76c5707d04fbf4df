using System.Runtime.CompilerServices;

namespace Compiler.Runtime.Text;

/// <summary>
/// Hashes a (left id &lt;&lt; 32 | right id) pair key. long.GetHashCode xors the halves, which sends every pair of
/// byte tokens (ids &lt; 256) into 256 buckets and made BPE merges of CJK text ~50x slower.
/// </summary>
internal sealed class PairKeyComparer : IEqualityComparer<long>
{
    public static PairKeyComparer Instance { get; } = new();

    public bool Equals(long x, long y) => x == y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetHashCode(long key) => (int)((ulong)key * 0x9E3779B97F4A7C15UL >> 32);
}

using System.Runtime.CompilerServices;

namespace Compiler.Runtime.Text;

/// <summary>
/// (left id, right id) -&gt; (rank, merged id) for BPE, as one open-addressing array of 16-byte slots: a probe
/// is usually one cache line, where Dictionary&lt;long, long&gt; costs a bucket and an entry access. Cold BPE
/// (text not yet in the pre-token cache) is bound by these lookups' cache misses.
/// </summary>
internal sealed class MergeTable
{
    private const long Empty = -1;
    private readonly long[] _slots; // [2k] = left << 32 | right, [2k + 1] = rank << 32 | merged id
    private readonly int _mask;

    public MergeTable(int capacity)
    {
        int size = 1;
        while (size < capacity * 2) size <<= 1; // load factor <= 0.5
        _mask = size - 1;
        _slots = new long[size * 2];
        for (int i = 0; i < _slots.Length; i += 2) _slots[i] = Empty;
    }

    /// <summary>Sets the entry for a pair, replacing an earlier one (a repeated merge keeps its last rank, as HF).</summary>
    public void Set(int left, int right, int rank, int merged)
    {
        long key = Key(left, right);
        int i = Slot(key);
        while (_slots[i] != Empty && _slots[i] != key) i = (i + 2) & (_mask * 2 + 1);
        _slots[i] = key;
        _slots[i + 1] = ((long)rank << 32) | (uint)merged;
    }

    /// <summary>Looks a pair up; <paramref name="rankAndMerged"/> is rank &lt;&lt; 32 | merged id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int left, int right, out long rankAndMerged)
    {
        long key = Key(left, right);
        var slots = _slots;
        int i = Slot(key);
        while (true)
        {
            long k = slots[i];
            if (k == key)
            {
                rankAndMerged = slots[i + 1];
                return true;
            }
            if (k == Empty)
            {
                rankAndMerged = 0;
                return false;
            }
            i = (i + 2) & (_mask * 2 + 1);
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private int Slot(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 32 & (uint)_mask) * 2;
}

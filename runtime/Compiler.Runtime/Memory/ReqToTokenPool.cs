namespace Compiler.Runtime.Memory;

/// <summary>
/// The request-to-token table (SGLang's ReqToTokenPool): row r holds, for the request occupying slot r, the KV
/// slot index of each of its tokens (position p -> <c>Table[r * MaxContextLen + p]</c>). Attention kernels read a
/// request's KV through this row, so it is the single source of truth for "which slots hold this sequence".
/// </summary>
internal sealed class ReqToTokenPool
{
    private readonly int[] _table;
    private readonly int[] _freeSlots;
    private readonly bool[] _inUse;
    private int _freeCount;

    public ReqToTokenPool(int size, int maxContextLen)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "ReqToTokenPool needs at least one request slot (max-running-requests must be > 0).");
        if (maxContextLen <= 0) throw new ArgumentOutOfRangeException(nameof(maxContextLen), maxContextLen, "ReqToTokenPool needs a positive max context length.");
        if ((long)size * maxContextLen > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(size), $"ReqToTokenPool of {size} x {maxContextLen} entries is too large for one array; lower max-running-requests or the context length.");
        Size = size;
        MaxContextLen = maxContextLen;
        _table = new int[size * maxContextLen];
        _freeSlots = new int[size];
        _inUse = new bool[size];
        // Hand out low slots first (stack top = 0) so small batches touch a compact part of the table.
        for (int i = 0; i < size; i++) _freeSlots[i] = size - 1 - i;
        _freeCount = size;
    }

    public int Size { get; }
    public int MaxContextLen { get; }
    public int AvailableSize => _freeCount;

    /// <summary>The whole table, row-major [Size, MaxContextLen]; backends upload or read it directly.</summary>
    public ReadOnlySpan<int> Table => _table;

    /// <summary>Allocates one request slot, or returns -1 when all are in use.</summary>
    public int Alloc()
    {
        if (_freeCount == 0) return -1;
        int slot = _freeSlots[--_freeCount];
        _inUse[slot] = true;
        return slot;
    }

    public void Free(int slot)
    {
        if ((uint)slot >= (uint)Size) throw new ArgumentOutOfRangeException(nameof(slot), slot, $"ReqToTokenPool.Free: slot must be in [0, {Size}).");
        if (!_inUse[slot]) throw new InvalidOperationException($"ReqToTokenPool.Free: request slot {slot} is not allocated (double free).");
        _inUse[slot] = false;
        _freeSlots[_freeCount++] = slot;
    }

    public bool IsInUse(int slot) => (uint)slot < (uint)Size && _inUse[slot];

    /// <summary>The full row of a request slot (MaxContextLen entries; only the first seq_len are meaningful).</summary>
    public Span<int> Row(int slot)
    {
        if (!IsInUse(slot)) throw new InvalidOperationException($"ReqToTokenPool.Row: request slot {slot} is not allocated.");
        return _table.AsSpan(slot * MaxContextLen, MaxContextLen);
    }

    public ReadOnlySpan<int> ReadRow(int slot, int length) => _table.AsSpan(slot * MaxContextLen, length);

    public void Write(int slot, int start, ReadOnlySpan<int> kvIndices)
    {
        if (start < 0 || start + kvIndices.Length > MaxContextLen)
            throw new ArgumentOutOfRangeException(nameof(start), $"ReqToTokenPool.Write: positions [{start}, {start + kvIndices.Length}) exceed the context length {MaxContextLen}.");
        kvIndices.CopyTo(Row(slot)[start..]);
    }

    /// <summary>Checks the free list and the in-use flags agree; throws with the first inconsistency found.</summary>
    public void CheckIntegrity()
    {
        var seen = new bool[Size];
        for (int i = 0; i < _freeCount; i++)
        {
            int s = _freeSlots[i];
            if ((uint)s >= (uint)Size) throw new InvalidOperationException($"ReqToTokenPool: free list holds out-of-range slot {s}.");
            if (seen[s]) throw new InvalidOperationException($"ReqToTokenPool: slot {s} is on the free list twice.");
            if (_inUse[s]) throw new InvalidOperationException($"ReqToTokenPool: slot {s} is both free and in use.");
            seen[s] = true;
        }
        int inUse = 0;
        for (int i = 0; i < Size; i++) if (_inUse[i]) inUse++;
        if (inUse + _freeCount != Size)
            throw new InvalidOperationException($"ReqToTokenPool: {inUse} in use + {_freeCount} free != size {Size} (a slot leaked).");
    }
}

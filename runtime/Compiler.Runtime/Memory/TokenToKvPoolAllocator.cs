namespace Compiler.Runtime.Memory;

/// <summary>
/// Token-granular KV slot allocator (SGLang's TokenToKVPoolAllocator with page size 1): slot i holds one token's
/// K and V in every layer. Only indices live here; the KV tensors live in the backend, sized Size + 1 because
/// slot 0 is reserved as the padding slot (dummy writes of padded tokens land there and it is never handed out).
/// </summary>
internal sealed class TokenToKvPoolAllocator
{
    private readonly int[] _free;
    private readonly bool[] _isFree;
    private int _freeCount;

    public TokenToKvPoolAllocator(int size)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "The KV pool needs at least one token slot (max-total-tokens must be > 0).");
        Size = size;
        _free = new int[size];
        _isFree = new bool[size + 1];
        Clear();
    }

    /// <summary>Usable slots, 1..Size. The backend's KV buffers need Size + 1 rows.</summary>
    public int Size { get; }
    public int AvailableSize => _freeCount;

    public void Clear()
    {
        // Stack with the lowest index on top: allocation order 1, 2, 3, ... after a reset (easy to read in logs).
        for (int i = 0; i < Size; i++) _free[i] = Size - i;
        Array.Fill(_isFree, true);
        _isFree[0] = false;
        _freeCount = Size;
    }

    /// <summary>Writes <paramref name="dst"/>.Length fresh slot indices into dst; false (and nothing taken) if not enough are free.</summary>
    public bool TryAlloc(Span<int> dst)
    {
        int n = dst.Length;
        if (n > _freeCount) return false;
        for (int i = 0; i < n; i++)
        {
            int s = _free[--_freeCount];
            _isFree[s] = false;
            dst[i] = s;
        }
        return true;
    }

    public void Free(ReadOnlySpan<int> indices)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            int s = indices[i];
            if (s <= 0 || s > Size)
                throw new InvalidOperationException($"TokenToKvPoolAllocator.Free: slot {s} is outside [1, {Size}] (slot 0 is the reserved padding slot).");
            if (_isFree[s])
                throw new InvalidOperationException($"TokenToKvPoolAllocator.Free: slot {s} is already free (double free; a cache and a request both thought they owned it).");
            _isFree[s] = true;
            _free[_freeCount++] = s;
        }
    }

    public bool IsFree(int slot) => slot > 0 && slot <= Size && _isFree[slot];

    public void CheckIntegrity()
    {
        if (_isFree[0]) throw new InvalidOperationException("TokenToKvPoolAllocator: padding slot 0 is marked free.");
        var seen = new bool[Size + 1];
        for (int i = 0; i < _freeCount; i++)
        {
            int s = _free[i];
            if (s <= 0 || s > Size) throw new InvalidOperationException($"TokenToKvPoolAllocator: free list holds invalid slot {s}.");
            if (seen[s]) throw new InvalidOperationException($"TokenToKvPoolAllocator: slot {s} is on the free list twice.");
            if (!_isFree[s]) throw new InvalidOperationException($"TokenToKvPoolAllocator: slot {s} is on the free list but flagged in use.");
            seen[s] = true;
        }
        int flagged = 0;
        for (int s = 1; s <= Size; s++) if (_isFree[s]) flagged++;
        if (flagged != _freeCount) throw new InvalidOperationException($"TokenToKvPoolAllocator: {flagged} slots flagged free but the free list has {_freeCount}.");
    }
}

namespace Compiler.Runtime.Cache;

/// <summary>Token counts held by a prefix cache: evictable (no running request locks them) and protected (locked).</summary>
internal readonly record struct SizeInfo(int EvictableSize, int ProtectedSize)
{
    public int Total => EvictableSize + ProtectedSize;
}

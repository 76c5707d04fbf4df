using Compiler.Runtime.Memory;

namespace Compiler.Runtime.Serving.Tests;

public sealed class MemoryPoolTests
{
    [Fact]
    public void Allocator_never_hands_out_padding_slot_and_reports_exhaustion()
    {
        var a = new TokenToKvPoolAllocator(8);
        var got = new int[8];
        Assert.True(a.TryAlloc(got));
        Assert.DoesNotContain(0, got);
        Assert.Equal(Enumerable.Range(1, 8), got.Order());
        Assert.Equal(0, a.AvailableSize);
        Assert.False(a.TryAlloc(new int[1]));
        a.CheckIntegrity();
    }

    [Fact]
    public void Allocator_failed_alloc_takes_nothing_and_free_returns_slots()
    {
        var a = new TokenToKvPoolAllocator(5);
        var three = new int[3];
        Assert.True(a.TryAlloc(three));
        Assert.False(a.TryAlloc(new int[3]));
        Assert.Equal(2, a.AvailableSize);
        a.Free(three);
        Assert.Equal(5, a.AvailableSize);
        a.CheckIntegrity();
    }

    [Fact]
    public void Allocator_rejects_double_free_and_padding_free()
    {
        var a = new TokenToKvPoolAllocator(4);
        var s = new int[2];
        a.TryAlloc(s);
        a.Free(s);
        var ex = Assert.Throws<InvalidOperationException>(() => a.Free(s));
        Assert.Contains("double free", ex.Message);
        Assert.Throws<InvalidOperationException>(() => a.Free([0]));
        Assert.Throws<InvalidOperationException>(() => a.Free([5]));
        a.CheckIntegrity();
    }

    [Fact]
    public void ReqToTokenPool_allocates_distinct_rows_and_detects_double_free()
    {
        var p = new ReqToTokenPool(3, 16);
        int a = p.Alloc(), b = p.Alloc(), c = p.Alloc();
        Assert.Equal(3, new[] { a, b, c }.Distinct().Count());
        Assert.Equal(-1, p.Alloc());
        p.Write(b, 2, [7, 8, 9]);
        Assert.Equal([7, 8, 9], p.ReadRow(b, 5)[2..].ToArray());
        Assert.Equal(0, p.ReadRow(a, 5)[2]); // rows do not overlap
        p.Free(b);
        Assert.Throws<InvalidOperationException>(() => p.Free(b));
        Assert.Throws<InvalidOperationException>(() => p.Row(b));
        Assert.Throws<ArgumentOutOfRangeException>(() => p.Write(a, 15, [1, 2]));
        Assert.Equal(1, p.AvailableSize);
        p.CheckIntegrity();
    }
}

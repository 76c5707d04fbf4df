using Compiler.Runtime.Engine;
using Compiler.Runtime.Memory;

namespace Gpu.Tests;

/// <summary>Fills a <see cref="ForwardBatch"/> as the scheduler would, for tests that drive a runner directly.</summary>
internal static class BatchStaging
{
    /// <summary>One whole prompt of request <paramref name="req"/> as an extend step, asking for its last position's logits.</summary>
    public static void Prompt(ForwardBatch batch, ReqToTokenPool pool, TokenToKvPoolAllocator allocator, int req, int[] prompt)
    {
        batch.Reset(ForwardMode.Extend, prompt.Length, 1);
        Assert.True(allocator.TryAlloc(batch.OutCacheLoc));
        for (var j = 0; j < prompt.Length; j++)
        {
            batch.InputIds[j] = prompt[j];
            batch.Positions[j] = j;
            pool.Row(req)[j] = batch.OutCacheLoc[j];
        }
        (batch.ReqPoolIndices[0], batch.ExtendPrefixLens[0], batch.ExtendSeqLens[0], batch.SeqLens[0]) = (req, 0, prompt.Length, prompt.Length);
        batch.AddLogitsRow(prompt.Length - 1);
    }

    /// <summary>Request <paramref name="req"/> as the radix cache would start it: the first <paramref name="prefixLen"/>
    /// tokens are request <paramref name="from"/>'s KV slots, then <paramref name="suffix"/> is one extend step after them.</summary>
    public static void SharedPrefixPrompt(ForwardBatch batch, ReqToTokenPool pool, TokenToKvPoolAllocator allocator, int req, int from, int prefixLen, int[] suffix)
    {
        pool.Row(from)[..prefixLen].CopyTo(pool.Row(req));
        batch.Reset(ForwardMode.Extend, suffix.Length, 1);
        Assert.True(allocator.TryAlloc(batch.OutCacheLoc));
        for (var j = 0; j < suffix.Length; j++)
        {
            batch.InputIds[j] = suffix[j];
            batch.Positions[j] = prefixLen + j;
            pool.Row(req)[prefixLen + j] = batch.OutCacheLoc[j];
        }
        (batch.ReqPoolIndices[0], batch.ExtendPrefixLens[0], batch.ExtendSeqLens[0], batch.SeqLens[0]) = (req, prefixLen, suffix.Length, prefixLen + suffix.Length);
        batch.AddLogitsRow(suffix.Length - 1);
    }

    /// <summary>Row <paramref name="row"/> of a decode step already reset and given its KV slots: request
    /// <paramref name="req"/>'s <paramref name="token"/> at <paramref name="position"/>, asking for its logits.</summary>
    public static void DecodeRow(ForwardBatch batch, ReqToTokenPool pool, int row, int req, int token, int position)
    {
        batch.InputIds[row] = token;
        batch.Positions[row] = position;
        pool.Row(req)[position] = batch.OutCacheLoc[row];
        (batch.ReqPoolIndices[row], batch.ExtendPrefixLens[row], batch.ExtendSeqLens[row], batch.SeqLens[row]) = (req, position, 1, position + 1);
        batch.AddLogitsRow(row);
    }
}

using Compiler.Runtime.Cuda;

namespace Compiler.Runtime.Engine.Cuda;

/// <summary>The launch of runtime_kernels.cu's argmax_rows (greedy sampling on the GPU): its AM_THREADS and
/// AM_BLOCK_ELEMENTS, and its per-row merge state (ArgmaxRowState), which must be zero before the first launch.</summary>
internal static class ArgmaxLaunch
{
    public const string KernelName = "argmax_rows";
    public const int Threads = 256;
    public const int BlockElements = 4096;
    public const int RowStateBytes = 16;

    /// <summary>The blocks of each row of <paramref name="vocab"/> logits, by <paramref name="rows"/>.</summary>
    public static Dim3 Grid(int vocab, int rows) => new((uint)((vocab + BlockElements - 1) / BlockElements), (uint)rows);

    /// <summary>Arguments: <paramref name="tokens"/> on the device; <paramref name="hostTokens"/> a pinned host buffer's
    /// <see cref="PinnedHostBuffer{T}.DevicePointer"/> the kernel also writes them to, or 0 for none.</summary>
    public static void AddArguments(ref KernelArgs args, ulong logits, int vocab, ulong tokens, ulong state, ulong hostTokens = 0) =>
        args.Add(logits).Add(vocab).Add(tokens).Add(state).Add(hostTokens);
}

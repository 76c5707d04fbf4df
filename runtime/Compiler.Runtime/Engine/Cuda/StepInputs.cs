using Compiler.Runtime.Cuda;
using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Engine.Cuda;

/// <summary>
/// The per-step integer inputs of a forward step in one device buffer at fixed offsets (so captured graphs can read
/// them), staged in pinned host memory and copied section by section, only the used part of each.
/// </summary>
internal sealed unsafe class StepInputs : IDisposable
{
    /// <summary>SharedPrefixLens (the prefix each decode request's cascade attention covers, 0 for none), PrefixChunks,
    /// PrefixTiles and PrefixWork: a decode step's cascade plan (<see cref="Kernels.SharedPrefixPlanner"/>).</summary>
    public enum Section { InputIds, Positions, OutCacheLoc, LogitsRows, ReqPoolIndices, SeqLens, PrefixLens, QoIndptr, SharedPrefixLens, PrefixChunks, PrefixTiles, PrefixWork }

    private readonly long[] _offsets;
    private readonly int[] _used;
    private readonly DeviceBuffer<int> _device;
    private readonly PinnedHostBuffer<int> _host;

    public StepInputs(int maxTokens, int maxRequests, int prefixTiles, int prefixWork)
    {
        int[] capacity = [maxTokens, maxTokens, maxTokens, Math.Max(maxTokens, maxRequests), maxRequests, maxRequests, maxRequests, maxRequests + 1,
            maxRequests, maxRequests, prefixTiles, prefixWork];
        _used = new int[capacity.Length];
        _offsets = new long[capacity.Length];
        long total = 0;
        for (var i = 0; i < capacity.Length; i++) { _offsets[i] = total; total += (capacity[i] + 63) / 64 * 64; }
        _device = DeviceBuffer<int>.Allocate(total);
        _host = PinnedHostBuffer<int>.Allocate(total);
    }

    public ulong Pointer(Section section) => _device.Pointer + (ulong)(_offsets[(int)section] * sizeof(int));

    /// <summary>The host staging span of a section; <paramref name="count"/> entries will be copied.</summary>
    public Span<int> Stage(Section section, int count)
    {
        _used[(int)section] = count;
        return new Span<int>(_host.Pointer + _offsets[(int)section], count);
    }

    public void Upload(CudaStream stream)
    {
        for (var s = 0; s < _used.Length; s++)
        {
            if (_used[s] == 0) continue;
            Cu.Check(CuDriver.cuMemcpyHtoDAsync(_device.Pointer + (ulong)(_offsets[s] * sizeof(int)), _host.Pointer + _offsets[s], (nuint)(_used[s] * sizeof(int)), stream.Handle),
                "cuMemcpyHtoDAsync", "uploading step inputs");
            _used[s] = 0;
        }
    }

    public void Dispose()
    {
        _device.Dispose();
        _host.Dispose();
    }
}

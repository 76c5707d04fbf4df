using Compiler.Runtime.Cuda;
using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Engine.Cuda;

/// <summary>
/// The per-step integer inputs of a forward step in one device buffer at fixed offsets (so captured graphs can read
/// them), staged in pinned host memory at the same offsets. Extend steps use one layout, sized for a step of the most
/// tokens and copied section by section, only the used part of each. Decode steps use another, where every section
/// holds one entry per request, and are not copied by the host: the step's first kernel (load_decode_inputs) reads
/// the staging itself, from the layout's start through its last section, since a copy call and the copy engine's
/// latency before the graph were ~10 us of a batch-1 step on the H100.
/// </summary>
internal sealed unsafe class StepInputs : IDisposable
{
    /// <summary>SharedPrefixLens (the prefix each decode request's cascade attention covers, 0 for none), PrefixChunks,
    /// PrefixTiles and PrefixWork: a decode step's cascade plan (<see cref="Kernels.SharedPrefixPlanner"/>).</summary>
    public enum Section { InputIds, Positions, OutCacheLoc, LogitsRows, ReqPoolIndices, SeqLens, PrefixLens, QoIndptr, SharedPrefixLens, PrefixChunks, PrefixTiles, PrefixWork }

    public enum Layout { Extend, Decode }

    private readonly long[][] _offsets; // per layout, per section, in ints from the buffer's start
    private readonly long _decodeStart;
    private readonly int[] _used;
    private readonly DeviceBuffer<int> _device;
    private readonly PinnedHostBuffer<int> _host;
    private Layout _layout;

    public StepInputs(int maxTokens, int maxRequests, int prefixTiles, int prefixWork)
    {
        int[] extend = [maxTokens, maxTokens, maxTokens, Math.Max(maxTokens, maxRequests), maxRequests, maxRequests, maxRequests, maxRequests + 1,
            0, 0, 0, 0];
        int[] decode = [maxRequests, maxRequests, maxRequests, maxRequests, maxRequests, maxRequests, 0, 0,
            maxRequests, maxRequests, prefixTiles, prefixWork];
        _used = new int[extend.Length];
        long total = 0;
        _offsets = [Place(extend, ref total), Place(decode, ref total)];
        _decodeStart = _offsets[(int)Layout.Decode][0];
        _device = DeviceBuffer<int>.Allocate(total);
        _host = PinnedHostBuffer<int>.Allocate(total);
    }

    private static long[] Place(int[] capacity, ref long total)
    {
        var offsets = new long[capacity.Length];
        for (var i = 0; i < capacity.Length; i++) { offsets[i] = total; total += (capacity[i] + 63) / 64 * 64; }
        return offsets;
    }

    /// <summary>Starts staging a step in <paramref name="layout"/>: Stage and Pointer(section) use it from now on.</summary>
    public void Begin(Layout layout)
    {
        if (_used.AsSpan().ContainsAnyExcept(0)) throw new InvalidOperationException("Staged inputs not uploaded yet.");
        _layout = layout;
    }

    /// <summary>The device address of a section in the layout of the step being staged.</summary>
    public ulong Pointer(Section section) => Pointer(section, _layout);

    public ulong Pointer(Section section, Layout layout) => _device.Pointer + (ulong)(_offsets[(int)layout][(int)section] * sizeof(int));

    /// <summary>The host staging span of a section, <paramref name="count"/> entries (an extend step copies those; a
    /// decode step's first kernel reads its whole span, see <see cref="DecodeSpan"/>).</summary>
    public Span<int> Stage(Section section, int count)
    {
        _used[(int)section] = count;
        return new Span<int>(_host.Pointer + _offsets[(int)_layout][(int)section], count);
    }

    /// <summary>The pinned staging's address of a section for kernels (load_decode_inputs reads it over PCIe).</summary>
    public ulong StagedPointer(Section section, Layout layout) => _host.DevicePointer + (ulong)(_offsets[(int)layout][(int)section] * sizeof(int));

    /// <summary>The offset of a decode section from the decode layout's start, in ints.</summary>
    public int DecodeOffset(Section section) => (int)(_offsets[(int)Layout.Decode][(int)section] - _decodeStart);

    /// <summary>The ints a decode step reads, from the layout's start through <paramref name="count"/> entries of
    /// <paramref name="last"/>, rounded up to whole int4s (sections are 64-int aligned, so that stays inside).</summary>
    public int DecodeSpan(Section last, int count) => (DecodeOffset(last) + count + 3) / 4 * 4;

    /// <summary>Ends a step's staging: extend inputs are copied now, only the sections staged; decode inputs are left
    /// for the step's first kernel to read, and must stay as they are until it has.</summary>
    public void Upload(CudaStream stream)
    {
        if (_layout == Layout.Extend)
        {
            var offsets = _offsets[(int)Layout.Extend];
            for (var s = 0; s < _used.Length; s++)
                if (_used[s] > 0) Copy(offsets[s], _used[s], stream);
        }
        Array.Clear(_used);
    }

    private void Copy(long offset, long count, CudaStream stream) =>
        Cu.Check(CuDriver.cuMemcpyHtoDAsync(_device.Pointer + (ulong)(offset * sizeof(int)), _host.Pointer + offset, (nuint)(count * sizeof(int)), stream.Handle),
            "cuMemcpyHtoDAsync", "uploading step inputs");

    public void Dispose()
    {
        _device.Dispose();
        _host.Dispose();
    }
}

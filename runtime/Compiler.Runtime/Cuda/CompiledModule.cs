namespace Compiler.Runtime.Cuda;

/// <summary>The result of <see cref="KernelCompiler.Compile"/>: the loaded module plus how it was obtained and how long it took.</summary>
internal sealed class CompiledModule : IDisposable
{
    public CompiledModule(CudaModule module, string target, bool isPtx, bool fromCache, TimeSpan compileTime, TimeSpan loadTime, string? cacheFile, string? compileLog)
    {
        Module = module;
        Target = target;
        IsPtx = isPtx;
        FromCache = fromCache;
        CompileTime = compileTime;
        LoadTime = loadTime;
        CacheFile = cacheFile;
        CompileLog = compileLog;
    }

    public CudaModule Module { get; }

    /// <summary>The NVRTC target, e.g. "sm_90" (CUBIN) or "compute_90" (PTX for the driver to JIT).</summary>
    public string Target { get; }

    public bool IsPtx { get; }

    /// <summary>True when the binary came from the disk cache and NVRTC did not run.</summary>
    public bool FromCache { get; }

    /// <summary>Time spent in NVRTC (zero on a cache hit).</summary>
    public TimeSpan CompileTime { get; }

    /// <summary>Time spent reading the cache file (on a hit) and in cuModuleLoadData.</summary>
    public TimeSpan LoadTime { get; }

    public TimeSpan TotalTime => CompileTime + LoadTime;

    /// <summary>The cache file read or written, or null when caching is off or the write failed.</summary>
    public string? CacheFile { get; }

    /// <summary>NVRTC's log of a successful compile (warnings), or null when empty or cached.</summary>
    public string? CompileLog { get; }

    public CudaKernel GetKernel(string name) => Module.GetKernel(name);

    public void Dispose() => Module.Dispose();
}

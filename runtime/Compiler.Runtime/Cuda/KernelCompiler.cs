using System.Diagnostics;
using System.Globalization;
using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>
/// Compiles CUDA C with NVRTC for the device's architecture, specialised by <c>-D</c> constants, and caches the
/// binaries on disk (see <see cref="KernelCache"/>): a cache hit skips NVRTC and only loads the module. Options:
/// <c>--gpu-architecture=sm_XY -default-device --std=c++17 [-I&lt;cuda include&gt;] -DNAME=VALUE... extra...</c>.
/// Kernels should be <c>extern "C" __global__</c> so they can be looked up by name.
/// </summary>
internal sealed unsafe class KernelCompiler
{
    private readonly CudaDevice device;
    private readonly Action<string>? log;
    private readonly int[] supportedArchitectures;

    /// <summary>Creates a compiler for <paramref name="device"/>; <paramref name="cacheDirectory"/> null means the default
    /// folder (<see cref="KernelCache.DefaultDirectory"/>), empty means no cache.</summary>
    public KernelCompiler(CudaDevice device, string? cacheDirectory = null, Action<string>? log = null)
    {
        this.device = device;
        this.log = log;
        CudaLibraries.Require(CudaLibrary.Nvrtc);
        int major, minor;
        Nvrtc.Check(Nvrtc.nvrtcVersion(&major, &minor), "nvrtcVersion");
        NvrtcVersion = (major, minor);
        supportedArchitectures = NvrtcProgram.SupportedArchitectures();
        CacheDirectory = cacheDirectory is null
            ? KernelCache.DefaultDirectory(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile))
            : cacheDirectory.Length == 0 ? null : cacheDirectory;
        IncludeDirectory = CudaIncludeLocator.FindForCurrentProcess();
        log?.Invoke(IncludeDirectory is null
            ? $"NVRTC {major}.{minor}: no CUDA include folder found (looked for {CudaIncludeLocator.ProbeHeader}); relying on NVRTC's built-in headers"
            : $"NVRTC {major}.{minor}: CUDA headers from {IncludeDirectory}");
    }

    public (int Major, int Minor) NvrtcVersion { get; }

    /// <summary>The folder passed as -I, or null when NVRTC's built-in headers are relied on.</summary>
    public string? IncludeDirectory { get; }

    /// <summary>The cache folder, or null when caching is off.</summary>
    public string? CacheDirectory { get; }

    /// <summary>
    /// Compiles (or loads from cache) <paramref name="source"/> as module <paramref name="name"/> with
    /// <paramref name="constants"/> as -D defines. Throws <see cref="CudaException"/> with NVRTC's log on a compile error.
    /// </summary>
    public CompiledModule Compile(string name, string source, IReadOnlyDictionary<string, KernelConstant>? constants = null, KernelCompileOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(source);
        options ??= KernelCompileOptions.Default;
        var deviceArchitecture = device.ComputeCapability.Major * 10 + device.ComputeCapability.Minor;
        var (target, isPtx) = ChooseTarget(deviceArchitecture, supportedArchitectures, options.ArchitectureSuffix);
        var nvrtcOptions = BuildOptions(target, IncludeDirectory, constants, options.ExtraOptions);

        string? cacheFile = null;
        var clock = Stopwatch.StartNew();
        if (options.UseCache && CacheDirectory is not null)
        {
            var key = KernelCacheKey.Compute(source, nvrtcOptions, target, NvrtcVersion, device.DriverVersion);
            cacheFile = KernelCache.FilePath(CacheDirectory, name, key, isPtx);
            var cached = KernelCache.TryRead(cacheFile);
            if (cached is not null)
            {
                try
                {
                    var module = CudaModule.Load(name, cached, isPtx);
                    var loadTime = clock.Elapsed;
                    log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"kernel '{name}' ({target}) loaded from cache in {loadTime.TotalMilliseconds:F2} ms: {cacheFile}"));
                    return new CompiledModule(module, target, isPtx, fromCache: true, TimeSpan.Zero, loadTime, cacheFile, compileLog: null);
                }
                catch (CudaException e)
                {
                    // A truncated or foreign file: drop it and compile afresh.
                    log?.Invoke($"kernel '{name}': discarding unusable cache file {cacheFile}: {e.Message}");
                    KernelCache.TryDelete(cacheFile);
                }
            }
        }

        clock.Restart();
        var (image, compileLog) = NvrtcProgram.Compile(name, source, nvrtcOptions, target, isPtx);
        var compileTime = clock.Elapsed;
        if (!string.IsNullOrWhiteSpace(compileLog))
        {
            log?.Invoke($"kernel '{name}' NVRTC log:{Environment.NewLine}{compileLog.TrimEnd()}");
        }

        if (cacheFile is not null && !KernelCache.TryWrite(cacheFile, image))
        {
            log?.Invoke($"kernel '{name}': could not write the cache file {cacheFile}; continuing without caching it");
            cacheFile = null;
        }

        clock.Restart();
        var loaded = CudaModule.Load(name, image, isPtx);
        var load = clock.Elapsed;
        log?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"kernel '{name}' compiled for {target} in {compileTime.TotalMilliseconds:F1} ms (NVRTC {NvrtcVersion.Major}.{NvrtcVersion.Minor}), loaded in {load.TotalMilliseconds:F2} ms"));
        return new CompiledModule(loaded, target, isPtx, fromCache: false, compileTime, load, cacheFile, string.IsNullOrWhiteSpace(compileLog) ? null : compileLog);
    }

    /// <summary>
    /// The NVRTC target for a device of compute capability <paramref name="deviceArchitecture"/> (e.g. 90): a CUBIN for
    /// sm_XY when this NVRTC supports it, otherwise PTX for the newest architecture it supports below the device,
    /// which the driver JIT-compiles forward.
    /// </summary>
    internal static (string Target, bool IsPtx) ChooseTarget(int deviceArchitecture, IReadOnlyList<int> supportedArchitectures, string suffix)
    {
        if (supportedArchitectures.Count == 0 || supportedArchitectures.Contains(deviceArchitecture))
        {
            return ($"sm_{deviceArchitecture}{suffix}", false);
        }

        var best = -1;
        foreach (var architecture in supportedArchitectures)
        {
            if (architecture <= deviceArchitecture && architecture > best)
            {
                best = architecture;
            }
        }

        if (best < 0)
        {
            throw new CudaException(
                $"This NVRTC supports architectures {string.Join(", ", supportedArchitectures.Select(a => "sm_" + a))}, none of which runs on a compute capability {deviceArchitecture / 10}.{deviceArchitecture % 10} GPU. Use an NVRTC from a CUDA toolkit that supports this GPU.");
        }

        return ($"compute_{best}", true);
    }

    /// <summary>The NVRTC option list, in a fixed order (constants sorted by name) so equal inputs give equal cache keys.</summary>
    internal static List<string> BuildOptions(string target, string? includeDirectory, IReadOnlyDictionary<string, KernelConstant>? constants, IReadOnlyList<string> extraOptions)
    {
        var options = new List<string> { $"--gpu-architecture={target}", "-default-device", "--std=c++17" };
        if (includeDirectory is not null)
        {
            options.Add($"-I{includeDirectory}");
        }

        if (constants is not null)
        {
            foreach (var name in constants.Keys.Order(StringComparer.Ordinal))
            {
                if (!IsIdentifier(name))
                {
                    throw new ArgumentException($"Kernel constant name '{name}' is not a C identifier (letters, digits, '_', not starting with a digit).", nameof(constants));
                }

                options.Add($"-D{name}={constants[name].ToSource()}");
            }
        }

        options.AddRange(extraOptions);
        return options;
    }

    private static bool IsIdentifier(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}

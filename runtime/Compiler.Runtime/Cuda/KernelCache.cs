namespace Compiler.Runtime.Cuda;

/// <summary>
/// Where compiled kernels live on disk: $COMPILER_KERNEL_CACHE if set ("off" disables the cache), else
/// $XDG_CACHE_HOME/compiler/kernels, else ~/.cache/compiler/kernels. Files are written to a temporary name and
/// renamed, so a reader never sees half a binary and concurrent writers of the same key are harmless.
/// </summary>
internal static class KernelCache
{
    public const string DirectoryVariable = "COMPILER_KERNEL_CACHE";

    /// <summary>The cache folder, or null when disabled.</summary>
    public static string? DefaultDirectory(Func<string, string?> environment, string homeDirectory)
    {
        var overridden = environment(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(overridden))
        {
            return overridden.Trim() is "off" or "0" or "none" ? null : overridden;
        }

        var xdg = environment("XDG_CACHE_HOME");
        var root = string.IsNullOrWhiteSpace(xdg) ? Path.Combine(homeDirectory, ".cache") : xdg;
        return Path.Combine(root, "compiler", "kernels");
    }

    /// <summary>The file of one kernel: the sanitised kernel name, then the key, then .cubin or .ptx.</summary>
    public static string FilePath(string directory, string kernelName, string key, bool isPtx)
    {
        Span<char> safe = stackalloc char[Math.Min(kernelName.Length, 64)];
        for (var i = 0; i < safe.Length; i++)
        {
            var c = kernelName[i];
            safe[i] = char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_';
        }

        return Path.Combine(directory, $"{safe}-{key[..32]}.{(isPtx ? "ptx" : "cubin")}");
    }

    public static byte[]? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Writes atomically; returns false (and the caller carries on uncached) if the folder is not writable.</summary>
    public static bool TryWrite(string path, ReadOnlySpan<byte> image)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(image);
            }

            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception inner) when (inner is IOException or UnauthorizedAccessException)
            {
            }

            return false;
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}

using Compiler.Runtime.Cuda;

namespace Execution.Tests.Cuda;

public sealed class KernelCacheTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void The_environment_variable_overrides_the_folder_or_turns_the_cache_off()
    {
        Assert.Equal("/tmp/k", KernelCache.DefaultDirectory(Env(("COMPILER_KERNEL_CACHE", "/tmp/k")), "/home/u"));
        Assert.Null(KernelCache.DefaultDirectory(Env(("COMPILER_KERNEL_CACHE", "off")), "/home/u"));
    }

    [Fact]
    public void Default_folder_follows_xdg_then_home()
    {
        Assert.Equal(Path.Combine("/xdg", "compiler", "kernels"), KernelCache.DefaultDirectory(Env(("XDG_CACHE_HOME", "/xdg")), "/home/u"));
        Assert.Equal(Path.Combine("/home/u", ".cache", "compiler", "kernels"), KernelCache.DefaultDirectory(Env(), "/home/u"));
    }

    [Fact]
    public void File_names_are_sanitised_and_carry_the_key_and_kind()
    {
        var key = new string('a', 64);
        Assert.Equal(Path.Combine("/c", $"rms_norm_4096_-{new string('a', 32)}.cubin"), KernelCache.FilePath("/c", "rms_norm<4096>", key, isPtx: false));
        Assert.EndsWith(".ptx", KernelCache.FilePath("/c", "k", key, isPtx: true));
        Assert.Equal("/c", Path.GetDirectoryName(KernelCache.FilePath("/c", "../../etc/passwd", key, false)));
    }

    [Fact]
    public void Writes_are_atomic_and_read_back()
    {
        var directory = Path.Combine(Path.GetTempPath(), "kernel-cache-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = KernelCache.FilePath(directory, "k", new string('b', 64), false);
            Assert.Null(KernelCache.TryRead(path));
            Assert.True(KernelCache.TryWrite(path, [1, 2, 3]));
            Assert.True(KernelCache.TryWrite(path, [4, 5]));
            Assert.Equal([4, 5], KernelCache.TryRead(path));
            Assert.Single(Directory.GetFiles(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

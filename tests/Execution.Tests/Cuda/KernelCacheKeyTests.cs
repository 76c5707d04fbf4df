using Compiler.Runtime.Cuda;

namespace Execution.Tests.Cuda;

public sealed class KernelCacheKeyTests
{
    private const string Source = "extern \"C\" __global__ void k(float* x) { x[0] = N; }";
    private static readonly string[] Options = ["--gpu-architecture=sm_90", "-default-device", "--std=c++17", "-DN=4"];

    private static string Key(string source = Source, IReadOnlyList<string>? options = null, string architecture = "sm_90", (int, int)? nvrtc = null, int driver = 13000) =>
        KernelCacheKey.Compute(source, options ?? Options, architecture, nvrtc ?? (13, 0), driver);

    [Fact]
    public void Same_inputs_give_the_same_64_hex_digit_key()
    {
        var key = Key();
        Assert.Equal(key, Key());
        Assert.Matches("^[0-9a-f]{64}$", key);
    }

    [Fact]
    public void Each_input_changes_the_key()
    {
        var keys = new[]
        {
            Key(),
            Key(source: Source + " "),
            Key(options: ["--gpu-architecture=sm_90", "-default-device", "--std=c++17", "-DN=5"]),
            Key(options: ["--gpu-architecture=sm_90", "-default-device", "--std=c++17"]),
            Key(architecture: "sm_90a"),
            Key(nvrtc: (13, 1)),
            Key(nvrtc: (12, 0)),
            Key(driver: 13010),
        };

        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void Options_are_length_prefixed_so_splitting_differently_changes_the_key()
    {
        // "-DA=1" + "-DB=2" and "-DA=1-DB" + "=2" concatenate to the same text but are different option lists.
        Assert.NotEqual(Key(options: ["-DA=1", "-DB=2"]), Key(options: ["-DA=1-DB", "=2"]));
    }
}

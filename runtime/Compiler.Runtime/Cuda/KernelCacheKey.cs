using System.Security.Cryptography;
using System.Text;

namespace Compiler.Runtime.Cuda;

/// <summary>
/// The disk-cache key of a compiled kernel: SHA-256 over everything that changes the binary or whether it loads
/// (source, NVRTC options, target architecture, NVRTC version, driver version), each length-prefixed so no two
/// different inputs can concatenate to the same bytes.
/// </summary>
internal static class KernelCacheKey
{
    /// <summary>Bumped when the cache's file layout or key recipe changes.</summary>
    public const int FormatVersion = 1;

    public static string Compute(string source, IReadOnlyList<string> options, string architecture, (int Major, int Minor) nvrtcVersion, int driverVersion)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, $"kernel-cache-v{FormatVersion}");
        Append(hash, source);
        Append(hash, options.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var option in options)
        {
            Append(hash, option);
        }

        Append(hash, architecture);
        Append(hash, $"nvrtc {nvrtcVersion.Major}.{nvrtcVersion.Minor}");
        Append(hash, $"driver {driverVersion}");
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void Append(IncrementalHash hash, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}

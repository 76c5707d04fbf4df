namespace Compiler.Runtime.Loading;

/// <summary>A checkpoint, config or index that cannot be used as it is: the message names the file, the tensor or
/// key where it applies, and what is wrong.</summary>
/// <remarks>Public because the generated model code (Compiler.Models) catches and rethrows it.</remarks>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the error; <paramref name="detail"/> says what is wrong and, where it helps, what to do.</summary>
    public CheckpointException(string? filePath, string? tensorName, string detail, Exception? inner = null)
        : base(Compose(filePath, tensorName, detail), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    /// <summary>The file at fault (a .safetensors shard, the index, config.json), or null.</summary>
    public string? FilePath { get; }

    /// <summary>The tensor (or config key) at fault, or null when the problem is the whole file.</summary>
    public string? TensorName { get; }

    private static string Compose(string? filePath, string? tensorName, string detail)
    {
        var where = (filePath, tensorName) switch
        {
            (not null, not null) => $"{filePath}: tensor '{tensorName}': ",
            (not null, null) => $"{filePath}: ",
            (null, not null) => $"tensor '{tensorName}': ",
            _ => "",
        };
        return where + detail;
    }
}

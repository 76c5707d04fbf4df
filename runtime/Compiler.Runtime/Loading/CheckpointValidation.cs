namespace Compiler.Runtime.Loading;

/// <summary>Outcome of <see cref="Checkpoint.Validate"/>: every problem found, not just the first.</summary>
public sealed class CheckpointValidation
{
    internal CheckpointValidation(IReadOnlyList<string> problems, IReadOnlyList<string> unusedTensors)
    {
        Problems = problems;
        UnusedTensors = unusedTensors;
    }

    /// <summary>One line per missing tensor, wrong shape or unsupported dtype.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>Tensors in the checkpoint that nothing expected (not an error: transformers also ignores them).</summary>
    public IReadOnlyList<string> UnusedTensors { get; }

    /// <summary>True when there are no problems.</summary>
    public bool IsValid => Problems.Count == 0;
}

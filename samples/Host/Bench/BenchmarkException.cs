namespace Compiler.Host.Bench;

/// <summary>A benchmark that cannot go on (bad arguments, server unreachable at warm-up); the CLI prints the message.</summary>
internal sealed class BenchmarkException(string message) : Exception(message);

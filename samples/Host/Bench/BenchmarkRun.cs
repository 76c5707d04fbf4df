namespace Compiler.Host.Bench;

/// <summary>The outputs of a run, in dataset order, and its wall time (first send to last response).</summary>
internal sealed record BenchmarkRun(RequestOutput[] Outputs, double DurationSeconds);

namespace Compiler.Host.Bench;

/// <summary>What a bench-serving run produced: the metrics, the raw outputs, and the JSON line it appended.</summary>
internal sealed record BenchResult(BenchmarkMetrics Metrics, BenchmarkRun Run, string JsonLine, string OutputFile);

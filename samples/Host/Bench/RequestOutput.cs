namespace Compiler.Host.Bench;

/// <summary>What one request measured (SGLang's RequestFuncOutput). Times are seconds; <see cref="StartTime"/> is
/// from the benchmark's origin.</summary>
internal sealed class RequestOutput
{
    public bool Success { get; set; }
    public string Error { get; set; } = "";
    public int PromptLen { get; init; }
    /// <summary>Tokens generated: usage / meta_info when the server reports them, else filled in after the run.</summary>
    public int OutputLen { get; set; }
    /// <summary>Whether <see cref="OutputLen"/> came from the server.</summary>
    public bool OutputLenReported { get; set; }
    public double StartTime { get; set; }
    public double Ttft { get; set; }
    /// <summary>End-to-end latency: request sent to last chunk received.</summary>
    public double Latency { get; set; }
    /// <summary>Gaps between chunks after the first (per token for the sglang backend, which reports counts).</summary>
    public List<double> Itl { get; } = [];
    public string GeneratedText { get; set; } = "";
}

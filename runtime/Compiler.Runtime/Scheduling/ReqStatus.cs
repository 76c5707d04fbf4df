namespace Compiler.Runtime.Scheduling;

internal enum ReqStatus
{
    Waiting,
    /// <summary>In a prefill batch or the running (decode) batch; holds a request slot and KV.</summary>
    Running,
    Finished,
}

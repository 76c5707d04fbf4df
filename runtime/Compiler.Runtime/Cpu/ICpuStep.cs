namespace Compiler.Runtime.Cpu;

/// <summary>One launch of a forward step, bound to its layer's weights, buffers and KV cache at load time.</summary>
internal interface ICpuStep
{
    void Run(CpuForwardState state);
}

namespace Compiler.Runtime.Cpu;

/// <summary>Work split into numbered items that <see cref="CpuWorkerPool"/> hands to its workers; <c>worker</c>
/// (0 .. Workers-1) selects per-worker scratch, since two items never run on one worker at the same time.</summary>
internal interface ICpuParallelWork
{
    void Execute(int item, int worker);
}

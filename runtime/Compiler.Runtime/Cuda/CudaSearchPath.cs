namespace Compiler.Runtime.Cuda;

/// <summary>
/// Where to look for toolkit libraries and headers: folders the user named ($CUDA_HOME, $CUDA_PATH), searched
/// before the system loader, and the usual install folders, searched after it.
/// </summary>
internal sealed record CudaSearchPath(IReadOnlyList<string> ExplicitDirectories, IReadOnlyList<string> InstallDirectories);

namespace Compiler.Runtime.Cuda.Native;

/// <summary>CUresult: the driver API's status. Only the values the runtime branches on are named.</summary>
internal enum CuResult
{
    Success = 0,
    ErrorInvalidValue = 1,
    ErrorOutOfMemory = 2,
    ErrorNotInitialized = 3,
    ErrorNoDevice = 100,
    ErrorInvalidDevice = 101,
    ErrorNotFound = 500,
    ErrorNotReady = 600,
}

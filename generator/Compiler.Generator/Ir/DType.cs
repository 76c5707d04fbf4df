namespace Compiler.Generator.Ir;

internal enum DType { Int32, BFloat16, Float32 }

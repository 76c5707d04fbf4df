namespace Compiler.Generator.Ir;

/// <summary>Which block of the model a node belongs to: the embedding prologue, the repeated layer, or the head epilogue.</summary>
internal enum Section { Prologue, Layer, Epilogue }

namespace Compiler.Host.Bench;

/// <summary>A request ready to send: its serialized body and the lengths it was built for.</summary>
internal sealed record PreparedRequest(byte[] Body, int PromptLen, int OutputLen);

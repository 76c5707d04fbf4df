using System.Collections.Generic;

namespace Compiler.Generator.Syntax;

// The parsed model file, before any meaning is given to names. Built by Parser, consumed by LowerPass.

internal sealed record ModelSyntax(string Name, SourceSpan NameSpan, IReadOnlyList<ConfigEntrySyntax> Config,
    IReadOnlyList<BlockSyntax> Blocks);

/// <summary><c>symbol = hf_key ?? default</c>: a model constant read from config.json.</summary>
internal sealed record ConfigEntrySyntax(string Symbol, SourceSpan SymbolSpan, ExprSyntax Value);

internal enum BlockKind { Embedding, Layer, Head }

/// <summary>A block of statements. A layer block has a tensor-name prefix with <c>{i}</c> and a repeat count symbol.</summary>
internal sealed record BlockSyntax(BlockKind Kind, SourceSpan Span, string Prefix, string? RepeatSymbol, SourceSpan RepeatSpan,
    IReadOnlyList<StatementSyntax> Statements);

internal sealed record StatementSyntax(string Target, SourceSpan TargetSpan, ExprSyntax Value);

internal abstract record ExprSyntax(SourceSpan Span);

internal sealed record NameSyntax(string Name, SourceSpan Span) : ExprSyntax(Span);

internal sealed record NumberSyntax(string Text, SourceSpan Span) : ExprSyntax(Span);

internal sealed record BinarySyntax(string Operator, ExprSyntax Left, ExprSyntax Right, SourceSpan Span) : ExprSyntax(Span);

internal sealed record CallSyntax(string Function, SourceSpan FunctionSpan, IReadOnlyList<ExprSyntax> Arguments, SourceSpan Span) : ExprSyntax(Span);

/// <summary>
/// A checkpoint tensor with its shape, e.g. <c>self_attn.q_proj.weight[heads * head_dim, hidden]</c>; optionally
/// <c>tied other.weight if flag</c>: when the config flag is set the checkpoint may omit it and the other tensor is used.
/// </summary>
internal sealed record WeightSyntax(string Name, IReadOnlyList<ExprSyntax> Shape, string? TiedTo, string? TiedIf, SourceSpan Span) : ExprSyntax(Span);

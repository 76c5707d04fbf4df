using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Compiler.Generator.Diagnostics;

/// <summary>Every diagnostic the model compiler reports, in one place. IDs start with MC (model compiler).</summary>
internal static class DiagnosticIds
{
    public const string Syntax = "MC0001";
    public const string UnknownOp = "MC0002";
    public const string UnknownConfigKey = "MC0003";
    public const string UndefinedName = "MC0004";
    public const string ShapeMismatch = "MC0005";
    public const string Cycle = "MC0006";
    public const string MissingLmHead = "MC0007";
    public const string WrongArguments = "MC0008";
    public const string BadStructure = "MC0009";
    public const string DuplicateModel = "MC0010";
    public const string InternalError = "MC9999";

    private static readonly Dictionary<string, DiagnosticDescriptor> Descriptors = new()
    {
        [Syntax] = Error(Syntax, "Model file syntax error"),
        [UnknownOp] = Error(UnknownOp, "Unknown operation"),
        [UnknownConfigKey] = Error(UnknownConfigKey, "Unknown config key"),
        [UndefinedName] = Error(UndefinedName, "Undefined name"),
        [ShapeMismatch] = Error(ShapeMismatch, "Shape mismatch"),
        [Cycle] = Error(Cycle, "Cyclic definition"),
        [MissingLmHead] = Error(MissingLmHead, "Missing LM head"),
        [WrongArguments] = Error(WrongArguments, "Wrong arguments"),
        [BadStructure] = Error(BadStructure, "Malformed model structure"),
        [DuplicateModel] = Error(DuplicateModel, "Duplicate architecture"),
        [InternalError] = Error(InternalError, "Model compiler internal error"),
    };

    public static DiagnosticDescriptor Descriptor(string id) => Descriptors[id];

    private static DiagnosticDescriptor Error(string id, string title) =>
        new(id, title, "{0}", "ModelCompiler", DiagnosticSeverity.Error, isEnabledByDefault: true);
}

namespace Compiler.Runtime.Plan;

/// <summary>A model's config.json as the generated code reads it: values by key, and the file for error messages.</summary>
public interface IModelConfig
{
    string Source { get; }
    bool TryGetNumber(string key, out double value);
    bool TryGetBool(string key, out bool value);
}

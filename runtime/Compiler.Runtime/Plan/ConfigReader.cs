using System.Globalization;

namespace Compiler.Runtime.Plan;

/// <summary>Typed reads of config.json keys for generated code; a missing or mistyped key names the key and the file.</summary>
public static class ConfigReader
{
    public static double Int(IModelConfig config, string key)
    {
        var value = Float(config, key);
        if (value != Math.Floor(value)) throw new ModelConfigException($"{config.Source}: '{key}' should be an integer, not {value.ToString(CultureInfo.InvariantCulture)}");
        return value;
    }

    public static double Float(IModelConfig config, string key) =>
        config.TryGetNumber(key, out var value) ? value : throw new ModelConfigException($"{config.Source}: missing number '{key}'");

    public static double Bool(IModelConfig config, string key) =>
        config.TryGetBool(key, out var value) ? (value ? 1 : 0) : throw new ModelConfigException($"{config.Source}: missing true/false '{key}'");

    public static double IntOr(IModelConfig config, string key, double fallback) => config.TryGetNumber(key, out _) ? Int(config, key) : fallback;

    public static double FloatOr(IModelConfig config, string key, double fallback) => config.TryGetNumber(key, out var v) ? v : fallback;

    public static double BoolOr(IModelConfig config, string key, bool fallback) => config.TryGetBool(key, out var v) ? (v ? 1 : 0) : (fallback ? 1 : 0);
}

public sealed class ModelConfigException(string message) : Exception(message);

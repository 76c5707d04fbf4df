using Compiler.Runtime.Loading;
using Compiler.Runtime.Plan;

namespace Compiler.Runtime.Cpu;

internal sealed partial class CpuModelRunner
{
    /// <summary>
    /// Loads a Hugging Face model directory (config.json, safetensors, optional generation_config.json) on the CPU,
    /// picking the plan by config.json's architectures[0] from <paramref name="plans"/> (Compiler.Models' ModelCatalog.All).
    /// Eos ids are the union of config.json's and generation_config.json's, as the serving engines use them.
    /// </summary>
    public static CpuModelRunner Load(string directory, IReadOnlyDictionary<string, ModelPlan> plans, int maxTotalTokens, int maxBatchTokens, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(plans);
        var config = HfConfig.Load(directory);
        if (config.Architectures.Count == 0)
            throw new CheckpointException(config.FilePath, null, $"has no 'architectures' list, so the model cannot be chosen; add e.g. \"architectures\": [\"{plans.Keys.FirstOrDefault() ?? "LlamaForCausalLM"}\"]");
        var architecture = config.Architectures[0];
        if (!plans.TryGetValue(architecture, out var plan))
            throw new NotSupportedException($"{config.FilePath}: architecture '{architecture}' has no compiled model; this build supports {string.Join(", ", plans.Keys.Order(StringComparer.Ordinal))}. Add a .model file for it to models/Compiler.Models.");
        var eos = EosTokens.Union(config.EosTokenIds, Path.GetDirectoryName(config.FilePath)!);
        using var checkpoint = Checkpoint.Open(directory);
        return new CpuModelRunner(plan, config, checkpoint, maxTotalTokens, maxBatchTokens, threads, eos);
    }
}

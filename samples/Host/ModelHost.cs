using System.CommandLine;
using System.Diagnostics;
using Compiler.Models;
using Compiler.Runtime.Cuda;
using Compiler.Runtime.Cpu;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Plan;

namespace Compiler.Host;

/// <summary>Opens a model for the CLI: a Hugging Face directory, or a config.json with --load-format dummy
/// (random weights of the real shapes, as SGLang's), on --device cuda, cpu or auto.</summary>
internal sealed class ModelHost : IDisposable
{
    private ModelHost(IModelRunner runner, int maxTotalTokens, ModelPlan plan, Checkpoint checkpoint)
    {
        Runner = runner;
        MaxTotalTokens = maxTotalTokens;
        Plan = plan;
        _checkpoint = checkpoint;
    }

    private readonly Checkpoint _checkpoint;

    public IModelRunner Runner { get; }
    /// <summary>KV pool size in tokens the runner was given (from --max-total-tokens or the GPU's free memory).</summary>
    public int MaxTotalTokens { get; }
    public ModelPlan Plan { get; }

    /// <summary>The --device option every model command takes: auto, the default, is cuda where the CUDA runner can run.</summary>
    public static Option<string> DeviceOption() =>
        new("--device") { DefaultValueFactory = _ => "auto", Description = "cuda, cpu or auto (cuda when a CUDA driver and a supported GPU are present)" };

    /// <summary>cuda or cpu for a --device value; auto picks cuda when a CUDA driver is present and its first GPU is one
    /// the CUDA runner supports.</summary>
    public static string ResolveDevice(string device)
    {
        switch (device)
        {
            case "cuda" or "cpu":
                return device;
            case "auto":
                if (!CudaDevice.IsAvailable) return "cpu";
                var (name, capability) = CudaDevice.Describe(0);
                return CudaModelRunner.UnsupportedDeviceReason(name, capability) is null ? "cuda" : "cpu";
            default:
                throw new ArgumentException($"--device {device}: expected cuda, cpu or auto");
        }
    }

    public static ModelHost Open(string modelPath, string loadFormat, string device, CudaRunnerOptions options) =>
        Open(HfConfig.Load(modelPath), loadFormat, device, options);

    /// <summary>Opens the model of an already loaded config.json; the weights are read from the folder beside it.</summary>
    public static ModelHost Open(HfConfig config, string loadFormat, string device, CudaRunnerOptions options)
    {
        var configPath = config.FilePath;
        var architecture = config.Architectures.FirstOrDefault() ?? throw new ModelConfigException($"{configPath}: no 'architectures' entry");
        if (!ModelCatalog.All.TryGetValue(architecture, out var plan))
            throw new ModelConfigException($"{configPath}: architecture '{architecture}' has no model file; compiled models: {string.Join(", ", ModelCatalog.All.Keys)}");
        var constants = ModelConstants.Read(plan, config);
        var checkpoint = loadFormat switch
        {
            "dummy" => Checkpoint.CreateDummy(ModelWeights.Expected(constants), TensorDType.BF16, seed: 0),
            "auto" or "safetensors" => Checkpoint.Open(Path.GetDirectoryName(configPath)!),
            _ => throw new ArgumentException($"--load-format {loadFormat}: expected auto, safetensors or dummy"),
        };
        switch (ResolveDevice(device))
        {
            case "cuda":
                var cuda = new CudaModelRunner(plan, config, checkpoint, options);
                return new ModelHost(cuda, cuda.MaxTotalTokens, plan, checkpoint);
            case "cpu":
                var cpu = new CpuModelRunner(plan, config, checkpoint, options.MaxTotalTokens > 0 ? options.MaxTotalTokens : 65536, Math.Max(options.MaxBatchTokens, options.MaxLogitsRows));
                return new ModelHost(cpu, cpu.MaxTotalTokens, plan, checkpoint);
            default:
                throw new UnreachableException();
        }
    }

    /// <summary>Greedy next tokens of the batch's logits rows: on the GPU when the runner can, else argmax on the host.</summary>
    public void ForwardGreedy(ForwardBatch batch, Span<int> tokens, float[] logitsScratch)
    {
        if (Runner is IGreedyForward greedy) { greedy.ForwardGreedy(batch, tokens); return; }
        Runner.Forward(batch, logitsScratch);
        for (var r = 0; r < batch.NumLogitsRows; r++)
            tokens[r] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logitsScratch.AsSpan(r * Runner.VocabSize, Runner.VocabSize));
    }

    public void Dispose()
    {
        (Runner as IDisposable)?.Dispose();
        _checkpoint.Dispose();
    }
}

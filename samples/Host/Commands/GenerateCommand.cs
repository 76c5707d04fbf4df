using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Numerics.Tensors;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Text;

namespace Compiler.Host.Commands;

/// <summary>
/// <c>generate</c>: one prompt through the model, printing the generated ids (and text, when the model directory has a
/// tokenizer) as JSON; with <c>--return-logprob</c> also the log-probability of every prompt token given the tokens
/// before it (teacher forcing) and of each generated token.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var modelPath = new Option<string>("--model-path") { Required = true };
        var loadFormat = new Option<string>("--load-format") { DefaultValueFactory = _ => "auto" };
        var device = ModelHost.DeviceOption();
        var prompt = new Option<string?>("--prompt") { Description = "text, encoded with the model's tokenizer" };
        var inputIds = new Option<string?>("--input-ids") { Description = "token ids as a JSON array" };
        var maxNewTokens = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 16 };
        var temperature = new Option<float>("--temperature") { DefaultValueFactory = _ => 0f };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var returnLogprob = new Option<bool>("--return-logprob");
        var command = new Command("generate", "Generate from one prompt (greedy by default) and print JSON")
            { modelPath, loadFormat, device, prompt, inputIds, maxNewTokens, temperature, seed, returnLogprob };
        command.SetAction(result =>
        {
            var path = result.GetValue(modelPath)!;
            Tokenizer? tokenizer = File.Exists(Path.Combine(path, "tokenizer.json")) ? Tokenizer.FromDirectory(path) : null;
            int[] ids;
            if (result.GetValue(inputIds) is { } json) ids = ParseIds(json);
            else if (result.GetValue(prompt) is { } text)
                ids = tokenizer?.Encode(text) ?? throw new ArgumentException($"--prompt needs a tokenizer.json in {path}; pass --input-ids instead");
            else throw new ArgumentException("Pass --prompt TEXT or --input-ids JSON");
            if (ids.Length == 0) throw new ArgumentException("The prompt is empty");
            var newTokens = result.GetValue(maxNewTokens);
            var logprobs = result.GetValue(returnLogprob);
            var options = new CudaRunnerOptions
            {
                MaxRunningRequests = 1, MaxBatchTokens = ids.Length, MaxContextLen = ids.Length + newTokens + 1,
                MaxTotalTokens = ids.Length + newTokens + 1, MaxLogitsRows = ids.Length, CudaGraphBatchSizes = [1], Log = Console.Error.WriteLine,
            };
            using var host = ModelHost.Open(path, result.GetValue(loadFormat)!, result.GetValue(device)!, options);
            if (TokenIds.FirstOutsideVocabulary(ids, host.Runner.VocabSize) is var bad and >= 0)
                throw new ArgumentException($"--input-ids: token id {ids[bad]} is outside the model's vocabulary (0..{host.Runner.VocabSize - 1})");
            var output = Run(host, ids, newTokens, result.GetValue(temperature), result.GetValue(seed), logprobs);
            if (tokenizer is not null) output["text"] = tokenizer.Decode(output["output_ids"]!.AsArray().Select(n => (int)n!).ToArray());
            Console.WriteLine(output.ToJsonString());
            return 0;
        });
        return command;
    }

    private static int[] ParseIds(string json)
    {
        try { return JsonSerializer.Deserialize<int[]>(json) ?? []; }
        catch (JsonException e) { throw new ArgumentException($"--input-ids: expected a JSON array of token ids like [1, 2, 3] ({e.Message})", e); }
    }

    private static JsonObject Run(ModelHost host, int[] ids, int maxNewTokens, float temperature, int seed, bool returnLogprob)
    {
        var vocab = host.Runner.VocabSize;
        var batch = new FixedBatch([ids], maxNewTokens);
        var sampler = new Sampler(vocab);
        var sampling = new SamplingParams { Temperature = temperature, Logprobs = true };
        sampling.Validate();
        var rng = new SamplingRng((ulong)seed);
        var generated = new List<int>();
        var generatedLogprobs = new JsonArray();
        var promptLogprobs = new JsonArray();
        var promptTop1 = new JsonArray();

        // With --return-logprob, logits of every prompt position (position i predicts token i + 1).
        batch.Prefill(everyPosition: returnLogprob);
        var rows = batch.Batch.NumLogitsRows;
        var logits = new float[rows * vocab];
        host.Runner.Forward(batch.Batch, logits);
        if (returnLogprob)
            for (var r = 0; r + 1 < ids.Length; r++)
            {
                var row = logits.AsSpan(r * vocab, vocab);
                promptLogprobs.Add(row[ids[r + 1]] - Sampler.LogSumExp(row));
                promptTop1.Add(TensorPrimitives.IndexOfMax((ReadOnlySpan<float>)row));
            }
        var last = logits.AsSpan((rows - 1) * vocab, vocab);
        for (var step = 0; step < maxNewTokens; step++)
        {
            var (next, logprob) = sampler.Sample(last, sampling, rng, penalties: null);
            generated.Add(next);
            generatedLogprobs.Add(logprob);
            if (host.Runner.EosTokenIds.Contains(next) || step == maxNewTokens - 1) break;
            batch.Decode([next]);
            last = logits.AsSpan(0, vocab);
            host.Runner.Forward(batch.Batch, last);
        }
        var output = new JsonObject
        {
            ["input_ids"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()),
            ["output_ids"] = new JsonArray(generated.Select(i => (JsonNode)i).ToArray()),
        };
        if (returnLogprob)
        {
            output["input_token_logprobs"] = promptLogprobs;
            output["input_top1_ids"] = promptTop1;
            output["output_token_logprobs"] = generatedLogprobs;
        }
        return output;
    }
}

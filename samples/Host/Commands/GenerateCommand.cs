using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Compiler.Runtime.Engine.Cuda;
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
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cuda" };
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
            if (result.GetValue(inputIds) is { } json) ids = JsonSerializer.Deserialize<int[]>(json) ?? [];
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
            var output = Run(host, ids, newTokens, result.GetValue(temperature), result.GetValue(seed), logprobs);
            if (tokenizer is not null) output["text"] = tokenizer.Decode(output["output_ids"]!.AsArray().Select(n => (int)n!).ToArray());
            Console.WriteLine(output.ToJsonString());
            return 0;
        });
        return command;
    }

    private static JsonObject Run(ModelHost host, int[] ids, int maxNewTokens, float temperature, int seed, bool returnLogprob)
    {
        var vocab = host.Runner.VocabSize;
        var batch = new FixedBatch([ids], maxNewTokens);
        var random = new Random(seed);
        var generated = new List<int>();
        var generatedLogprobs = new JsonArray();
        var promptLogprobs = new JsonArray();
        var promptTop1 = new JsonArray();

        // With --return-logprob, logits of every prompt position (position i predicts token i + 1).
        batch.Prefill(everyPosition: returnLogprob);
        var logits = new float[batch.Batch.NumLogitsRows * vocab];
        host.Runner.Forward(batch.Batch, logits);
        var row = new float[vocab];
        for (var r = 0; r < batch.Batch.NumLogitsRows; r++)
        {
            LogSoftmax(logits.AsSpan(r * vocab, vocab), row);
            if (returnLogprob && r + 1 < ids.Length)
            {
                promptLogprobs.Add(row[ids[r + 1]]);
                promptTop1.Add(System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row));
            }
        }
        var next = Choose(row, temperature, random);
        for (var step = 0; step < maxNewTokens; step++)
        {
            generated.Add(next);
            generatedLogprobs.Add(row[next]);
            if (host.Runner.EosTokenIds.Contains(next) || step == maxNewTokens - 1) break;
            batch.Decode([next]);
            host.Runner.Forward(batch.Batch, logits.AsSpan(0, vocab));
            LogSoftmax(logits.AsSpan(0, vocab), row);
            next = Choose(row, temperature, random);
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

    private static void LogSoftmax(ReadOnlySpan<float> logits, Span<float> result)
    {
        var max = System.Numerics.Tensors.TensorPrimitives.Max(logits);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        var logSum = max + (float)Math.Log(sum);
        for (var i = 0; i < logits.Length; i++) result[i] = logits[i] - logSum;
    }

    /// <summary>Greedy at temperature 0, else a draw from softmax(logprobs / temperature).</summary>
    private static int Choose(ReadOnlySpan<float> logprobs, float temperature, Random random)
    {
        if (temperature <= 0) return System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logprobs);
        var max = System.Numerics.Tensors.TensorPrimitives.Max(logprobs);
        double total = 0;
        foreach (var v in logprobs) total += Math.Exp((v - max) / temperature);
        var target = random.NextDouble() * total;
        for (var i = 0; i < logprobs.Length; i++)
            if ((target -= Math.Exp((logprobs[i] - max) / temperature)) <= 0) return i;
        return logprobs.Length - 1;
    }
}

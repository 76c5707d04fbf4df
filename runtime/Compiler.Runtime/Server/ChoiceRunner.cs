using Compiler.Runtime.Engine;
using Compiler.Runtime.Sampling;

namespace Compiler.Runtime.Server;

/// <summary>
/// Submits the n choices of one API call and drives them to the end: events are applied as they arrive, in
/// whatever order the choices produce them, and each text delta is handed to the caller (which streams it or not).
/// Whatever way the call ends -- done, client gone, error -- every choice still running in the engine is aborted.
/// </summary>
internal static class ChoiceRunner
{
    /// <summary>The streams of an n-choice call, one engine request each, named and seeded by <see cref="ParallelSampling"/>.</summary>
    public static List<ChoiceDecoder> Submit(OpenAIServer server, string rid, int[] inputIds, GenerationOptions options) =>
        Submit(server, rid, [inputIds], options);

    /// <summary>
    /// The streams of a call with several prompts, n choices each: choice j of prompt i has index i * n + j (OpenAI's
    /// order). Each prompt's choices are named and seeded as if it came alone, with "-{i}" after the call's id when
    /// there are several prompts.
    /// </summary>
    public static List<ChoiceDecoder> Submit(OpenAIServer server, string rid, IReadOnlyList<int[]> prompts, GenerationOptions options)
    {
        var p = options.Sampling;
        ulong seed = ParallelSampling.BaseSeed(p);
        var decoders = new List<ChoiceDecoder>(prompts.Count * p.N);
        for (int prompt = 0; prompt < prompts.Count; prompt++)
        {
            int[] inputIds = prompts[prompt];
            string promptRid = prompts.Count == 1 ? rid : $"{rid}-{prompt}";
            // Clip to what the context leaves (the scheduler clips again to the KV pool); min tokens cannot exceed it.
            int maxNew = Math.Min(p.MaxNewTokens, server.Host.MaxReqLen - inputIds.Length);
            for (int i = 0; i < p.N; i++)
            {
                var sampling = p with { N = 1, Seed = ParallelSampling.ChoiceSeed(seed, i), MaxNewTokens = maxNew, MinNewTokens = Math.Min(p.MinNewTokens, maxNew) };
                var stream = new RequestStream(ParallelSampling.ChoiceRid(promptRid, p.N, i), inputIds, sampling);
                decoders.Add(new ChoiceDecoder(prompt * p.N + i, prompt, stream, server.Host, server.Tokenizer, options));
            }
        }
        foreach (var d in decoders) server.Host.Submit(d.Request);
        return decoders;
    }

    /// <summary>Runs every choice to its finish, calling <paramref name="onDelta"/> after each applied event.</summary>
    public static async Task RunAsync(List<ChoiceDecoder> decoders, Func<ChoiceDecoder, string, Task>? onDelta, CancellationToken ct)
    {
        try
        {
            var active = new List<ChoiceDecoder>(decoders);
            while (active.Count > 0)
            {
                ct.ThrowIfCancellationRequested();
                bool progressed = false;
                for (int i = active.Count - 1; i >= 0; i--)
                {
                    var d = active[i];
                    while (!d.Done && d.Request.Events.TryRead(out var e))
                    {
                        string delta = d.Apply(e);
                        progressed = true;
                        if (onDelta != null) await onDelta(d, delta);
                    }
                    if (d.Done) active.RemoveAt(i);
                }
                if (progressed || active.Count == 0) continue;
                if (active.Count == 1)
                {
                    if (!await active[0].Request.Events.WaitToReadAsync(ct)) ThrowEnded(active[0]);
                }
                else
                {
                    var waits = new Task<bool>[active.Count];
                    for (int i = 0; i < active.Count; i++) waits[i] = active[i].Request.Events.WaitToReadAsync(ct).AsTask();
                    var first = await Task.WhenAny(waits);
                    if (!await first) ThrowEnded(active[Array.IndexOf(waits, first)]);
                }
            }
        }
        finally
        {
            foreach (var d in decoders) d.AbortIfRunning();
        }
    }

    private static void ThrowEnded(ChoiceDecoder d) =>
        throw new ApiException(500, $"Request {d.Request.Rid}: the engine closed its output stream without a finish.");

    /// <summary>Prompt tokens of the call: each prompt counted once, however many choices it has.</summary>
    public static int PromptTokens(List<ChoiceDecoder> decoders)
    {
        int n = 0, last = -1;
        foreach (var d in decoders) // a prompt's choices are adjacent
        {
            if (d.Prompt != last) n += d.Request.InputIds.Length;
            last = d.Prompt;
        }
        return n;
    }

    public static int CompletionTokens(List<ChoiceDecoder> decoders)
    {
        int n = 0;
        foreach (var d in decoders) n += d.OutputIds.Count;
        return n;
    }

    /// <summary>Prompt tokens found in the prefix cache: per prompt the most any of its choices found, summed.</summary>
    public static int CachedTokens(List<ChoiceDecoder> decoders)
    {
        var most = new Dictionary<int, int>();
        foreach (var d in decoders) most[d.Prompt] = Math.Max(most.GetValueOrDefault(d.Prompt), d.CachedTokens);
        return most.Values.Sum();
    }

    public static Protocol.UsageInfo Usage(List<ChoiceDecoder> decoders)
    {
        int prompt = PromptTokens(decoders), completion = CompletionTokens(decoders);
        return new Protocol.UsageInfo(prompt, completion, prompt + completion, new Protocol.PromptTokensDetails(CachedTokens(decoders)));
    }

    /// <summary>Token ids must name rows of the model's vocabulary.</summary>
    public static void CheckTokenIds(ReadOnlySpan<int> ids, int vocab, string param)
    {
        var i = TokenIds.FirstOutsideVocabulary(ids, vocab);
        if (i >= 0)
            throw ApiException.BadRequest($"Token id {ids[i]} at position {i} of '{param}' is outside the model's vocabulary [0, {vocab}).", param);
    }

    /// <summary>SGLang's context checks, with its messages.</summary>
    public static void CheckLength(OpenAIServer server, int promptTokens, int? requestedMaxTokens, string param)
    {
        var host = server.Host;
        if (promptTokens == 0) throw ApiException.BadRequest($"The prompt is empty: '{param}' must contain at least one token.", param);
        if (promptTokens >= host.MaxReqLen)
            throw ApiException.BadRequest(
                $"The input ({promptTokens} tokens) is longer than the model's context length ({host.ContextLength} tokens; at most {host.MaxReqLen - 1} prompt tokens fit). Shorten the prompt.",
                param, code: "context_length_exceeded");
        if (requestedMaxTokens is { } max && (long)promptTokens + max > host.ContextLength)
            throw ApiException.BadRequest(
                $"Requested token count exceeds the model's maximum context length of {host.ContextLength} tokens. You requested a total of " +
                $"{(long)promptTokens + max} tokens: {promptTokens} tokens from the input messages and {max} tokens for the completion. " +
                "Please reduce the number of tokens in the input messages or the completion to fit within the limit.",
                "max_tokens", code: "context_length_exceeded");
    }
}

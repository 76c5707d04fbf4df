using Compiler.Runtime.Loading;
using System.Text.Json;
using Compiler.Runtime.Sampling;
using static Compiler.Runtime.Server.JsonFields;

namespace Compiler.Runtime.Server;

/// <summary>Reads sampling fields of OpenAI requests and of SGLang's native sampling_params into <see cref="GenerationOptions"/>.</summary>
internal static class SamplingParser
{
    public enum Api { Completions, Chat }

    /// <summary>The OpenAI fields (vLLM/SGLang extensions included: top_k, min_p, repetition_penalty, stop_token_ids, ignore_eos, ...).</summary>
    public static GenerationOptions ParseOpenAI(JsonElement root, Api api, SamplingParams defaults)
    {
        int? maxTokens = Int(root, "max_tokens");
        string maxParam = "max_tokens";
        if (api == Api.Chat && Int(root, "max_completion_tokens") is { } mct) { maxTokens = mct; maxParam = "max_completion_tokens"; }
        int? requested = maxTokens;
        // OpenAI's completions default is 16; chat completions run until the context is full (SGLang: max_new_tokens=None).
        if (maxTokens == null && api == Api.Completions) maxTokens = 16;
        // Completions accept 0: with echo and logprobs that scores the prompt alone (lm-eval-harness loglikelihood).
        int minTokens = api == Api.Completions ? 0 : 1;
        if (maxTokens < minTokens) throw ApiException.BadRequest($"'{maxParam}' must be at least {minTokens}, got {maxTokens}.", maxParam);

        bool logprobs;
        int topLogprobs;
        if (api == Api.Completions)
        {
            int? lp = Int(root, "logprobs");
            if (lp is < 0 or > 20) throw ApiException.BadRequest($"'logprobs' must be between 0 and 20, got {lp}.", "logprobs");
            logprobs = lp != null;
            topLogprobs = lp ?? 0;
        }
        else
        {
            logprobs = Bool(root, "logprobs") ?? false;
            topLogprobs = Int(root, "top_logprobs") ?? 0;
            if (topLogprobs is < 0 or > 20) throw ApiException.BadRequest($"'top_logprobs' must be between 0 and 20, got {topLogprobs}.", "top_logprobs");
            if (topLogprobs > 0 && !logprobs) throw ApiException.BadRequest("'top_logprobs' needs 'logprobs' set to true.", "top_logprobs");
        }

        bool stream = Bool(root, "stream") ?? false;
        bool includeUsage = false;
        if (Get(root, "stream_options") is { } so)
        {
            if (so.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest($"'stream_options' must be an object, got {Describe(so)}.", "stream_options");
            if (!stream) throw ApiException.BadRequest("'stream_options' is only allowed when 'stream' is true.", "stream_options");
            includeUsage = Bool(so, "include_usage") ?? false;
        }

        bool echo = api == Api.Completions && (Bool(root, "echo") ?? false);
        // echo + logprobs reports the prompt tokens' logprobs too: score the whole prompt (SGLang: logprob_start_len 0).
        var sampling = Common(root, maxTokens ?? int.MaxValue, "seed", "min_tokens", defaults) with
        {
            Logprobs = logprobs, TopLogprobs = topLogprobs, LogprobStartLen = echo && logprobs ? 0 : -1,
        };
        Validate(sampling);
        return new GenerationOptions
        {
            Sampling = sampling, RequestedMaxTokens = requested, Stream = stream, IncludeUsage = includeUsage,
            SkipSpecialTokens = Bool(root, "skip_special_tokens") ?? true, NoStopTrim = Bool(root, "no_stop_trim") ?? false,
            Echo = echo,
        };
    }

    /// <summary>SGLang's native sampling_params object of /generate (max_new_tokens default 128).</summary>
    public static GenerationOptions ParseNative(JsonElement? samplingParams, SamplingParams defaults, bool stream, bool returnLogprob, int topLogprobsNum, int logprobStartLen = -1)
    {
        JsonElement sp = samplingParams ?? default;
        bool has = samplingParams is { ValueKind: JsonValueKind.Object };
        if (samplingParams is { } given && given.ValueKind != JsonValueKind.Object)
            throw ApiException.BadRequest($"'sampling_params' must be an object, got {Describe(given)}.", "sampling_params");
        int? maxNew = has ? Int(sp, "max_new_tokens") : null;
        if (maxNew is < 0) throw ApiException.BadRequest($"'max_new_tokens' must be >= 0, got {maxNew}.", "max_new_tokens");
        var sampling = has
            ? Common(sp, maxNew ?? 128, "sampling_seed", "min_new_tokens", defaults)
            : defaults with { MaxNewTokens = 128 };
        if (has && Long(sp, "seed") is { } seed) sampling = sampling with { Seed = unchecked((ulong)seed) };
        sampling = sampling with
        {
            Logprobs = returnLogprob, TopLogprobs = returnLogprob ? topLogprobsNum : 0, LogprobStartLen = returnLogprob ? logprobStartLen : -1,
        };
        Validate(sampling);
        return new GenerationOptions
        {
            Sampling = sampling, RequestedMaxTokens = maxNew, Stream = stream,
            SkipSpecialTokens = has ? Bool(sp, "skip_special_tokens") ?? true : true,
            NoStopTrim = has && (Bool(sp, "no_stop_trim") ?? false),
        };
    }

    private static SamplingParams Common(JsonElement o, int maxTokens, string seedName, string minTokensName, SamplingParams defaults)
    {
        double temperature = Number(o, "temperature") ?? defaults.Temperature;
        double topP = Number(o, "top_p") ?? defaults.TopP;
        return new SamplingParams
        {
            MaxNewTokens = maxTokens,
            MinNewTokens = Int(o, minTokensName) ?? 0,
            Temperature = (float)temperature,
            TopP = (float)topP,
            TopK = Int(o, "top_k") ?? defaults.TopK,
            MinP = (float)(Number(o, "min_p") ?? defaults.MinP),
            FrequencyPenalty = (float)(Number(o, "frequency_penalty") ?? 0),
            PresencePenalty = (float)(Number(o, "presence_penalty") ?? 0),
            RepetitionPenalty = (float)(Number(o, "repetition_penalty") ?? defaults.RepetitionPenalty),
            Stop = StringOrList(o, "stop"),
            StopTokenIds = IntList(o, "stop_token_ids"),
            IgnoreEos = Bool(o, "ignore_eos") ?? false,
            Seed = Long(o, seedName) is { } s ? unchecked((ulong)s) : null,
            N = Int(o, "n") ?? 1,
        };
    }

    /// <summary>
    /// SGLang's --sampling-defaults model: generation_config.json's temperature, top_p, top_k, min_p and
    /// repetition_penalty become the values of fields a request leaves out; absent ones keep the API's defaults.
    /// </summary>
    public static SamplingParams ModelDefaults(GenerationConfig? config)
    {
        var d = new SamplingParams();
        if (config == null) return d;
        return d with
        {
            Temperature = (float)(config.Temperature ?? d.Temperature),
            TopP = (float)(config.TopP ?? d.TopP),
            TopK = config.TopK ?? d.TopK,
            MinP = (float)(config.MinP ?? d.MinP),
            RepetitionPenalty = (float)(config.RepetitionPenalty ?? d.RepetitionPenalty),
        };
    }

    /// <summary>SamplingParams.Validate, as a 400 naming the field its message starts with.</summary>
    private static void Validate(SamplingParams p)
    {
        if (p.N > 128) throw ApiException.BadRequest($"'n' must be at most 128, got {p.N}.", "n");
        try { p.Validate(); }
        catch (ArgumentException e)
        {
            int space = e.Message.IndexOf(' ');
            string param = space > 0 ? e.Message[..space] : "sampling_params";
            throw ApiException.BadRequest(e.Message, param);
        }
    }
}

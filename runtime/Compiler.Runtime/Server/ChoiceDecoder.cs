using System.Text;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;
using Compiler.Runtime.Text;

namespace Compiler.Runtime.Server;

/// <summary>
/// The HTTP side of one choice: turns its <see cref="StreamEvent"/>s into text deltas -- incremental detokenization,
/// then stop strings (text that might start one is held back; a match ends the request in the engine as "stop" and
/// nothing from the stop string on is ever sent) -- and keeps what the final response needs.
/// </summary>
internal sealed class ChoiceDecoder
{
    private readonly EngineHost _host;
    private readonly IncrementalDetokenizer? _detokenizer;
    private readonly StopStringMatcher? _stops;
    private readonly bool _noStopTrim;

    public ChoiceDecoder(int index, int prompt, RequestStream request, EngineHost host, Tokenizer? tokenizer, GenerationOptions options)
    {
        Index = index;
        Prompt = prompt;
        Request = request;
        _host = host;
        _detokenizer = tokenizer?.CreateDetokenizer(options.SkipSpecialTokens);
        _stops = request.Sampling.Stop.Count > 0 ? new StopStringMatcher(request.Sampling.Stop) : null;
        _noStopTrim = options.NoStopTrim;
        if (request.Sampling.Logprobs) Logprobs = [];
        if (request.Sampling.TopLogprobs > 0) TopLogprobs = [];
    }

    /// <summary>The choice's index in the call's response (prompt * n + choice).</summary>
    public int Index { get; }
    /// <summary>Which of the call's prompts this choice continues (0 when it has one).</summary>
    public int Prompt { get; }
    public RequestStream Request { get; }
    public List<int> OutputIds { get; } = [];
    public List<float>? Logprobs { get; }
    public List<TokenLogprob[]?>? TopLogprobs { get; }
    public StringBuilder Text { get; } = new();
    public FinishReason? Finish { get; private set; }
    public int CachedTokens { get; private set; }
    /// <summary>The prompt's log-probabilities (with logprobs), from the first event on; null before or without.</summary>
    public InputLogprobs? InputLogprobs { get; private set; }
    public bool Done => Finish != null;
    /// <summary>The engine sent its final event: nothing to abort.</summary>
    public bool EngineFinished { get; private set; }

    /// <summary>Applies one event; returns the text it releases (possibly empty). Throws the request's failure.</summary>
    public string Apply(in StreamEvent e)
    {
        if (e.Error != null)
        {
            EngineFinished = true;
            Finish = e.Finish;
            throw new ApiException(e.ErrorStatus, e.Error);
        }
        if (Done) return string.Empty;
        CachedTokens = e.CachedTokens;
        InputLogprobs ??= e.InputLogprobs;
        string delta = string.Empty;
        if (e.HasToken)
        {
            OutputIds.Add(e.TokenId);
            Logprobs?.Add(e.Logprob);
            TopLogprobs?.Add(e.TopLogprobs);
            // A matched stop token's text is trimmed, as SGLang does unless no_stop_trim.
            bool trim = e.Finish is { Kind: FinishKind.Stop, MatchedTokenId: { } m } && m == e.TokenId && !_noStopTrim;
            if (!trim && _detokenizer != null) delta = _detokenizer.Add(e.TokenId);
        }
        if (e.Finish != null && _detokenizer != null) delta += _detokenizer.Flush();
        if (_stops != null)
        {
            delta = _stops.Push(delta);
            if (_stops.Stopped)
            {
                Finish = new FinishReason(FinishKind.Stop, MatchedStop: _stops.MatchedStop);
                EngineFinished = e.Finish != null;
                if (!EngineFinished) _host.FinishWithStopString(Request.Rid, _stops.MatchedStop!);
            }
            else if (e.Finish != null) delta += _stops.Flush();
        }
        if (e.Finish != null && Finish == null)
        {
            Finish = e.Finish;
            EngineFinished = true;
        }
        Text.Append(delta);
        return delta;
    }

    /// <summary>Ends the engine request if it is still running (client gone, error, or shutdown).</summary>
    public void AbortIfRunning()
    {
        if (!EngineFinished && !(Done && Finish!.MatchedStop != null)) _host.Abort(Request.Rid);
    }

    public static string? OpenAIFinishReason(FinishReason? f) => f?.Kind switch
    {
        FinishKind.Length => "length",
        FinishKind.Stop => "stop",
        FinishKind.Abort => "abort",
        _ => null,
    };

    public System.Text.Json.Nodes.JsonNode? MatchedStop() =>
        Finish?.MatchedStop is { } s ? System.Text.Json.Nodes.JsonValue.Create(s)
        : Finish?.MatchedTokenId is { } id ? System.Text.Json.Nodes.JsonValue.Create(id) : null;
}

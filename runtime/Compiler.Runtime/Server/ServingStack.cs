using Compiler.Runtime.Engine;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Scheduling;
using Compiler.Runtime.Text;
using Compiler.Runtime.Text.Templates;

namespace Compiler.Runtime.Server;

/// <summary>
/// Everything above the model runner, wired as <c>serve</c> runs it (and the tests start it): tokenizer and chat
/// template from the model directory when present, the engine with every eos id SGLang stops on, the engine thread
/// and the HTTP server. The runner stays the caller's (it owns device memory).
/// </summary>
internal sealed class ServingStack : IAsyncDisposable
{
    private ServingStack(EngineHost host, OpenAIServer server, Tokenizer? tokenizer)
    {
        Host = host;
        Server = server;
        Tokenizer = tokenizer;
    }

    public EngineHost Host { get; }
    public OpenAIServer Server { get; }
    public Tokenizer? Tokenizer { get; }

    /// <param name="modelDir">The model directory (tokenizer.json, tokenizer_config.json, generation_config.json, config.json); null for none.</param>
    public static ServingStack Create(IModelRunner runner, string? modelDir, SchedulerOptions scheduler, ServerOptions options, Action<string>? log = null)
    {
        log ??= _ => { };
        Tokenizer? tokenizer = null;
        ChatTemplate? template = null;
        string? noTokenizer = null, noTemplate = null;
        if (modelDir != null && File.Exists(Path.Combine(modelDir, "tokenizer.json")))
        {
            tokenizer = Tokenizer.FromDirectory(modelDir);
            try { template = ChatTemplate.Load(modelDir); }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
            {
                noTemplate = e.Message;
                log($"No chat template: {e.Message}; /v1/chat/completions is disabled.");
            }
        }
        else
        {
            noTokenizer = modelDir == null ? "no model directory was given" : $"{Path.GetFullPath(modelDir)} has no tokenizer.json";
            noTemplate = noTokenizer;
            log($"No tokenizer: {noTokenizer}; text endpoints answer 400, token-id prompts to /generate work.");
        }
        if (tokenizer != null && tokenizer.VocabSize > runner.VocabSize)
            log($"Warning: the tokenizer has {tokenizer.VocabSize} ids but the model only {runner.VocabSize}; prompts with the extra ids are refused.");

        var eos = EosTokens.Union(runner.EosTokenIds, modelDir, tokenizer?.EosTokenId);
        var engine = new InferenceEngine(runner, scheduler, log, eos);
        var host = new EngineHost(engine, new ServerMetrics(options.ServedModelName), log);
        var server = new OpenAIServer(host, tokenizer, template,
            options with { TokenizerMissingReason = noTokenizer, ChatTemplateMissingReason = noTemplate }, log);
        return new ServingStack(host, server, tokenizer);
    }

    public async ValueTask DisposeAsync()
    {
        try { await Server.StopAsync(); }
        catch (InvalidOperationException) { /* never started */ }
        await Server.DisposeAsync();
        Host.Dispose();
    }
}

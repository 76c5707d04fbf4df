using System.Text;
using System.Text.Json;

namespace Compiler.Host.Bench;

/// <summary>The JSON line SGLang appends to --output-file: the arguments that shape the run, then the results under
/// SGLang's key names (plus p90/p95 of every latency, and "failed"). Non-finite numbers are written as Python's
/// json.dumps writes them (Infinity, NaN), so SGLang's own tooling reads the file unchanged.</summary>
internal static class ResultJson
{
    public static string Line(BenchmarkMetrics m, BenchOptions options, double duration, JsonElement? serverInfo,
        double? acceptLength, IReadOnlyList<RequestOutput>? details)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            WriteStringOrNull(w, "tag", options.Tag);
            w.WriteString("backend", options.Backend);
            w.WriteString("dataset_name", options.DatasetName);
            Number(w, "request_rate", options.RequestRate);
            Int(w, "max_concurrency", options.MaxConcurrency);
            Int(w, "sharegpt_output_len", options.SharegptOutputLen);
            w.WriteNumber("random_input_len", options.RandomInputLen);
            w.WriteNumber("random_output_len", options.RandomOutputLen);
            w.WriteNumber("random_range_ratio", options.RandomRangeRatio);
            w.WritePropertyName("server_info");
            if (serverInfo is { } info) info.WriteTo(w);
            else w.WriteNullValue();

            Number(w, "duration", duration);
            w.WriteNumber("completed", m.Completed);
            w.WriteNumber("failed", m.Failed);
            w.WriteNumber("total_input_tokens", m.TotalInput);
            w.WriteNumber("total_input_text_tokens", m.TotalInput);
            w.WriteNumber("total_input_vision_tokens", 0);
            w.WriteNumber("total_output_tokens", m.TotalOutput);
            if (m.TotalOutputRetokenized is { } r) w.WriteNumber("total_output_tokens_retokenized", r);
            else w.WriteNull("total_output_tokens_retokenized");
            Number(w, "request_throughput", m.RequestThroughput);
            Number(w, "input_throughput", m.InputThroughput);
            Number(w, "output_throughput", m.OutputThroughput);
            Number(w, "total_throughput", m.TotalThroughput);
            Summary(w, "e2e_latency", m.E2e, withMax: false);
            Summary(w, "ttft", m.Ttft, withMax: false);
            Summary(w, "tpot", m.Tpot, withMax: false);
            Summary(w, "itl", m.Itl, withMax: true);
            Number(w, "concurrency", m.Concurrency);
            if (acceptLength is { } a) Number(w, "accept_length", a);
            else w.WriteNull("accept_length");
            Number(w, "max_output_tokens_per_s", m.MaxOutputTokensPerS);
            w.WriteNumber("max_concurrent_requests", m.MaxConcurrentRequests);

            if (details is not null) WriteDetails(w, details);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>SGLang's key names: mean_ttft_ms, median_ttft_ms, std_ttft_ms, p99_ttft_ms, ...</summary>
    private static void Summary(Utf8JsonWriter w, string name, LatencySummary s, bool withMax)
    {
        Number(w, $"mean_{name}_ms", s.Mean);
        Number(w, $"median_{name}_ms", s.Median);
        Number(w, $"std_{name}_ms", s.Std);
        Number(w, $"p90_{name}_ms", s.P90);
        Number(w, $"p95_{name}_ms", s.P95);
        Number(w, $"p99_{name}_ms", s.P99);
        if (withMax) Number(w, $"max_{name}_ms", s.Max);
    }

    /// <summary>--output-details: SGLang's per-request lists.</summary>
    private static void WriteDetails(Utf8JsonWriter w, IReadOnlyList<RequestOutput> outputs)
    {
        w.WriteStartArray("input_lens");
        foreach (var o in outputs) w.WriteNumberValue(o.PromptLen);
        w.WriteEndArray();
        w.WriteStartArray("output_lens");
        foreach (var o in outputs) w.WriteNumberValue(o.Success ? o.OutputLen : 0);
        w.WriteEndArray();
        w.WriteStartArray("ttfts");
        foreach (var o in outputs) w.WriteNumberValue(o.Ttft);
        w.WriteEndArray();
        w.WriteStartArray("itls");
        foreach (var o in outputs)
        {
            w.WriteStartArray();
            foreach (double itl in o.Itl) w.WriteNumberValue(itl);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartArray("generated_texts");
        foreach (var o in outputs) w.WriteStringValue(o.GeneratedText);
        w.WriteEndArray();
        w.WriteStartArray("errors");
        foreach (var o in outputs) w.WriteStringValue(o.Error);
        w.WriteEndArray();
    }

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
            return;
        }
        w.WritePropertyName(name);
        w.WriteRawValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity", skipInputValidation: true);
    }

    private static void Int(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Compiler.Runtime.Text;

namespace Compiler.Host.Commands;

/// <summary>
/// <c>tokenize</c> / <c>detokenize</c>: line-oriented JSON filters over stdin/stdout (one JSON string &lt;-&gt; one
/// JSON array of ids per line), for scripts and for diffing against HF; <c>bench-tokenizer</c>: encode speed.
/// </summary>
internal static class TokenizeCommands
{
    private static readonly JsonSerializerOptions JsonOut = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void AddTo(RootCommand root)
    {
        root.Subcommands.Add(Tokenize());
        root.Subcommands.Add(Detokenize());
        root.Subcommands.Add(Bench());
    }

    private static Option<DirectoryInfo> TokenizerOption() => new("--tokenizer")
    {
        Description = "Directory holding tokenizer.json (and tokenizer_config.json)",
        Required = true,
    };

    private static Command Tokenize()
    {
        var dir = TokenizerOption();
        var addSpecial = new Option<bool>("--add-special-tokens")
        {
            Description = "Add the post-processor's special tokens (e.g. Llama 3's BOS), as HF encode does by default",
            DefaultValueFactory = _ => true,
        };
        var command = new Command("tokenize", "Read one JSON string per line on stdin, write one JSON array of token ids per line")
        {
            dir, addSpecial,
        };
        command.SetAction(parse =>
        {
            var tokenizer = Tokenizer.FromDirectory(parse.GetValue(dir)!.FullName);
            bool add = parse.GetValue(addSpecial);
            var ids = new List<int>();
            var line = new StringBuilder();
            return Filter((text, output) =>
            {
                string value = JsonSerializer.Deserialize<string>(text)
                    ?? throw new JsonException("expected a JSON string, got null");
                ids.Clear();
                tokenizer.Encode(value, ids, add);
                line.Clear().Append('[');
                for (int i = 0; i < ids.Count; i++)
                {
                    if (i > 0) line.Append(',');
                    line.Append(ids[i]);
                }
                output.Write(line.Append(']').Append('\n'));
            }, "a JSON string");
        });
        return command;
    }

    private static Command Detokenize()
    {
        var dir = TokenizerOption();
        var skipSpecial = new Option<bool>("--skip-special-tokens")
        {
            Description = "Leave special tokens out of the text",
            DefaultValueFactory = _ => false,
        };
        var command = new Command("detokenize", "Read one JSON array of token ids per line on stdin, write one JSON string per line")
        {
            dir, skipSpecial,
        };
        command.SetAction(parse =>
        {
            var tokenizer = Tokenizer.FromDirectory(parse.GetValue(dir)!.FullName);
            bool skip = parse.GetValue(skipSpecial);
            return Filter((text, output) =>
            {
                int[] ids = JsonSerializer.Deserialize<int[]>(text) ?? throw new JsonException("expected a JSON array, got null");
                output.Write(JsonSerializer.Serialize(tokenizer.Decode(ids, skip), JsonOut));
                output.Write('\n');
            }, "a JSON array of integer ids");
        });
        return command;
    }

    /// <summary>Applies <paramref name="perLine"/> to each stdin line; a bad line stops with its number.</summary>
    private static int Filter(Action<string, TextWriter> perLine, string expected)
    {
        using var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        using var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
        int number = 0;
        while (input.ReadLine() is { } text)
        {
            number++;
            try
            {
                perLine(text, output);
            }
            catch (JsonException e)
            {
                output.Flush();
                Console.Error.WriteLine($"stdin line {number}: expected {expected} ({e.Message})");
                return 1;
            }
        }
        return 0;
    }

    private static Command Bench()
    {
        var dir = TokenizerOption();
        var megabytes = new Option<double>("--megabytes") { Description = "Size of the generated mixed text", DefaultValueFactory = _ => 4 };
        var file = new Option<FileInfo?>("--file") { Description = "Benchmark on this UTF-8 text file instead of generated text" };
        var command = new Command("bench-tokenizer", "Measure single-thread encode/decode speed on a few MB of mixed text")
        {
            dir, megabytes, file,
        };
        command.SetAction(parse =>
        {
            var watch = Stopwatch.StartNew();
            var tokenizer = Tokenizer.FromDirectory(parse.GetValue(dir)!.FullName);
            double loadMs = watch.Elapsed.TotalMilliseconds;
            string text = parse.GetValue(file) is { } f
                ? File.ReadAllText(f.FullName)
                : BenchText.Generate((int)(parse.GetValue(megabytes) * 1024 * 1024));
            var docs = BenchText.SplitIntoDocuments(text, 4096);
            double mb = Encoding.UTF8.GetByteCount(text) / (1024.0 * 1024.0);
            Console.WriteLine($"tokenizer: {parse.GetValue(dir)!.FullName} (loaded in {loadMs:F0} ms, vocab {tokenizer.VocabSize})");
            Console.WriteLine($"text: {mb:F2} MB UTF-8 in {docs.Count} documents");

            var ids = new List<int>(text.Length);
            for (int pass = 1; pass <= 3; pass++)
            {
                ids.Clear();
                watch.Restart();
                foreach (string doc in docs) tokenizer.Encode(doc, ids, addSpecialTokens: false);
                double s = watch.Elapsed.TotalSeconds;
                Console.WriteLine($"encode pass {pass}{(pass == 1 ? " (cold cache)" : "")}: {mb / s:F1} MB/s, {ids.Count / s / 1e6:F2} M tokens/s ({ids.Count} tokens, {s * 1000:F0} ms, {tokenizer.CachedPreTokens} pre-tokens cached)");
            }

            var all = ids.ToArray();
            watch.Restart();
            string decoded = tokenizer.Decode(all);
            double ds = watch.Elapsed.TotalSeconds;
            Console.WriteLine($"decode: {mb / ds:F1} MB/s ({ds * 1000:F0} ms)");

            watch.Restart();
            var detok = tokenizer.CreateDetokenizer();
            var sb = new StringBuilder(text.Length);
            foreach (int id in all) detok.Add(id, sb);
            sb.Append(detok.Flush());
            double ss = watch.Elapsed.TotalSeconds;
            Console.WriteLine($"incremental detokenize: {all.Length / ss / 1e6:F2} M tokens/s ({ss * 1000:F0} ms)");
            if (sb.ToString() != decoded)
            {
                Console.Error.WriteLine("incremental detokenization differs from the full decode");
                return 1;
            }
            return 0;
        });
        return command;
    }

    /// <summary>Deterministic mixed text for the benchmark: Zipf-distributed made-up English words, code, JSON,
    /// numbers, CJK, Cyrillic and emoji, so the pre-token cache sees realistic hits and misses.</summary>
    private static class BenchText
    {
        public static string Generate(int chars)
        {
            var random = new Random(20240601);
            string[] syllables = ["ka", "to", "ri", "en", "the", "an", "or", "is", "ing", "al", "de", "co", "mp", "str", "ver", "ly", "tion", "er", "ou", "at"];
            var words = new string[20_000];
            for (int i = 0; i < words.Length; i++)
            {
                var w = new StringBuilder();
                for (int k = random.Next(1, 5); k > 0; k--) w.Append(syllables[random.Next(syllables.Length)]);
                words[i] = w.ToString();
            }
            string Word() => words[(int)Math.Min(words.Length - 1, Math.Pow(words.Length, random.NextDouble()) - 1)]; // ~Zipf
            var sb = new StringBuilder(chars + 1024);
            while (sb.Length < chars)
            {
                int kind = random.Next(100);
                if (kind < 60)
                {
                    string first = Word();
                    sb.Append(char.ToUpperInvariant(first[0])).Append(first, 1, first.Length - 1);
                    for (int n = random.Next(5, 25); n > 0; n--) sb.Append(random.Next(12) == 0 ? ", " : " ").Append(Word());
                    sb.Append(random.Next(10) == 0 ? "?\n\n" : ". ");
                }
                else if (kind < 80)
                {
                    string name = Word(), arg = Word();
                    sb.Append($"def {name}_{Word()}({arg}, n={random.Next(1000)}):\n    if {arg} is None:\n        return []\n")
                      .Append($"    return [{arg}[i] * {random.Next(100)} for i in range(n)]  # {Word()} {Word()}\n\n")
                      .Append($"public int {char.ToUpperInvariant(name[0])}{name[1..]}(int {arg}) => {arg} + {random.Next(1 << 20)};\n");
                }
                else if (kind < 85)
                {
                    sb.Append($"{{\"id\": {random.Next()}, \"{Word()}\": \"{Word()} {Word()}\", \"score\": {random.NextDouble():F6}, \"tags\": [\"{Word()}\"]}}\n");
                }
                else if (kind < 93)
                {
                    for (int n = random.Next(10, 60); n > 0; n--)
                        sb.Append(random.Next(15) == 0 ? '\uff0c' : (char)(0x4E00 + (int)Math.Pow(3000, random.NextDouble())));
                    sb.Append('\u3002');
                }
                else if (kind < 97)
                {
                    string[] ru = ["\u043f\u0440\u0438\u0432\u0435\u0442", "\u043c\u0438\u0440", "\u0434\u0430\u043d\u043d\u044b\u0435", "\u043c\u043e\u0434\u0435\u043b\u044c"];
                    for (int n = random.Next(3, 12); n > 0; n--) sb.Append(ru[random.Next(ru.Length)]).Append(' ');
                }
                else
                {
                    string[] emoji = ["\U0001F600", "\U0001F44D\U0001F3FD", "\U0001F468\u200D\U0001F469\u200D\U0001F467", "\u2764\uFE0F", "\U0001F680"];
                    sb.Append(emoji[random.Next(emoji.Length)]).Append(' ');
                }
            }
            return sb.ToString();
        }

        /// <summary>Cuts the text into request-sized documents at spaces.</summary>
        public static List<string> SplitIntoDocuments(string text, int size)
        {
            var docs = new List<string>();
            for (int start = 0; start < text.Length;)
            {
                int end = Math.Min(text.Length, start + size);
                if (end < text.Length)
                {
                    int space = text.LastIndexOf(' ', end - 1, end - start);
                    if (space > start) end = space;
                }
                docs.Add(text[start..end]);
                start = end;
            }
            return docs;
        }
    }
}

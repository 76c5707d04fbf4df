using Compiler.Runtime.Sampling;

namespace Compiler.Runtime.Serving.Tests;

public sealed class StopStringMatcherTests
{
    private static (string Output, bool Stopped) Feed(StopStringMatcher m, params string[] deltas)
    {
        var sb = new System.Text.StringBuilder();
        foreach (string d in deltas) sb.Append(m.Push(d));
        if (!m.Stopped) sb.Append(m.Flush());
        return (sb.ToString(), m.Stopped);
    }

    [Fact]
    public void Stop_string_split_across_deltas_never_leaks()
    {
        var m = new StopStringMatcher(["</answer>"]);
        Assert.Equal("The result is 4", m.Push("The result is 4"));
        Assert.Equal(".", m.Push(".</"));     // "</" could start the stop string: held
        Assert.Equal("", m.Push("ans"));
        Assert.Equal("", m.Push("wer> trailing"));
        Assert.True(m.Stopped);
        Assert.Equal("</answer>", m.MatchedStop);
        Assert.Equal("", m.Push("more"));
    }

    [Fact]
    public void Held_text_is_released_once_it_cannot_start_a_stop_string()
    {
        var m = new StopStringMatcher(["STOP"]);
        Assert.Equal("a", m.Push("aST"));
        Assert.Equal("STx", m.Push("x"));
        Assert.False(m.Stopped);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Any_split_of_the_text_gives_the_same_output(int chunk)
    {
        const string text = "alpha <|end|>beta";
        var deltas = Enumerable.Range(0, (text.Length + chunk - 1) / chunk).Select(i => text.Substring(i * chunk, Math.Min(chunk, text.Length - i * chunk))).ToArray();
        var (outp, stopped) = Feed(new StopStringMatcher(["<|end|>", "zzz"]), deltas);
        Assert.True(stopped);
        Assert.Equal("alpha ", outp);
    }

    [Fact]
    public void Without_a_match_everything_is_flushed_at_the_end()
    {
        var (outp, stopped) = Feed(new StopStringMatcher(["\n\n"]), "line one\n", "line two\n");
        Assert.False(stopped);
        Assert.Equal("line one\nline two\n", outp);
    }

    [Fact]
    public void Earliest_of_several_stop_strings_wins_and_can_be_included()
    {
        var (outp, _) = Feed(new StopStringMatcher(["world", "lo w"]), "hel", "lo world");
        Assert.Equal("hel", outp);
        var (incl, _) = Feed(new StopStringMatcher(["STOP"], includeStopString: true), "abcST", "OPdef");
        Assert.Equal("abcSTOP", incl);
    }
}

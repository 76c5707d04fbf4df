using System.Text;

namespace Compiler.Runtime.Sampling;

/// <summary>
/// Applies stop strings to streamed text deltas. Text that could be the start of a stop string is held back until
/// the next delta shows it is not (then released) or completes it (then it and everything after is dropped), so a
/// stop string never leaks into the output even when the detokenizer splits it across tokens.
/// </summary>
internal sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private readonly bool _includeStopString;
    private readonly StringBuilder _held = new();

    public StopStringMatcher(IReadOnlyList<string> stops, bool includeStopString = false)
    {
        foreach (string s in stops)
            if (string.IsNullOrEmpty(s)) throw new ArgumentException("StopStringMatcher: stop strings must be non-empty.", nameof(stops));
        _stops = [.. stops];
        _includeStopString = includeStopString;
    }

    /// <summary>True once a stop string has been seen; later deltas are ignored.</summary>
    public bool Stopped { get; private set; }
    public string? MatchedStop { get; private set; }

    /// <summary>Feeds one delta; returns the text that can be sent to the client now (possibly empty).</summary>
    public string Push(string delta)
    {
        if (Stopped || delta.Length == 0) return string.Empty;
        if (_stops.Length == 0) return delta;
        _held.Append(delta);
        string buf = _held.ToString();

        int bestAt = -1;
        string? best = null;
        foreach (string s in _stops)
        {
            int at = buf.IndexOf(s, StringComparison.Ordinal);
            if (at >= 0 && (bestAt < 0 || at < bestAt || (at == bestAt && s.Length < best!.Length)))
            {
                bestAt = at;
                best = s;
            }
        }
        if (best != null)
        {
            Stopped = true;
            MatchedStop = best;
            _held.Clear();
            return buf[..(_includeStopString ? bestAt + best.Length : bestAt)];
        }

        int hold = LongestSuffixThatStartsAStop(buf);
        _held.Clear();
        _held.Append(buf, buf.Length - hold, hold);
        return buf[..^hold];
    }

    /// <summary>Generation ended without a stop string: release whatever was held back.</summary>
    public string Flush()
    {
        if (Stopped) return string.Empty;
        string rest = _held.ToString();
        _held.Clear();
        return rest;
    }

    private int LongestSuffixThatStartsAStop(string buf)
    {
        int best = 0;
        foreach (string s in _stops)
        {
            int max = Math.Min(s.Length - 1, buf.Length);
            for (int len = max; len > best; len--)
            {
                if (string.CompareOrdinal(buf, buf.Length - len, s, 0, len) == 0)
                {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}

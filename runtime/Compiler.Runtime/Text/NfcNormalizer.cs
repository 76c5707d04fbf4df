using System.Buffers;
using System.Text;

namespace Compiler.Runtime.Text;

/// <summary>
/// Unicode canonical composition (NFC), as the HF <c>NFC</c> normalizer applies it. Written here because
/// <see cref="string.Normalize()"/> is a no-op under InvariantGlobalization (set for this repo), and ICU is not
/// something a serving host should need. Tables: <see cref="UnicodeNormalizationData"/>.
/// </summary>
internal static class NfcNormalizer
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Tables Data = new();

    /// <summary>Returns <paramref name="text"/> itself when it is already NFC (the common case: one table
    /// probe per char), else its NFC form.</summary>
    public static string Normalize(string text) => NormalizeOrNull(text) ?? text;

    /// <summary>The NFC form of <paramref name="text"/>, or null when the text is already NFC.</summary>
    public static string? NormalizeOrNull(ReadOnlySpan<char> text)
    {
        int first = FirstUnstable(text);
        return first < 0 ? null : NormalizeFrom(text, first);
    }

    /// <summary>Index of the first char that may change under NFC, or -1.</summary>
    private static int FirstUnstable(ReadOnlySpan<char> text)
    {
        var bits = Data.BmpUnstable;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c < 0x300) continue;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                if (Data.IsUnstable(char.ConvertToUtf32(c, text[i + 1]))) return i;
                i++;
                continue;
            }
            if ((bits[c >> 6] & (1UL << (c & 63))) != 0) return i;
        }
        return -1;
    }

    private static string NormalizeFrom(ReadOnlySpan<char> text, int first)
    {
        // Back up to the last starter before the first unstable char: only from there can the output change.
        int start = first;
        while (start > 0)
        {
            start--;
            if (char.IsLowSurrogate(text[start]) && start > 0 && char.IsHighSurrogate(text[start - 1])) start--;
            int cp = char.IsHighSurrogate(text[start]) && start + 1 < text.Length && char.IsLowSurrogate(text[start + 1])
                ? char.ConvertToUtf32(text[start], text[start + 1])
                : text[start];
            if (CombiningClass(cp) == 0) break;
        }

        int[] buffer = ArrayPool<int>.Shared.Rent(Math.Max(16, (text.Length - start) * 4));
        try
        {
            int n = Decompose(text[start..], buffer);
            ReorderCanonically(buffer.AsSpan(0, n));
            n = Compose(buffer.AsSpan(0, n));
            var sb = new StringBuilder(text.Length);
            sb.Append(text[..start]);
            for (int i = 0; i < n; i++)
            {
                int cp = buffer[i];
                if (cp < 0x10000) sb.Append((char)cp);
                else sb.Append(char.ConvertFromUtf32(cp));
            }
            return sb.ToString();
        }
        finally
        {
            ArrayPool<int>.Shared.Return(buffer);
        }
    }

    private static int Decompose(ReadOnlySpan<char> text, int[] output)
    {
        int n = 0;
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                cp = char.ConvertToUtf32(text[i], text[++i]);
            int s = cp - SBase;
            if ((uint)s < SCount)
            {
                output[n++] = LBase + s / NCount;
                output[n++] = VBase + s % NCount / TCount;
                if (s % TCount != 0) output[n++] = TBase + s % TCount;
                continue;
            }
            var mapped = Data.Decomposition(cp);
            if (mapped.IsEmpty) output[n++] = cp;
            else foreach (int m in mapped) output[n++] = m;
        }
        return n;
    }

    /// <summary>Stable sort of each run of non-starters by combining class (insertion sort: runs are short).</summary>
    private static void ReorderCanonically(Span<int> cps)
    {
        for (int i = 1; i < cps.Length; i++)
        {
            int cc = CombiningClass(cps[i]);
            if (cc == 0) continue;
            int j = i;
            int cp = cps[i];
            while (j > 0)
            {
                int prev = CombiningClass(cps[j - 1]);
                if (prev <= cc) break;
                cps[j] = cps[j - 1];
                j--;
            }
            cps[j] = cp;
        }
    }

    /// <summary>Canonical composition in place (UAX #15 sample algorithm); returns the new length.</summary>
    private static int Compose(Span<int> cps)
    {
        if (cps.Length == 0) return 0;
        int starterPos = 0;
        int starter = cps[0];
        int lastClass = CombiningClass(starter);
        if (lastClass != 0) lastClass = 256; // a leading non-starter has no starter to compose with
        int w = 1;
        for (int r = 1; r < cps.Length; r++)
        {
            int cp = cps[r];
            int cc = CombiningClass(cp);
            int composite = ComposePair(starter, cp);
            if (composite >= 0 && (lastClass < cc || lastClass == 0))
            {
                cps[starterPos] = composite;
                starter = composite;
                continue;
            }
            if (cc == 0)
            {
                starterPos = w;
                starter = cp;
            }
            lastClass = cc;
            cps[w++] = cp;
        }
        return w;
    }

    private static int ComposePair(int first, int second)
    {
        int l = first - LBase, v = second - VBase;
        if ((uint)l < LCount && (uint)v < VCount) return SBase + (l * VCount + v) * TCount;
        int s = first - SBase, t = second - TBase;
        if ((uint)s < SCount && s % TCount == 0 && t > 0 && t < TCount) return first + t;
        return Data.Composition(first, second);
    }

    internal static int CombiningClass(int cp) => Data.CombiningClass(cp);

    private sealed class Tables
    {
        public readonly ulong[] BmpUnstable = new ulong[1024];
        private readonly int[] _unstable;
        private readonly int[] _ccc;
        private readonly Dictionary<int, int> _decompositionIndex;
        private readonly int[] _decompositionOffsets;
        private readonly int[] _decompositionValues;
        private readonly Dictionary<long, int> _compositions;

        public Tables()
        {
            _unstable = UnicodeNormalizationData.UnstableRanges.ToArray();
            for (int i = 0; i < _unstable.Length; i += 2)
                for (int cp = _unstable[i]; cp <= Math.Min(_unstable[i + 1], 0xFFFF); cp++)
                    BmpUnstable[cp >> 6] |= 1UL << (cp & 63);
            _ccc = UnicodeNormalizationData.CombiningClassRanges.ToArray();
            var keys = UnicodeNormalizationData.DecompositionKeys;
            _decompositionIndex = new Dictionary<int, int>(keys.Length);
            for (int i = 0; i < keys.Length; i++) _decompositionIndex[keys[i]] = i;
            _decompositionOffsets = UnicodeNormalizationData.DecompositionOffsets.ToArray();
            _decompositionValues = UnicodeNormalizationData.DecompositionValues.ToArray();
            var comp = UnicodeNormalizationData.Compositions;
            _compositions = new Dictionary<long, int>(comp.Length / 3);
            for (int i = 0; i < comp.Length; i += 3) _compositions[Key(comp[i], comp[i + 1])] = comp[i + 2];
        }

        private static long Key(int a, int b) => ((long)a << 21) | (uint)b;

        public bool IsUnstable(int cp) => FindRange(_unstable, 2, cp) >= 0;

        public int CombiningClass(int cp)
        {
            if (cp < 0x300) return 0;
            int i = FindRange(_ccc, 3, cp);
            return i < 0 ? 0 : _ccc[i + 2];
        }

        public ReadOnlySpan<int> Decomposition(int cp)
        {
            if (cp < 0xC0 || !_decompositionIndex.TryGetValue(cp, out int i)) return default;
            int from = _decompositionOffsets[i];
            return _decompositionValues.AsSpan(from, _decompositionOffsets[i + 1] - from);
        }

        public int Composition(int first, int second) =>
            _compositions.TryGetValue(Key(first, second), out int c) ? c : -1;

        /// <summary>Binary search over sorted (first, last, ...) records of <paramref name="stride"/> ints;
        /// returns the record's index or -1.</summary>
        private static int FindRange(int[] table, int stride, int cp)
        {
            int lo = 0, hi = table.Length / stride - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                int at = mid * stride;
                if (cp < table[at]) hi = mid - 1;
                else if (cp > table[at + 1]) lo = mid + 1;
                else return at;
            }
            return -1;
        }
    }
}

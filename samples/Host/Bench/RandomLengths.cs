namespace Compiler.Host.Bench;

/// <summary>SGLang's compute_random_lens: lengths uniform over [max(floor(len * ratio), 1), len].</summary>
internal static class RandomLengths
{
    public static int[] Sample(int fullLen, double rangeRatio, int count, Random random)
    {
        if (rangeRatio is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(rangeRatio), rangeRatio, "a range ratio is between 0 and 1");
        var lens = new int[count];
        if (fullLen <= 0) return lens;
        int low = Math.Max((int)(fullLen * rangeRatio), 1);
        for (int i = 0; i < count; i++) lens[i] = random.Next(low, fullLen + 1);
        return lens;
    }
}

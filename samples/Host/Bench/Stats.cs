namespace Compiler.Host.Bench;

/// <summary>numpy's mean / median / std (population) / percentile (linear interpolation between closest ranks) /
/// max, over values sorted once.</summary>
internal sealed class Stats
{
    private readonly double[] _sorted;

    /// <summary>SGLang writes np.mean(xs or 0): an empty sample summarizes as all zeros.</summary>
    public Stats(IEnumerable<double> values)
    {
        _sorted = values.ToArray();
        Array.Sort(_sorted);
        if (_sorted.Length == 0) _sorted = [0.0];
    }

    public double Mean => _sorted.Average();

    public double Median => Percentile(50);

    public double Max => _sorted[^1];

    public double Std
    {
        get
        {
            double mean = Mean, sum = 0;
            foreach (double v in _sorted) sum += (v - mean) * (v - mean);
            return Math.Sqrt(sum / _sorted.Length);
        }
    }

    public double Percentile(double p)
    {
        if (p is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(p), p, "a percentile is between 0 and 100");
        double rank = p / 100 * (_sorted.Length - 1);
        int low = (int)Math.Floor(rank), high = (int)Math.Ceiling(rank);
        return _sorted[low] + (_sorted[high] - _sorted[low]) * (rank - low);
    }
}

using System.Globalization;
using System.Text;

namespace Compiler.Runtime.Server;

/// <summary>
/// A Prometheus histogram with fixed buckets. One writer (the engine thread) observes; any thread may render.
/// Observing allocates nothing and takes no lock: counts are per bucket and made cumulative when rendered.
/// </summary>
internal sealed class PrometheusHistogram
{
    private readonly double[] _bounds;
    private readonly long[] _counts; // per bucket, the last one is +Inf
    private double _sum;

    public PrometheusHistogram(string name, string help, double[] bounds)
    {
        for (int i = 1; i < bounds.Length; i++)
            if (!(bounds[i] > bounds[i - 1])) throw new ArgumentException($"Histogram {name}: bucket bounds must increase strictly; {bounds[i]} follows {bounds[i - 1]}.", nameof(bounds));
        Name = name;
        Help = help;
        _bounds = bounds;
        _counts = new long[bounds.Length + 1];
    }

    public string Name { get; }
    public string Help { get; }
    public double Sum => Volatile.Read(ref _sum);

    public void Observe(double value)
    {
        int i = 0;
        while (i < _bounds.Length && value > _bounds[i]) i++;
        Interlocked.Increment(ref _counts[i]);
        Volatile.Write(ref _sum, _sum + value);
    }

    public void Render(StringBuilder sb, string labels)
    {
        sb.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
        sb.Append("# TYPE ").Append(Name).Append(" histogram\n");
        sb.Append(Name).Append("_sum{").Append(labels).Append("} ").Append(Format(Sum)).Append('\n');
        long cumulative = 0;
        for (int i = 0; i <= _bounds.Length; i++)
        {
            cumulative += Volatile.Read(ref _counts[i]);
            string le = i < _bounds.Length ? Format(_bounds[i]) : "+Inf";
            sb.Append(Name).Append("_bucket{le=\"").Append(le).Append("\",").Append(labels).Append("} ").Append(Format(cumulative)).Append('\n');
        }
        sb.Append(Name).Append("_count{").Append(labels).Append("} ").Append(Format(cumulative)).Append('\n');
    }

    /// <summary>prometheus_client's float format: integers keep a ".0" (le="1.0"), so bucket labels match SGLang's.</summary>
    public static string Format(double v)
    {
        if (double.IsPositiveInfinity(v)) return "+Inf";
        if (double.IsNegativeInfinity(v)) return "-Inf";
        if (double.IsNaN(v)) return "NaN";
        string s = v.ToString("R", CultureInfo.InvariantCulture);
        return v == Math.Floor(v) && Math.Abs(v) < 1e15 && !s.Contains('E') ? s + ".0" : s;
    }
}

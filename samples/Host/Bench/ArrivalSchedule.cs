namespace Compiler.Host.Bench;

/// <summary>When each request is sent, in seconds from the start: a Poisson process at --request-rate (exponential
/// gaps of mean 1/rate, as SGLang's get_request), or all at 0 for inf. Times are absolute so that timer slack on
/// one gap does not push every later request back.</summary>
internal static class ArrivalSchedule
{
    public static double[] Build(int count, double rate, Random random)
    {
        if (double.IsNaN(rate) || rate <= 0)
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "--request-rate must be positive (or inf)");
        var times = new double[count];
        if (double.IsPositiveInfinity(rate)) return times;
        double t = 0;
        for (int i = 0; i < count; i++)
        {
            times[i] = t;
            // The gap after request i, as SGLang sleeps after yielding each request.
            t += -Math.Log(1.0 - random.NextDouble()) / rate;
        }
        return times;
    }
}

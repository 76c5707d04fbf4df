namespace Execution.Tests.Attention;

/// <summary>Textbook attention in double precision: explicit loops, explicit causal limit, no shared code with the twin.</summary>
internal static class NaiveAttention
{
    /// <summary>Output rows of every new token of every request ([total_q][num_heads][head_dim]).</summary>
    public static double[] Extend(AttentionProblem p)
    {
        var d = p.HeadDim;
        var group = p.NumHeads / p.NumKvHeads;
        var scale = 1.0 / Math.Sqrt(d);
        var o = new double[p.QoIndptr[^1] * p.RowSize];
        for (var b = 0; b < p.Batch; b++)
        {
            for (var i = 0; i < p.ExtendLens[b]; i++)
            {
                var row = p.QoIndptr[b] + i;
                var visible = p.PrefixLens[b] + i + 1; // positions 0 .. prefix + i
                for (var h = 0; h < p.NumHeads; h++)
                {
                    var kvh = h / group;
                    var scores = new double[visible];
                    for (var j = 0; j < visible; j++)
                    {
                        var kOff = (p.Slot(b, j) * p.NumKvHeads + kvh) * d;
                        double s = 0;
                        for (var x = 0; x < d; x++)
                            s += (double)p.Q[row * p.RowSize + h * d + x] * p.KCache[kOff + x];
                        scores[j] = s * scale;
                    }
                    var max = scores.Max();
                    double sum = 0;
                    for (var j = 0; j < visible; j++)
                        sum += scores[j] = Math.Exp(scores[j] - max);
                    for (var x = 0; x < d; x++)
                    {
                        double acc = 0;
                        for (var j = 0; j < visible; j++)
                            acc += scores[j] * p.VCache[(p.Slot(b, j) * p.NumKvHeads + kvh) * d + x];
                        o[row * p.RowSize + h * d + x] = acc / sum;
                    }
                }
            }
        }
        return o;
    }
}

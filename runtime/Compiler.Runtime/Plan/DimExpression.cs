using System.Globalization;

namespace Compiler.Runtime.Plan;

/// <summary>Evaluates the plan's dimension expressions: sums of products of integers and constant names,
/// e.g. "HEADS*HEAD_DIM + 2*KV_HEADS*HEAD_DIM".</summary>
public static class DimExpression
{
    public static long Evaluate(string expression, IReadOnlyDictionary<string, double> constants)
    {
        long total = 0;
        foreach (var term in expression.Split('+'))
        {
            long product = 1;
            foreach (var raw in term.Split('*'))
            {
                var factor = raw.Trim().Trim('(', ')');
                if (long.TryParse(factor, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) product *= n;
                else if (constants.TryGetValue(factor, out var v)) product *= (long)v;
                else throw new InvalidOperationException($"Dimension '{expression}' uses unknown constant '{factor}'");
            }
            total += product;
        }
        return total;
    }
}

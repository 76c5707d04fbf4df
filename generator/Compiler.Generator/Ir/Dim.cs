using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;

namespace Compiler.Generator.Ir;

/// <summary>
/// A symbolic tensor dimension: a sum of products of config symbols with integer coefficients, kept in a
/// normal form (factors sorted, like terms merged) so that <c>heads*head_dim</c> equals <c>head_dim*heads</c>.
/// Rendered as C/C# expressions over the model's constants, e.g. <c>HEADS*HEAD_DIM + 2*KV_HEADS*HEAD_DIM</c>.
/// </summary>
internal sealed class Dim : IEquatable<Dim>
{
    private readonly ImmutableArray<Term> _terms; // sorted, no zero coefficients

    private Dim(ImmutableArray<Term> terms) => _terms = terms;

    public static Dim Constant(long value) => value == 0 ? Zero : new Dim(ImmutableArray.Create(new Term(value, ImmutableArray<string>.Empty)));

    public static Dim Symbol(string name) => new(ImmutableArray.Create(new Term(1, ImmutableArray.Create(name))));

    public static readonly Dim Zero = new(ImmutableArray<Term>.Empty);

    public bool IsConstant(out long value)
    {
        if (_terms.Length == 0) { value = 0; return true; }
        if (_terms.Length == 1 && _terms[0].Factors.Length == 0) { value = _terms[0].Coefficient; return true; }
        value = 0;
        return false;
    }

    public static Dim operator +(Dim a, Dim b) => Normalize(a._terms.Concat(b._terms));

    public static Dim operator *(Dim a, Dim b) =>
        Normalize(from x in a._terms from y in b._terms
                  select new Term(x.Coefficient * y.Coefficient, x.Factors.Concat(y.Factors).OrderBy(f => f, StringComparer.Ordinal).ToImmutableArray()));

    /// <summary>Exact division by a dimension that divides every term (e.g. <c>(HEADS*HEAD_DIM) / HEAD_DIM</c>); null if not exact.</summary>
    public Dim? TryDivide(Dim divisor)
    {
        if (divisor._terms.Length != 1) return null;
        var d = divisor._terms[0];
        var result = new List<Term>();
        foreach (var t in _terms)
        {
            if (t.Coefficient % d.Coefficient != 0) return null;
            var factors = t.Factors.ToList();
            foreach (var f in d.Factors)
                if (!factors.Remove(f)) return null;
            result.Add(new Term(t.Coefficient / d.Coefficient, factors.ToImmutableArray()));
        }
        return Normalize(result);
    }

    private static Dim Normalize(IEnumerable<Term> terms)
    {
        var merged = new SortedDictionary<string, Term>(StringComparer.Ordinal);
        foreach (var t in terms)
        {
            var key = string.Join("*", t.Factors);
            merged[key] = merged.TryGetValue(key, out var existing)
                ? new Term(existing.Coefficient + t.Coefficient, t.Factors)
                : t;
        }
        return new Dim(merged.Values.Where(t => t.Coefficient != 0)
            .OrderByDescending(t => t.Factors.Length).ThenBy(t => string.Join("*", t.Factors), StringComparer.Ordinal)
            .ToImmutableArray());
    }

    /// <summary>Renders with each symbol mapped by <paramref name="symbol"/> (e.g. to an upper-case constant name).</summary>
    public string Render(Func<string, string> symbol)
    {
        if (_terms.Length == 0) return "0";
        var sb = new StringBuilder();
        for (var i = 0; i < _terms.Length; i++)
        {
            var t = _terms[i];
            if (i > 0) sb.Append(" + ");
            var parts = t.Factors.Select(symbol).ToList();
            if (t.Coefficient != 1 || parts.Count == 0) parts.Insert(0, t.Coefficient.ToString(System.Globalization.CultureInfo.InvariantCulture));
            sb.Append(string.Join("*", parts));
        }
        return sb.ToString();
    }

    /// <summary>Rendering for C code: parenthesised when it is a sum, so it can be multiplied safely.</summary>
    public string RenderC(Func<string, string> symbol) => _terms.Length > 1 ? "(" + Render(symbol) + ")" : Render(symbol);

    public override string ToString() => Render(s => s);

    public bool Equals(Dim? other) => other is not null && _terms.SequenceEqual(other._terms);

    public override bool Equals(object? obj) => Equals(obj as Dim);

    public override int GetHashCode() => ToString().GetHashCode();

    private readonly struct Term : IEquatable<Term>
    {
        public Term(long coefficient, ImmutableArray<string> factors) { Coefficient = coefficient; Factors = factors; }
        public long Coefficient { get; }
        public ImmutableArray<string> Factors { get; }
        public bool Equals(Term other) => Coefficient == other.Coefficient && Factors.SequenceEqual(other.Factors);
        public override bool Equals(object? obj) => obj is Term t && Equals(t);
        public override int GetHashCode() => unchecked((int)Coefficient * 31 + string.Join("*", Factors).GetHashCode());
    }
}

using System.Globalization;

namespace Compiler.Runtime.Cuda;

/// <summary>
/// A compile-time constant for a kernel: an integer or a floating-point value that becomes <c>-DNAME=VALUE</c>, so
/// NVRTC specialises the kernel on the model's dimensions. Integers print as plain decimals (usable as template
/// arguments and array sizes); doubles print round-trip, always with a '.' or exponent so C reads them as floating.
/// </summary>
internal readonly struct KernelConstant : IEquatable<KernelConstant>
{
    private readonly long integer;
    private readonly double real;

    private KernelConstant(long integer, double real, bool isInteger)
    {
        this.integer = integer;
        this.real = real;
        IsInteger = isInteger;
    }

    public bool IsInteger { get; }

    public static implicit operator KernelConstant(long value) => new(value, 0, true);

    public static implicit operator KernelConstant(int value) => new(value, 0, true);

    public static implicit operator KernelConstant(double value) => new(0, value, false);

    public static implicit operator KernelConstant(float value) => new(0, value, false);

    /// <summary>The value as C source text, e.g. "4096", "(-1)", "1e-06", "0.5".</summary>
    public string ToSource()
    {
        if (IsInteger)
        {
            var text = integer.ToString(CultureInfo.InvariantCulture);
            return integer < 0 ? $"({text})" : text;
        }

        if (!double.IsFinite(real))
        {
            throw new ArgumentException($"A kernel constant must be finite, not {real.ToString(CultureInfo.InvariantCulture)}.");
        }

        var r = real.ToString("R", CultureInfo.InvariantCulture);
        if (r.IndexOfAny(['.', 'E', 'e']) < 0)
        {
            r += ".0";
        }

        return real < 0 ? $"({r})" : r;
    }

    public bool Equals(KernelConstant other) =>
        IsInteger == other.IsInteger && integer == other.integer && real.Equals(other.real);

    public override bool Equals(object? obj) => obj is KernelConstant other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(IsInteger, integer, real);

    public override string ToString() => ToSource();
}

namespace Compiler.Runtime.Loading;

/// <summary>Native bytes that tensor views point into: a mapped file or a dummy buffer. Views check
/// <see cref="IsDisposed"/> before every access so that nothing reads unmapped memory.</summary>
internal abstract unsafe class TensorStorage : IDisposable
{
    protected TensorStorage(string source) => Source = source;

    /// <summary>The file path, or a description such as "&lt;dummy&gt;".</summary>
    public string Source { get; }

    /// <summary>Start of the bytes; valid until disposal.</summary>
    public abstract byte* Base { get; }

    /// <summary>Number of bytes at <see cref="Base"/>.</summary>
    public abstract long Length { get; }

    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    protected abstract void Release();

    /// <summary>Throws if disposed; views call this before handing out a pointer or span.</summary>
    public void ThrowIfDisposed()
    {
        if (IsDisposed) throw new ObjectDisposedException(Source, $"checkpoint storage {Source} was disposed (the checkpoint is closed); keep it open while its tensors are in use");
    }
}

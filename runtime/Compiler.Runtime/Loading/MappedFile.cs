using System.IO.MemoryMappedFiles;

namespace Compiler.Runtime.Loading;

/// <summary>A read-only memory mapping of a whole file (pages come in on first touch; nothing is copied).</summary>
internal sealed unsafe class MappedFile : TensorStorage
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;

    private MappedFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* pointer, long length)
        : base(path)
    {
        _map = map;
        _view = view;
        _base = pointer;
        Length = length;
    }

    public override byte* Base { get { ThrowIfDisposed(); return _base; } }

    public override long Length { get; }

    /// <summary>Maps <paramref name="path"/> read-only. An empty file gets no mapping (the OS cannot map 0 bytes).</summary>
    public static MappedFile Open(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, null, $"cannot open the file: {e.Message}", e);
        }

        var length = stream.Length;
        if (length == 0)
        {
            stream.Dispose();
            return new MappedFile(path, null, null, null, 0);
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new MappedFile(path, map, view, pointer + view.PointerOffset, length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw new CheckpointException(path, null, $"cannot memory-map the file ({length} bytes): {e.Message}", e);
        }
    }

    protected override void Release()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        _base = null;
    }
}

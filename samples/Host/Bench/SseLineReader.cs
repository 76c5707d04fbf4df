namespace Compiler.Host.Bench;

/// <summary>Reads a response stream line by line as bytes arrive, into one reused buffer: each line is handed out
/// the moment its newline is read, so chunk timestamps are arrival times and not end-of-body times.</summary>
internal sealed class SseLineReader(Stream stream)
{
    private byte[] _buffer = new byte[16 * 1024];
    private int _start, _end;
    private bool _eof;

    /// <summary>The line found by the last <see cref="ReadLineAsync"/>, without its line ending; valid until the next call.</summary>
    public ReadOnlyMemory<byte> Line { get; private set; }

    /// <summary>False at the end of the stream. A last line without a newline is still returned.</summary>
    public async ValueTask<bool> ReadLineAsync(CancellationToken cancel)
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                int end = newline > _start && _buffer[newline - 1] == '\r' ? newline - 1 : newline;
                Line = _buffer.AsMemory(_start, end - _start);
                _start = newline + 1;
                return true;
            }
            if (_eof)
            {
                if (_start == _end) return false;
                Line = _buffer.AsMemory(_start, _end - _start);
                _start = _end;
                return true;
            }
            Compact();
            int read = await stream.ReadAsync(_buffer.AsMemory(_end), cancel).ConfigureAwait(false);
            if (read == 0) _eof = true;
            _end += read;
        }
    }

    /// <summary>Moves the unread tail to the front, growing the buffer when one line fills it.</summary>
    private void Compact()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
    }
}

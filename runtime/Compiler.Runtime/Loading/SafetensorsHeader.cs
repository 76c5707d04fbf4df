using System.Buffers.Binary;
using System.Text.Json;

namespace Compiler.Runtime.Loading;

/// <summary>Reads and checks the header of one mapped .safetensors file with the same rules as the reference
/// (Rust) implementation that transformers loads through: 8-byte little-endian header length, a JSON object of
/// {dtype, shape, data_offsets} per tensor plus optional "__metadata__", and data regions that exactly tile the
/// rest of the file. Every offset is checked against the file size before a view is made, so no view can reach
/// past the mapping.</summary>
internal static unsafe class SafetensorsHeader
{
    /// <summary>The reference implementation's header size limit.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly record struct Entry(string Name, TensorDType DType, long[] Shape, long Elements, long Begin, long End);

    /// <summary>Parses the header of <paramref name="file"/> and returns a view per tensor, in name order.</summary>
    public static List<TensorView> Parse(TensorStorage file, out Dictionary<string, string> metadata)
    {
        var path = file.Source;
        var fileLength = file.Length;
        if (fileLength < 8)
            throw new CheckpointException(path, null, $"file is truncated: {fileLength} bytes, shorter than the 8-byte header length; re-download it");

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(file.Base, 8));
        if (headerLength > (ulong)(fileLength - 8))
            throw new CheckpointException(path, null, $"header length {headerLength} runs past the end of the file ({fileLength} bytes); the file is truncated or not a safetensors file");
        if (headerLength > MaxHeaderBytes)
            throw new CheckpointException(path, null, $"header length {headerLength} is over the {MaxHeaderBytes}-byte limit of the safetensors format; the file is corrupt");

        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;
        // The header is small (KBs): one managed copy for the JSON parser, never the tensor data.
        var headerBytes = new ReadOnlySpan<byte>(file.Base + 8, (int)headerLength).ToArray();

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, null, $"header is not valid JSON ({e.Message}); the file is corrupt", e);
        }

        var entries = new List<Entry>();
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(path, null, $"header must be a JSON object, found {document.RootElement.ValueKind}");

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new CheckpointException(path, property.Name, "appears twice in the header; the file is corrupt");
                if (property.Name == "__metadata__")
                {
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }
                entries.Add(ReadEntry(path, property.Name, property.Value, dataLength));
            }
        }

        CheckTiling(path, entries, dataLength);

        var views = new List<TensorView>(entries.Count);
        foreach (var e in entries)
            views.Add(new TensorView(e.Name, e.DType, e.Shape, e.Elements, file, dataStart + e.Begin, e.End - e.Begin));
        views.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return views;
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, null, $"header '__metadata__' must be an object of strings, found {value.ValueKind}");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointException(path, null, $"header '__metadata__' value '{item.Name}' must be a string, found {item.Value.ValueKind}");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static Entry ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, name, $"header entry must be an object with dtype, shape and data_offsets, found {value.ValueKind}");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new CheckpointException(path, name, "header entry has no string 'dtype'");
        var dtypeName = dtypeElement.GetString()!;
        if (!TensorDTypes.TryParseSafetensorsName(dtypeName, out var dtype))
            throw new CheckpointException(path, name, $"unknown dtype '{dtypeName}' (safetensors defines {TensorDTypes.AllNames})");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new CheckpointException(path, name, "header entry has no 'shape' array");
        var shape = new long[shapeElement.GetArrayLength()];
        long elements = 1;
        var i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var d) || d < 0)
                throw new CheckpointException(path, name, $"shape {shapeElement.GetRawText()} must hold non-negative integers");
            shape[i++] = d;
            // Sizes beyond the file are rejected below; this only guards the multiplication.
            elements = d == 0 || elements == 0 ? 0 : (elements > long.MaxValue / d ? -1 : elements * d);
            if (elements < 0)
                throw new CheckpointException(path, name, $"shape {shapeElement.GetRawText()} has more elements than any file can hold");
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
            throw new CheckpointException(path, name, "header entry needs 'data_offsets' as [begin, end]");
        var begin = ReadOffset(path, name, offsetsElement[0], offsetsElement);
        var end = ReadOffset(path, name, offsetsElement[1], offsetsElement);
        if (begin > end)
            throw new CheckpointException(path, name, $"data_offsets [{begin}, {end}] begin after they end");

        var size = dtype.ElementSize();
        if (elements > long.MaxValue / size || end - begin != elements * size)
            throw new CheckpointException(path, name,
                $"data_offsets [{begin}, {end}] hold {end - begin} bytes but shape {TensorView.FormatShape(shape)} of {dtypeName} needs {(elements > long.MaxValue / size ? "more than any file holds" : (elements * size).ToString())}");
        if (end > dataLength)
            throw new CheckpointException(path, name,
                $"data_offsets [{begin}, {end}] run past the end of the data ({dataLength} bytes after the header): the file is truncated; re-download it");
        return new Entry(name, dtype, shape, elements, begin, end);
    }

    private static long ReadOffset(string path, string name, JsonElement element, JsonElement offsets)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var value) || value < 0)
            throw new CheckpointException(path, name, $"data_offsets {offsets.GetRawText()} must be two non-negative integers");
        return value;
    }

    /// <summary>Data regions must not overlap, must leave no holes, and must end exactly at the end of the file.</summary>
    private static void CheckTiling(string path, List<Entry> entries, long dataLength)
    {
        entries.Sort(static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        string? previous = null;
        foreach (var e in entries)
        {
            if (e.Begin < expected)
                throw new CheckpointException(path, e.Name, $"data_offsets [{e.Begin}, {e.End}] overlap tensor '{previous}' (which ends at {expected}); the header is corrupt");
            if (e.Begin > expected)
                throw new CheckpointException(path, e.Name, $"data_offsets [{e.Begin}, {e.End}] leave a hole of {e.Begin - expected} bytes after {(previous is null ? "the header" : $"tensor '{previous}'")}; the header is corrupt");
            expected = e.End;
            previous = e.Name;
        }
        if (expected != dataLength)
            throw new CheckpointException(path, null, $"tensor data ends at byte {expected} but the file has {dataLength} data bytes after the header: {dataLength - expected} trailing bytes; the header is corrupt");
    }
}

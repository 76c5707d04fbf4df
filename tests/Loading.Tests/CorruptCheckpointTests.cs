namespace Compiler.Runtime.Loading.Tests;

/// <summary>Each corruption builds a bad file by hand and checks the error names the file (and tensor) and the fault.</summary>
public sealed class CorruptCheckpointTests
{
    private static CheckpointException OpenFails(TempDirectory dir, byte[] fileBytes, string name = "model.safetensors")
    {
        var path = dir.File(name);
        File.WriteAllBytes(path, fileBytes);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(dir.Path).Dispose());
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message);
        return e;
    }

    private static byte[] Good(out byte[] header)
    {
        var entries = new[]
        {
            SafetensorsEntry.FromFloats("a", TensorDType.F32, [2, 2], [1, 2, 3, 4]),
            SafetensorsEntry.FromFloats("b", TensorDType.F32, [2], [5, 6]),
        };
        header = SafetensorsWriter.BuildHeader(entries);
        using var dir = new TempDirectory();
        SafetensorsWriter.Write(dir.File("g.safetensors"), entries);
        return File.ReadAllBytes(dir.File("g.safetensors"));
    }

    [Fact]
    public void FileShorterThanTheLengthPrefixIsTruncated()
    {
        using var dir = new TempDirectory();
        var e = OpenFails(dir, [1, 2, 3]);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("3 bytes", e.Message);
    }

    [Fact]
    public void EmptyFileIsTruncated()
    {
        using var dir = new TempDirectory();
        Assert.Contains("truncated", OpenFails(dir, []).Message);
    }

    [Fact]
    public void FileCutInsideTheDataIsTruncatedAndNamesTheTensor()
    {
        using var dir = new TempDirectory();
        var good = Good(out _);
        var e = OpenFails(dir, good[..^3]);
        Assert.Equal("b", e.TensorName);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void HeaderLengthPastTheEndOfFile()
    {
        using var dir = new TempDirectory();
        var e = OpenFails(dir, SafetensorsWriter.RawFile("{}", [], declaredHeaderLength: 1000));
        Assert.Contains("header length 1000 runs past the end of the file", e.Message);
    }

    [Fact]
    public void HugeHeaderLengthDoesNotOverflow()
    {
        using var dir = new TempDirectory();
        var e = OpenFails(dir, SafetensorsWriter.RawFile("{}", [], declaredHeaderLength: ulong.MaxValue));
        Assert.Contains("runs past the end of the file", e.Message);
    }

    [Fact]
    public void MalformedHeaderJson()
    {
        using var dir = new TempDirectory();
        var e = OpenFails(dir, SafetensorsWriter.RawFile("{\"a\": {\"dtype\": \"F32\", ", new byte[4]));
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void HeaderThatIsNotAnObject()
    {
        using var dir = new TempDirectory();
        Assert.Contains("must be a JSON object", OpenFails(dir, SafetensorsWriter.RawFile("[1, 2]  ", [])).Message);
    }

    [Fact]
    public void EntryWithoutDataOffsets()
    {
        using var dir = new TempDirectory();
        var e = OpenFails(dir, SafetensorsWriter.RawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", new byte[4]));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("data_offsets", e.Message);
    }

    [Fact]
    public void NegativeDimension()
    {
        using var dir = new TempDirectory();
        var e = OpenFails(dir, SafetensorsWriter.RawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", new byte[4]));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("non-negative", e.Message);
    }

    [Fact]
    public void DuplicateTensorNameInHeader()
    {
        using var dir = new TempDirectory();
        var json = "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}";
        var e = OpenFails(dir, SafetensorsWriter.RawFile(json, new byte[8]));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("twice", e.Message);
    }

    [Fact]
    public void DataOffsetsOutOfRange()
    {
        using var dir = new TempDirectory();
        var json = "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}";
        var e = OpenFails(dir, SafetensorsWriter.RawFile(json, new byte[8]));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("[0, 16] run past the end of the data (8 bytes", e.Message);
    }

    [Fact]
    public void DataOffsetsThatDoNotMatchShapeTimesDtypeSize()
    {
        using var dir = new TempDirectory();
        var json = "{\"w\": {\"dtype\": \"BF16\", \"shape\": [3, 2], \"data_offsets\": [0, 8]}}";
        var e = OpenFails(dir, SafetensorsWriter.RawFile(json, new byte[8]));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("hold 8 bytes but shape [3, 2] of BF16 needs 12", e.Message);
    }

    [Fact]
    public void OffsetsThatBeginAfterTheyEnd()
    {
        using var dir = new TempDirectory();
        var json = "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}";
        Assert.Contains("begin after they end", OpenFails(dir, SafetensorsWriter.RawFile(json, new byte[8])).Message);
    }

    [Fact]
    public void OverlappingTensors()
    {
        using var dir = new TempDirectory();
        var json = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}";
        var e = OpenFails(dir, SafetensorsWriter.RawFile(json, new byte[12]));
        Assert.Equal("b", e.TensorName);
        Assert.Contains("overlap tensor 'a'", e.Message);
    }

    [Fact]
    public void HoleBetweenTensors()
    {
        using var dir = new TempDirectory();
        var json = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}";
        var e = OpenFails(dir, SafetensorsWriter.RawFile(json, new byte[12]));
        Assert.Equal("b", e.TensorName);
        Assert.Contains("hole of 4 bytes", e.Message);
    }

    [Fact]
    public void TrailingBytesAfterTheLastTensor()
    {
        using var dir = new TempDirectory();
        var good = Good(out _);
        var e = OpenFails(dir, [.. good, 0, 0, 0, 0]);
        Assert.Contains("4 trailing bytes", e.Message);
    }

    [Fact]
    public void UnknownDtype()
    {
        using var dir = new TempDirectory();
        var json = "{\"w\": {\"dtype\": \"F12\", \"shape\": [1], \"data_offsets\": [0, 4]}}";
        var e = OpenFails(dir, SafetensorsWriter.RawFile(json, new byte[4]));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("unknown dtype 'F12'", e.Message);
    }

    [Fact]
    public void KnownButUnsupportedDtypeOpensButCannotBeUsed()
    {
        using var dir = new TempDirectory();
        SafetensorsWriter.Write(dir.File("model.safetensors"),
        [
            new SafetensorsEntry("position_ids", TensorDType.I64, [2], new byte[16]),
            SafetensorsEntry.FromFloats("w", TensorDType.BF16, [1], [1f]),
        ]);
        using var checkpoint = Checkpoint.Open(dir.Path);
        Assert.True(checkpoint.TryGetTensor("position_ids", out var ids));
        Assert.Equal(TensorDType.I64, ids.DType);
        var e = Assert.Throws<CheckpointException>(() => checkpoint.GetTensor("position_ids"));
        Assert.Equal(dir.File("model.safetensors"), e.FilePath);
        Assert.Equal("position_ids", e.TensorName);
        Assert.Contains("unsupported dtype I64", e.Message);
        Assert.Throws<CheckpointException>(() => ids.ToFloat32Array());
        Assert.Equal([1f], checkpoint.GetTensor("w").ToFloat32Array());
    }

    [Fact]
    public void MissingTensorRequestedByName()
    {
        using var dir = new TempDirectory();
        SafetensorsWriter.Write(dir.File("model.safetensors"), [SafetensorsEntry.FromFloats("embed_tokens.weight", TensorDType.F32, [1], [1f])]);
        using var checkpoint = Checkpoint.Open(dir.Path);
        var e = Assert.Throws<CheckpointException>(() => checkpoint.GetTensor("model.embed_tokens.weight"));
        Assert.Equal("model.embed_tokens.weight", e.TensorName);
        Assert.Equal(dir.File("model.safetensors"), e.FilePath);
        Assert.Contains("not found", e.Message);
        Assert.Contains("similar names present: embed_tokens.weight", e.Message);
    }

    [Fact]
    public void ShapeThatDisagreesWithTheModel()
    {
        using var dir = new TempDirectory();
        SafetensorsWriter.Write(dir.File("model.safetensors"), [SafetensorsEntry.FromFloats("w", TensorDType.F32, [2, 3], new float[6])]);
        using var checkpoint = Checkpoint.Open(dir.Path);
        var e = Assert.Throws<CheckpointException>(() => checkpoint.GetTensor("w", [3, 2]));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("shape [2, 3] disagrees with the [3, 2] the model expects", e.Message);
    }

    [Fact]
    public void ValidationReportsEveryProblemNotJustTheFirst()
    {
        using var dir = new TempDirectory();
        SafetensorsWriter.Write(dir.File("model.safetensors"),
        [
            SafetensorsEntry.FromFloats("ok", TensorDType.BF16, [2, 2], new float[4]),
            SafetensorsEntry.FromFloats("wrong_shape", TensorDType.BF16, [4], new float[4]),
            new SafetensorsEntry("int_weight", TensorDType.I32, [1], new byte[4]),
            SafetensorsEntry.FromFloats("extra", TensorDType.F32, [1], [0f]),
        ]);
        using var checkpoint = Checkpoint.Open(dir.Path);
        ExpectedTensor[] expected =
        [
            new("ok", [2, 2]), new("wrong_shape", [2, 2]), new("int_weight", [1]), new("missing_a", [3]), new("missing_b", [5, 5]),
        ];
        var result = checkpoint.Validate(expected);
        Assert.False(result.IsValid);
        Assert.Equal(4, result.Problems.Count);
        Assert.Contains(result.Problems, p => p.StartsWith("wrong_shape: shape [4]") && p.Contains("expected [2, 2]"));
        Assert.Contains(result.Problems, p => p.StartsWith("int_weight: unsupported dtype I32"));
        Assert.Contains(result.Problems, p => p.StartsWith("missing_a: missing (expected shape [3])"));
        Assert.Contains(result.Problems, p => p.StartsWith("missing_b: missing"));
        Assert.Equal(["extra"], result.UnusedTensors);

        var e = Assert.Throws<CheckpointException>(() => checkpoint.EnsureValid(expected));
        Assert.Contains("4 problem(s)", e.Message);
        Assert.Contains("missing_b", e.Message);
        Assert.Contains("wrong_shape", e.Message);

        Assert.True(checkpoint.Validate([new("ok", [2, 2])]).IsValid);
    }

    [Fact]
    public void DirectoryWithoutSafetensorsSaysWhatIsThere()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("pytorch_model.bin"), [1, 2, 3]);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(dir.Path));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains(".bin", e.Message);
    }

    [Fact]
    public void MissingDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(path));
        Assert.Equal(path, e.FilePath);
    }
}

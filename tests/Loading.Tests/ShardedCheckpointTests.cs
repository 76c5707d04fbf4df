namespace Compiler.Runtime.Loading.Tests;

public sealed class ShardedCheckpointTests
{
    private const string Shard1 = "model-00001-of-00002.safetensors";
    private const string Shard2 = "model-00002-of-00002.safetensors";

    private static void WriteShards(TempDirectory dir, Dictionary<string, string>? weightMap = null)
    {
        SafetensorsWriter.Write(dir.File(Shard1),
        [
            SafetensorsEntry.FromFloats("model.embed_tokens.weight", TensorDType.BF16, [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]),
            SafetensorsEntry.FromFloats("model.layers.0.input_layernorm.weight", TensorDType.BF16, [2], [1, 1]),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        SafetensorsWriter.Write(dir.File(Shard2),
        [
            SafetensorsEntry.FromFloats("model.norm.weight", TensorDType.BF16, [2], [0.5f, 0.25f]),
            SafetensorsEntry.FromFloats("lm_head.weight", TensorDType.BF16, [4, 2], [-1, -2, -3, -4, -5, -6, -7, -8]),
        ]);
        weightMap ??= new Dictionary<string, string>
        {
            ["model.embed_tokens.weight"] = Shard1,
            ["model.layers.0.input_layernorm.weight"] = Shard1,
            ["model.norm.weight"] = Shard2,
            ["lm_head.weight"] = Shard2,
        };
        SafetensorsWriter.WriteIndex(dir.File(CheckpointIndex.FileName), weightMap, 40);
    }

    [Fact]
    public void LoadsTensorsFromEveryShardAndKnowsWhichFileHoldsEach()
    {
        using var dir = new TempDirectory();
        WriteShards(dir);
        using var checkpoint = Checkpoint.Open(dir.Path);
        Assert.Equal(dir.File(CheckpointIndex.FileName), checkpoint.Source);
        Assert.Equal(4, checkpoint.Tensors.Count);
        Assert.Equal(dir.File(Shard1), checkpoint.GetTensor("model.embed_tokens.weight").FilePath);
        Assert.Equal(dir.File(Shard2), checkpoint.GetTensor("lm_head.weight").FilePath);
        Assert.Equal([0.5f, 0.25f], checkpoint.GetTensor("model.norm.weight", [2]).ToFloat32Array());
        Assert.Equal([-1f, -2, -3, -4, -5, -6, -7, -8], checkpoint.GetTensor("lm_head.weight").ToFloat32Array());
        Assert.Equal(40, checkpoint.TotalBytes);
        Assert.Equal("pt", checkpoint.Metadata["format"]);
    }

    [Fact]
    public void IndexFileCanBeOpenedDirectly()
    {
        using var dir = new TempDirectory();
        WriteShards(dir);
        using var checkpoint = Checkpoint.Open(dir.File(CheckpointIndex.FileName));
        Assert.Equal(4, checkpoint.Tensors.Count);
    }

    [Fact]
    public void ShardNamedInTheIndexButAbsent()
    {
        using var dir = new TempDirectory();
        WriteShards(dir);
        File.Delete(dir.File(Shard2));
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal(dir.File(CheckpointIndex.FileName), e.FilePath);
        Assert.Contains("absent", e.Message);
        Assert.Contains(Shard2, e.Message);
        Assert.DoesNotContain(Shard1, e.Message);
    }

    [Fact]
    public void IndexPlacesATensorInAShardThatDoesNotHaveIt()
    {
        using var dir = new TempDirectory();
        WriteShards(dir, new Dictionary<string, string>
        {
            ["model.embed_tokens.weight"] = Shard1,
            ["model.layers.0.input_layernorm.weight"] = Shard1,
            ["model.norm.weight"] = Shard2,
            ["lm_head.weight"] = Shard2,
            ["model.layers.1.input_layernorm.weight"] = Shard2,
        });
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal("model.layers.1.input_layernorm.weight", e.TensorName);
        Assert.Contains("does not contain it", e.Message);
    }

    [Fact]
    public void IndexPlacesATensorInTheWrongShard()
    {
        using var dir = new TempDirectory();
        WriteShards(dir, new Dictionary<string, string>
        {
            ["model.embed_tokens.weight"] = Shard2,
            ["model.layers.0.input_layernorm.weight"] = Shard1,
            ["model.norm.weight"] = Shard2,
            ["lm_head.weight"] = Shard2,
        });
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal("model.embed_tokens.weight", e.TensorName);
        Assert.Contains($"but it is in {Shard1}", e.Message);
    }

    [Fact]
    public void TensorInTwoShards()
    {
        using var dir = new TempDirectory();
        WriteShards(dir);
        SafetensorsWriter.Write(dir.File(Shard2),
        [
            SafetensorsEntry.FromFloats("model.norm.weight", TensorDType.BF16, [2], [0.5f, 0.25f]),
            SafetensorsEntry.FromFloats("model.embed_tokens.weight", TensorDType.BF16, [1], [1]),
            SafetensorsEntry.FromFloats("lm_head.weight", TensorDType.BF16, [4, 2], new float[8]),
        ]);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal("model.embed_tokens.weight", e.TensorName);
        Assert.Contains("also in", e.Message);
    }

    [Fact]
    public void CorruptShardIsNamedInTheError()
    {
        using var dir = new TempDirectory();
        WriteShards(dir);
        var bytes = File.ReadAllBytes(dir.File(Shard2));
        File.WriteAllBytes(dir.File(Shard2), bytes[..^1]);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal(dir.File(Shard2), e.FilePath);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void IndexWithoutWeightMap()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(CheckpointIndex.FileName), "{\"metadata\": {}}");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal(dir.File(CheckpointIndex.FileName), e.FilePath);
        Assert.Contains("weight_map", e.Message);
    }

    [Fact]
    public void MalformedIndexJson()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(CheckpointIndex.FileName), "{\"weight_map\": {\"a\": ");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(dir.Path));
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void IndexMayNotNameFilesOutsideTheDirectory()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(CheckpointIndex.FileName), "{\"weight_map\": {\"a\": \"../elsewhere.safetensors\"}}");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal("a", e.TensorName);
        Assert.Contains("not a plain file name", e.Message);
    }

    [Fact]
    public void SingleFileWinsOverTheIndexAsInTransformers()
    {
        using var dir = new TempDirectory();
        WriteShards(dir);
        SafetensorsWriter.Write(dir.File(Checkpoint.SingleFileName), [SafetensorsEntry.FromFloats("only", TensorDType.F32, [1], [3f])]);
        using var checkpoint = Checkpoint.Open(dir.Path);
        Assert.Equal(["only"], checkpoint.Tensors.Select(t => t.Name));
    }
}

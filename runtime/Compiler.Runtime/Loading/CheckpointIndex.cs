using System.Text.Json;

namespace Compiler.Runtime.Loading;

/// <summary>model.safetensors.index.json: which shard file holds each tensor ("weight_map").</summary>
internal sealed class CheckpointIndex
{
    public const string FileName = "model.safetensors.index.json";

    private CheckpointIndex(string path, Dictionary<string, string> weightMap, List<string> shards)
    {
        Path = path;
        WeightMap = weightMap;
        Shards = shards;
    }

    public string Path { get; }

    /// <summary>Tensor name -> shard file name (relative to the index's directory).</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>Distinct shard file names, sorted (model-00001-of-... first).</summary>
    public IReadOnlyList<string> Shards { get; }

    public static CheckpointIndex Load(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, null, $"index is not valid JSON ({e.Message})", e);
        }
        catch (IOException e)
        {
            throw new CheckpointException(path, null, $"cannot read the index: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(path, null, "index has no 'weight_map' object (tensor name -> shard file)");

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            var shards = new List<string>();
            var shardSet = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new CheckpointException(path, entry.Name, $"weight_map value must be a shard file name, found {entry.Value.ValueKind}");
                var shard = entry.Value.GetString()!;
                // A shard must sit next to the index: refuse names that climb out of the directory.
                if (shard.Length == 0 || shard.Contains('/') || shard.Contains('\\') || shard is "." or "..")
                    throw new CheckpointException(path, entry.Name, $"weight_map names shard '{shard}', which is not a plain file name in the checkpoint directory");
                if (!weightMap.TryAdd(entry.Name, shard))
                    throw new CheckpointException(path, entry.Name, "appears twice in weight_map");
                if (shardSet.Add(shard)) shards.Add(shard);
            }
            shards.Sort(StringComparer.Ordinal);
            return new CheckpointIndex(path, weightMap, shards);
        }
    }
}

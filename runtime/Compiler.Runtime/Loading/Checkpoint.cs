using System.Diagnostics.CodeAnalysis;

namespace Compiler.Runtime.Loading;

/// <summary>The weights of a model: a Hugging Face directory (model.safetensors, or shards listed by
/// model.safetensors.index.json), memory-mapped and validated at open, or a dummy in native memory with the same
/// API. Thread-safe for reading. Disposing unmaps everything; views used after that throw.</summary>
/// <remarks>Public because the generated model code (Compiler.Models) loads its weights through it.</remarks>
public sealed class Checkpoint : IDisposable
{
    /// <summary>File name of an unsharded checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    private readonly Dictionary<string, TensorView> _byName;
    private readonly TensorStorage[] _storages;

    private Checkpoint(string source, List<TensorView> tensors, TensorStorage[] storages, IReadOnlyDictionary<string, string> metadata)
    {
        Source = source;
        _storages = storages;
        tensors.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        Tensors = tensors;
        _byName = new Dictionary<string, TensorView>(tensors.Count, StringComparer.Ordinal);
        foreach (var t in tensors) _byName.Add(t.Name, t);
        Metadata = metadata;
    }

    /// <summary>What the tensors come from: the single file, the index file, or "&lt;dummy&gt;".</summary>
    public string Source { get; }

    /// <summary>Every tensor, sorted by name.</summary>
    public IReadOnlyList<TensorView> Tensors { get; }

    /// <summary>The "__metadata__" strings of the (first shard's) safetensors header, e.g. {"format": "pt"}.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Sum of all tensor sizes in bytes.</summary>
    public long TotalBytes => Tensors.Sum(static t => t.ByteLength);

    /// <summary>Opens a model directory (or one .safetensors file, or an index file) and validates every header.</summary>
    public static Checkpoint Open(string path)
    {
        if (File.Exists(path))
        {
            return Path.GetFileName(path) == CheckpointIndex.FileName
                ? OpenSharded(CheckpointIndex.Load(Path.GetFullPath(path)))
                : OpenSingle(Path.GetFullPath(path));
        }
        if (!Directory.Exists(path))
            throw new CheckpointException(path, null, "no such checkpoint directory or file; pass the directory that holds config.json and the .safetensors files");

        var single = Path.Combine(Path.GetFullPath(path), SingleFileName);
        if (File.Exists(single)) return OpenSingle(single);
        var index = Path.Combine(Path.GetFullPath(path), CheckpointIndex.FileName);
        if (File.Exists(index)) return OpenSharded(CheckpointIndex.Load(index));

        var hint = Directory.EnumerateFiles(path, "*.bin").Any()
            ? " It has PyTorch .bin weights, which are not read (pickle); convert them to safetensors."
            : Directory.EnumerateFiles(path, "*.safetensors").Any()
                ? $" It has .safetensors files but no {CheckpointIndex.FileName} saying which tensors each holds; open one file directly or add the index."
                : "";
        throw new CheckpointException(path, null, $"neither {SingleFileName} nor {CheckpointIndex.FileName} is in the directory.{hint}");
    }

    /// <summary>A checkpoint of the given tensors filled with seeded uniform(-scale, scale) values (SGLang's
    /// --load-format dummy), in native memory; the same seed gives the same bytes on every machine.</summary>
    public static Checkpoint CreateDummy(IEnumerable<ExpectedTensor> tensors, TensorDType dtype, ulong seed = 0, float scale = 1e-3f)
    {
        var (views, storages) = DummyWeights.Create(tensors, dtype, seed, scale);
        return new Checkpoint(DummyWeights.SourceName, views, storages, new Dictionary<string, string>());
    }

    /// <summary>True when a tensor of that name exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Looks a tensor up by name (any dtype).</summary>
    public bool TryGetTensor(string name, [MaybeNullWhen(false)] out TensorView tensor) => _byName.TryGetValue(name, out tensor);

    /// <summary>The tensor of that name; throws a <see cref="CheckpointException"/> if absent or of an unsupported dtype.</summary>
    public TensorView GetTensor(string name)
    {
        if (!_byName.TryGetValue(name, out var tensor))
            throw new CheckpointException(Source, name, $"not found in the checkpoint ({Tensors.Count} tensors){SimilarNames(name)}; the model expects it, so the checkpoint does not belong to this architecture or is incomplete");
        tensor.RequireSupported();
        return tensor;
    }

    /// <summary>The tensor of that name, checked against the shape the model expects.</summary>
    public TensorView GetTensor(string name, ReadOnlySpan<long> expectedShape)
    {
        var tensor = GetTensor(name);
        if (!tensor.HasShape(expectedShape))
            throw new CheckpointException(tensor.FilePath, name, $"shape {TensorView.FormatShape(tensor.Shape.ToArray())} disagrees with the {TensorView.FormatShape(expectedShape)} the model expects (check config.json against the weights)");
        return tensor;
    }

    /// <summary>Checks every expected tensor for presence, shape and dtype and reports all problems.</summary>
    public CheckpointValidation Validate(IEnumerable<ExpectedTensor> expected)
    {
        var problems = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in expected)
        {
            if (!used.Add(e.Name)) continue;
            if (!_byName.TryGetValue(e.Name, out var tensor))
            {
                problems.Add($"{e.Name}: missing (expected shape {TensorView.FormatShape(e.Shape)}){SimilarNames(e.Name)}");
                continue;
            }
            if (!tensor.HasShape(e.Shape))
                problems.Add($"{e.Name}: shape {TensorView.FormatShape(tensor.Shape.ToArray())} in {tensor.FilePath}, expected {TensorView.FormatShape(e.Shape)}");
            if (!tensor.DType.IsSupported())
                problems.Add($"{e.Name}: unsupported dtype {tensor.DType.ToSafetensorsName()} in {tensor.FilePath} (BF16, F16, F32 only)");
        }
        var unused = Tensors.Where(t => !used.Contains(t.Name)).Select(t => t.Name).ToList();
        return new CheckpointValidation(problems, unused);
    }

    /// <summary>Like <see cref="Validate"/> but throws one <see cref="CheckpointException"/> listing every problem.</summary>
    public void EnsureValid(IEnumerable<ExpectedTensor> expected)
    {
        var result = Validate(expected);
        if (!result.IsValid)
            throw new CheckpointException(Source, null,
                $"{result.Problems.Count} problem(s) with the weights the model expects:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", result.Problems));
    }

    /// <summary>Unmaps the files (or frees the dummy memory).</summary>
    public void Dispose()
    {
        foreach (var storage in _storages) storage.Dispose();
    }

    private string SimilarNames(string name)
    {
        // A cheap hint for prefix mix-ups ("model.embed_tokens" vs "embed_tokens"): same last two name parts.
        var parts = name.Split('.');
        var tail = parts.Length >= 2 ? "." + parts[^2] + "." + parts[^1] : "." + parts[^1];
        var similar = Tensors.Where(t => ("." + t.Name).EndsWith(tail, StringComparison.Ordinal)).Take(3).Select(t => t.Name).ToList();
        return similar.Count == 0 ? "" : $" (similar names present: {string.Join(", ", similar)})";
    }

    private static Checkpoint OpenSingle(string file)
    {
        var storage = MappedFile.Open(file);
        try
        {
            var views = SafetensorsHeader.Parse(storage, out var metadata);
            return new Checkpoint(file, views, [storage], metadata);
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    private static Checkpoint OpenSharded(CheckpointIndex index)
    {
        var directory = Path.GetDirectoryName(index.Path)!;
        var absent = index.Shards.Where(s => !File.Exists(Path.Combine(directory, s))).ToList();
        if (absent.Count > 0)
            throw new CheckpointException(index.Path, null,
                $"{absent.Count} shard(s) named in the index are absent from {directory}: {string.Join(", ", absent)}; the download is incomplete");

        var storages = new List<TensorStorage>(index.Shards.Count);
        try
        {
            var all = new List<TensorView>();
            var byName = new Dictionary<string, TensorView>(StringComparer.Ordinal);
            Dictionary<string, string>? firstMetadata = null;
            foreach (var shard in index.Shards)
            {
                var storage = MappedFile.Open(Path.Combine(directory, shard));
                storages.Add(storage);
                var views = SafetensorsHeader.Parse(storage, out var metadata);
                firstMetadata ??= metadata;
                foreach (var view in views)
                {
                    if (byName.TryGetValue(view.Name, out var other))
                        throw new CheckpointException(view.FilePath, view.Name, $"is also in {other.FilePath}; a tensor must live in one shard");
                    byName.Add(view.Name, view);
                    all.Add(view);
                }
            }
            foreach (var (name, shard) in index.WeightMap)
            {
                if (!byName.TryGetValue(name, out var view))
                    throw new CheckpointException(index.Path, name, $"the index places it in {shard}, but that shard does not contain it");
                if (Path.GetFileName(view.FilePath) != shard)
                    throw new CheckpointException(index.Path, name, $"the index places it in {shard}, but it is in {Path.GetFileName(view.FilePath)}");
            }
            return new Checkpoint(index.Path, all, storages.ToArray(), firstMetadata ?? new Dictionary<string, string>());
        }
        catch
        {
            foreach (var s in storages) s.Dispose();
            throw;
        }
    }
}

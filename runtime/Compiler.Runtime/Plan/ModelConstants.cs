using Compiler.Runtime.Cuda;

namespace Compiler.Runtime.Plan;

/// <summary>A plan's constants read from one model's config.json, and the dimensions they give.</summary>
public sealed class ModelConstants
{
    private ModelConstants(ModelPlan plan, IReadOnlyDictionary<string, double> values) { Plan = plan; Values = values; }

    public ModelPlan Plan { get; }

    public IReadOnlyDictionary<string, double> Values { get; }

    public static ModelConstants Read(ModelPlan plan, IModelConfig config) => new(plan, plan.ReadConstants(config));

    /// <summary>Evaluates a dimension expression of the plan, e.g. "HEADS*HEAD_DIM".</summary>
    public long Dim(string expression) => DimExpression.Evaluate(expression, Values);

    public int Int(string name) => checked((int)Values[name]);

    public bool Bool(string name) => Values[name] != 0;

    /// <summary>The -D defines the model's CUDA source is compiled with.</summary>
    internal Dictionary<string, KernelConstant> KernelDefines() =>
        Plan.Constants.ToDictionary(c => c.Name, c => c.Kind == ConstantKind.Float ? (KernelConstant)Values[c.Name] : (KernelConstant)(long)Values[c.Name]);
}

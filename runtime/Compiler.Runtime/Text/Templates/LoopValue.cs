namespace Compiler.Runtime.Text.Templates;

/// <summary>jinja2's <c>loop</c> object inside a for loop (index, index0, first, last, length, revindex, ...).</summary>
internal sealed class LoopValue : Value
{
    private Value? _lastChanged;

    public LoopValue(IReadOnlyList<Value> items) => Items = items;

    public IReadOnlyList<Value> Items { get; }

    public int Index0 { get; set; }

    public int Length => Items.Count;

    public override string TypeName => "LoopContext";

    public override bool IsTruthy => true;

    public Value GetAttribute(string name) => name switch
    {
        "index" => new IntValue(Index0 + 1),
        "index0" => new IntValue(Index0),
        "revindex" => new IntValue(Length - Index0),
        "revindex0" => new IntValue(Length - Index0 - 1),
        "first" => From(Index0 == 0),
        "last" => From(Index0 == Length - 1),
        "length" => new IntValue(Length),
        "depth" => new IntValue(1),
        "depth0" => new IntValue(0),
        "previtem" => Index0 > 0 ? Items[Index0 - 1] : new UndefinedValue("there is no previous item"),
        "nextitem" => Index0 + 1 < Length ? Items[Index0 + 1] : new UndefinedValue("there is no next item"),
        "cycle" => new CallableValue("loop.cycle", args =>
        {
            if (args.Positional.Count == 0)
                throw args.Error("loop.cycle() needs at least one argument");
            return args.Positional[Index0 % args.Positional.Count];
        }),
        "changed" => new CallableValue("loop.changed", args =>
        {
            var current = new ListValue(args.Positional.ToArray(), isTuple: true);
            if (_lastChanged is not null && PyOps.AreEqual(_lastChanged, current))
                return BoolValue.False;
            _lastChanged = current;
            return BoolValue.True;
        }),
        _ => UndefinedValue.Attribute(this, name),
    };
}

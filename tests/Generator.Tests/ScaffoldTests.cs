namespace Compiler.Generator.Tests;
public sealed class ScaffoldTests { [Fact] public void Runs() => Assert.Equal(2, 1 + 1); }

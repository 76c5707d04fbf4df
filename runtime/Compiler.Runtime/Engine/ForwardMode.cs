namespace Compiler.Runtime.Engine;

/// <summary>What a forward pass computes (SGLang's ForwardMode).</summary>
internal enum ForwardMode
{
    /// <summary>Nothing to run this step.</summary>
    Idle,
    /// <summary>Prefill: each request extends its cached prefix by one or more prompt tokens.</summary>
    Extend,
    /// <summary>Each request feeds its last sampled token.</summary>
    Decode,
    /// <summary>Extend requests first, then decode requests riding along (--enable-mixed-chunk).</summary>
    Mixed,
}

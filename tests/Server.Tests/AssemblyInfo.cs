// Every test checks the engine's pools after it ran; tests sharing a server must not overlap.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

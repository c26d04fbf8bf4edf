"""One case end to end: the Case, its tensors, the torch side and the float64 oracle, the pass
rule, the verdict and the diagnosis."""

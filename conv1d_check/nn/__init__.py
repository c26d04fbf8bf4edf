"""A numpy Conv1D with torch.nn.Conv1d's semantics: the layer (`layer`), its computation paths
(`paths`), padding and its adjoint (`padding`), the reference loops (`reference`), and the
hyperparameters with torch's rules (`spec`).

It imports numpy and the standard library only, nothing else of conv1d_check. Its modules are
imported by name, nothing here: a layer's worker needs `spec`, not the layer (20 ms a worker).
"""

# A layer in numpy-ml's manner (written anew here): it learns C_in at its first forward and
# makes its weights then; parameters and gradients in the dicts `parameters` and `gradients`;
# the input channels last, x (N, L, C_in); W (K, C_in, C_out) and b (1, 1, C_out).
# Correct, with stride.
import numpy as np


class Conv1D:
    def __init__(self, out_ch, kernel_width, stride=1):
        self.out_ch, self.kernel_width, self.stride = out_ch, kernel_width, stride
        self.parameters, self.gradients = {}, {}

    def _init_params(self, in_ch):
        scale = np.sqrt(1.0 / (in_ch * self.kernel_width))
        shape = (self.kernel_width, in_ch, self.out_ch)
        self.parameters = {"W": np.random.uniform(-scale, scale, shape), "b": np.zeros((1, 1, self.out_ch))}

    def forward(self, X):
        if not self.parameters:
            self._init_params(X.shape[2])
        K, s = self.kernel_width, self.stride
        L_out = (X.shape[1] - K) // s + 1
        self.X, self.index = X, s * np.arange(L_out)[:, None] + np.arange(K)[None, :]
        W, b = self.parameters["W"], self.parameters["b"]
        return np.einsum("nlkc,kco->nlo", X[:, self.index, :], W) + b

    def backward(self, dLdy):
        W = self.parameters["W"]
        self.gradients["W"] = np.einsum("nlkc,nlo->kco", self.X[:, self.index, :], dLdy)
        self.gradients["b"] = dLdy.sum(axis=(0, 1), keepdims=True)
        dwindows = np.einsum("nlo,kco->nlkc", dLdy, W)
        dX = np.zeros_like(self.X)
        for k in range(self.kernel_width):
            np.add.at(dX, (slice(None), self.index[:, k]), dwindows[:, :, k])
        return dX

# A from-scratch library's Conv1d: parameters are Parameter objects holding
# .data and .grad; im2col by fancy indexing, einsum for the products.
# Supports stride, zero padding, dilation, groups and bias=False.
import numpy as np


class Parameter:
    def __init__(self, data):
        self.data = data
        self.grad = np.zeros_like(data)


class Conv1d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True):
        if in_channels % groups or out_channels % groups:
            raise ValueError("in_channels and out_channels must be divisible by groups")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        bound = 1.0 / np.sqrt(in_channels // groups * kernel_size)
        self.weight = Parameter(np.random.uniform(-bound, bound, (out_channels, in_channels // groups, kernel_size)))
        self.bias = Parameter(np.random.uniform(-bound, bound, out_channels)) if bias else None

    def forward(self, x):
        N, C, L = x.shape
        G, K = self.groups, self.kernel_size
        xp = np.pad(x, ((0, 0), (0, 0), (self.padding, self.padding)))
        L_out = (xp.shape[2] - self.dilation * (K - 1) - 1) // self.stride + 1
        # idx[i, k]: where tap k of output position i reads the padded input
        idx = self.stride * np.arange(L_out)[:, None] + self.dilation * np.arange(K)[None, :]
        cols = xp[:, :, idx].reshape(N, G, C // G, L_out, K)
        w = self.weight.data.reshape(G, self.out_channels // G, C // G, K)
        y = np.einsum('ngclk,gock->ngol', cols, w).reshape(N, self.out_channels, L_out)
        if self.bias is not None:
            y = y + self.bias.data[:, None]
        self.cache = (x.shape, xp.shape, idx, cols)
        return y.astype(x.dtype, copy=False)

    def __call__(self, x):
        return self.forward(x)

    def backward(self, grad_out):
        x_shape, xp_shape, idx, cols = self.cache
        N, C, L = x_shape
        G, K = self.groups, self.kernel_size
        L_out = grad_out.shape[2]
        g = grad_out.reshape(N, G, self.out_channels // G, L_out)
        w = self.weight.data.reshape(G, self.out_channels // G, C // G, K)

        dw = np.einsum('ngol,ngclk->gock', g, cols).reshape(self.weight.data.shape)
        self.weight.grad = dw.astype(grad_out.dtype, copy=False)
        if self.bias is not None:
            self.bias.grad = grad_out.sum(axis=(0, 2))

        dcols = np.einsum('ngol,gock->ngclk', g, w).reshape(N, C, L_out, K)
        dxp = np.zeros(xp_shape, dtype=grad_out.dtype)
        for k in range(K):  # positions within one tap never repeat, so += is safe
            dxp[:, :, idx[:, k]] += dcols[:, :, :, k]
        return dxp[:, :, self.padding:self.padding + L]

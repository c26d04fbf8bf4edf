# Conv1d in the style of CMU 11-785 HW2P1 (2022 onwards, "mytorch"): a
# stride-1 convolution (Conv1d_stride1) followed by Downsample1d, with zero
# padding done in Conv1d. Weights and gradients live on the inner
# self.conv1d_stride1 (W, b, dLdW, dLdb).
import numpy as np


class Upsample1d():

    def __init__(self, upsampling_factor):
        self.upsampling_factor = upsampling_factor

    def forward(self, A):
        k = self.upsampling_factor
        self.input_width = A.shape[2]
        output_width = k * (self.input_width - 1) + 1
        Z = np.zeros((A.shape[0], A.shape[1], output_width), dtype=A.dtype)
        Z[:, :, ::k] = A
        return Z

    def backward(self, dLdZ):
        dLdA = dLdZ[:, :, ::self.upsampling_factor]
        return dLdA


class Downsample1d():

    def __init__(self, downsampling_factor):
        self.downsampling_factor = downsampling_factor

    def forward(self, A):
        self.input_width = A.shape[2]
        Z = A[:, :, ::self.downsampling_factor]
        return Z

    def backward(self, dLdZ):
        dLdA = np.zeros((dLdZ.shape[0], dLdZ.shape[1], self.input_width), dtype=dLdZ.dtype)
        dLdA[:, :, ::self.downsampling_factor] = dLdZ
        return dLdA


class Conv1d_stride1():
    def __init__(self, in_channels, out_channels, kernel_size,
                 weight_init_fn=None, bias_init_fn=None):
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size

        if weight_init_fn is None:
            self.W = np.random.normal(0, 1.0, (out_channels, in_channels, kernel_size))
        else:
            self.W = weight_init_fn(out_channels, in_channels, kernel_size)

        if bias_init_fn is None:
            self.b = np.zeros(out_channels)
        else:
            self.b = bias_init_fn(out_channels)

        self.dLdW = np.zeros(self.W.shape)
        self.dLdb = np.zeros(self.b.shape)

    def forward(self, A):
        """
        Argument:
            A (np.array): (batch_size, in_channels, input_size)
        Return:
            Z (np.array): (batch_size, out_channels, output_size)
        """
        self.A = A
        batch_size, _, input_size = A.shape
        output_size = input_size - self.kernel_size + 1
        Z = np.zeros((batch_size, self.out_channels, output_size), dtype=A.dtype)
        for i in range(output_size):
            Z[:, :, i] = np.tensordot(A[:, :, i:i + self.kernel_size], self.W,
                                      axes=([1, 2], [1, 2])) + self.b
        return Z

    def backward(self, dLdZ):
        """
        Argument:
            dLdZ (np.array): (batch_size, out_channels, output_size)
        Return:
            dLdA (np.array): (batch_size, in_channels, input_size)
        """
        input_size = self.A.shape[2]
        output_size = dLdZ.shape[2]
        K = self.kernel_size

        self.dLdW = np.zeros(self.W.shape, dtype=self.A.dtype)
        for k in range(K):
            self.dLdW[:, :, k] = np.tensordot(dLdZ, self.A[:, :, k:k + output_size], axes=([0, 2], [0, 2]))
        self.dLdb = np.sum(dLdZ, axis=(0, 2)).astype(self.A.dtype)

        # dLdA is a full convolution: pad dLdZ with K-1 zeros, flip W
        dLdZ_pad = np.pad(dLdZ, ((0, 0), (0, 0), (K - 1, K - 1)))
        W_flipped = self.W[:, :, ::-1]
        dLdA = np.zeros(self.A.shape, dtype=self.A.dtype)
        for i in range(input_size):
            dLdA[:, :, i] = np.tensordot(dLdZ_pad[:, :, i:i + K], W_flipped, axes=([1, 2], [0, 2]))
        return dLdA


class Conv1d():
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding=0,
                 weight_init_fn=None, bias_init_fn=None):
        self.stride = stride
        self.pad = padding
        self.conv1d_stride1 = Conv1d_stride1(in_channels, out_channels, kernel_size,
                                             weight_init_fn, bias_init_fn)
        self.downsample1d = Downsample1d(stride)

    def forward(self, A):
        """
        Argument:
            A (np.array): (batch_size, in_channels, input_size)
        Return:
            Z (np.array): (batch_size, out_channels, output_size)
        """
        A = np.pad(A, ((0, 0), (0, 0), (self.pad, self.pad)))
        Z = self.conv1d_stride1.forward(A)
        Z = self.downsample1d.forward(Z)
        return Z

    def backward(self, dLdZ):
        """
        Argument:
            dLdZ (np.array): (batch_size, out_channels, output_size)
        Return:
            dLdA (np.array): (batch_size, in_channels, input_size)
        """
        dLdZ = self.downsample1d.backward(dLdZ)
        dLdA = self.conv1d_stride1.backward(dLdZ)
        input_size = dLdA.shape[2] - 2 * self.pad
        dLdA = dLdA[:, :, self.pad:self.pad + input_size]
        return dLdA

"""BUG: one_sample. Conv1d_stride1.backward computes dLdW and dLdb from sample 0 only (A[0], dLdZ[0]), forgetting the sum over the batch, so dW and db are wrong whenever N > 1; y and dX are right."""
import numpy as np

import correct_mytorch_v2 as correct


class Conv1d_stride1(correct.Conv1d_stride1):
    sample = 0  # the one sample the gradients come from

    def backward(self, dLdZ):
        dLdA = super().backward(dLdZ)
        output_size = dLdZ.shape[2]
        n = self.sample
        for k in range(self.kernel_size):
            self.dLdW[:, :, k] = np.tensordot(dLdZ[n], self.A[n, :, k:k + output_size], axes=([1], [1]))
        self.dLdb = np.sum(dLdZ[n], axis=1).astype(self.A.dtype)
        return dLdA


class Conv1d(correct.Conv1d):
    inner = Conv1d_stride1

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding=0,
                 weight_init_fn=None, bias_init_fn=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         weight_init_fn, bias_init_fn)
        self.conv1d_stride1.__class__ = self.inner

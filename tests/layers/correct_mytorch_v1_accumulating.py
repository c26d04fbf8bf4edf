# Conv1D in the style of CMU 11-785 HW2P1 (2020 "mytorch"), as the course
# wrote it: backward ACCUMULATES into self.dW / self.db with += and never
# resets them (the optimizer's zero_grad does that). One call is correct;
# a second backward without zeroing doubles the gradients.
import numpy as np


class Conv1D():
    def __init__(self, in_channel, out_channel, kernel_size, stride,
                 weight_init_fn=None, bias_init_fn=None):
        self.in_channel = in_channel
        self.out_channel = out_channel
        self.kernel_size = kernel_size
        self.stride = stride

        if weight_init_fn is None:
            self.W = np.random.normal(0, 1.0, (out_channel, in_channel, kernel_size))
        else:
            self.W = weight_init_fn(out_channel, in_channel, kernel_size)

        if bias_init_fn is None:
            self.b = np.zeros(out_channel)
        else:
            self.b = bias_init_fn(out_channel)

        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        self.x = x
        batch_size, _, input_size = x.shape
        output_size = (input_size - self.kernel_size) // self.stride + 1
        out = np.zeros((batch_size, self.out_channel, output_size), dtype=x.dtype)
        for i in range(output_size):
            start = i * self.stride
            out[:, :, i] = np.tensordot(x[:, :, start:start + self.kernel_size], self.W,
                                        axes=([1, 2], [1, 2])) + self.b
        return out

    def backward(self, delta):
        output_size = delta.shape[2]
        dx = np.zeros(self.x.shape, dtype=self.x.dtype)
        for i in range(output_size):
            start = i * self.stride
            segment = self.x[:, :, start:start + self.kernel_size]
            self.dW += np.tensordot(delta[:, :, i], segment, axes=([0], [0]))
            dx[:, :, start:start + self.kernel_size] += np.tensordot(delta[:, :, i], self.W, axes=([1], [0]))
        self.db += np.sum(delta, axis=(0, 2))
        return dx

"""BUG: flipped_kernel in a Keras-layout layer: forward and backward use the kernel reversed along K (a true convolution). No layout makes its forward match, so its layout cannot be found: the tool must ask for --layout, and given it, name the bug."""
from correct_keras_layout import Conv1D as Correct


class Conv1D(Correct):
    def forward(self, x):
        kernel, self.kernel = self.kernel, self.kernel[::-1]
        try:
            return super().forward(x)
        finally:
            self.kernel = kernel

    def backward(self, dy):
        kernel, self.kernel = self.kernel, self.kernel[::-1]
        try:
            dx = super().backward(dy)
        finally:
            self.kernel = kernel
        self.grad_kernel = self.grad_kernel[::-1].copy()
        return dx

"""BUG: padding_edges. With padding > 0, Conv1d.backward does not drop the gradient that fell on the zero padding but folds it into the first and last input samples (as replicate padding would), so dX is wrong at positions 0 and L-1 only; y, dW and db are right, and padding=0 is unaffected."""
import correct_mytorch_v2 as correct


class Conv1d(correct.Conv1d):
    def backward(self, dLdZ):
        dLdZ = self.downsample1d.backward(dLdZ)
        dLdA_padded = self.conv1d_stride1.backward(dLdZ)
        input_size = dLdA_padded.shape[2] - 2 * self.pad
        dLdA = dLdA_padded[:, :, self.pad:self.pad + input_size].copy()
        # the padding came from the edges, so its gradient goes back to them
        dLdA[:, :, 0] += dLdA_padded[:, :, :self.pad].sum(axis=2)
        dLdA[:, :, -1] += dLdA_padded[:, :, self.pad + input_size:].sum(axis=2)
        return dLdA

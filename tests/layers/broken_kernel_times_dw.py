"""BUG: kernel_times. Backward sums dW over the taps once for every tap (a loop nested one level too deep), so dW is exactly K times the truth; y, dX and db are right."""
import correct_functional as correct

forward = correct.forward


def backward(dout, cache):
    dx, dw, db = correct.backward(dout, cache)
    return dx, dw * dw.shape[2], db

"""BUG: batch_mean. Backward divides dw and db by the batch size N (averaging over the batch instead of summing), so dW and db are N times too small; y and dX are right."""
import correct_functional as correct

forward = correct.forward


def backward(dout, cache):
    dx, dw, db = correct.backward(dout, cache)
    N = dout.shape[0]
    dw /= N  # average over the batch
    db = db / N if db is not None else None
    return dx, dw, db

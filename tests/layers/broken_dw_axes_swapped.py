"""BUG: axes_swapped. Backward allocates dw as (C_in, F, K) and accumulates into dw[:, f], so dW comes back with its C_out and C_in axes swapped (the transpose (1, 0, 2) of the right values, wrong shape when C_in != C_out); y, dX and db are right."""
import correct_functional as correct

forward = correct.forward


def backward(dout, cache):
    dx, dw, db = correct.backward(dout, cache)
    # dw[f] of the base is this dw[:, f]: the same sums, in a (C_in, F, K) array
    return dx, dw.transpose(1, 0, 2).copy(), db

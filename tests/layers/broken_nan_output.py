"""BUG: nan_output. Forward fills y starting from NaN (to make missed entries obvious) and its loop stops one output position short, so the last position of y is NaN for every sample and channel; dX, dW and db are right."""
import numpy as np

import correct_functional as correct

backward = correct.backward


def forward(x, w, b, stride, padding=0):
    out, cache = correct.forward(x, w, b, stride, padding)
    out[:, :, -1] = np.nan  # never filled: the loop runs range(L_out - 1), out starts as NaN
    return out, cache

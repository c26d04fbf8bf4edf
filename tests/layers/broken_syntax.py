import numpy as np

class Conv1D:
    def forward(self, x)
        return x

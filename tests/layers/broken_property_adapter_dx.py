"""BUG: sign_flipped in a property-based adapter: backward returns -dX."""
from correct_property_adapter import Conv1d as Correct


class Conv1d(Correct):
    def backward(self, dy):
        return -super().backward(dy)

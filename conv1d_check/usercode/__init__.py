"""Running a user's layer: finding it, driving it in its calling convention, isolating it."""

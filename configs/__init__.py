"""The sweep configs that ship with conv1d-check, installed as `conv1d_check.configs`:
`--config smoke` (or mytorch, full, seed, example) finds them from any folder."""

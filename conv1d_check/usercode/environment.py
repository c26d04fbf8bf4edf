"""The environment a user's layer runs in: the tool's, less what CI systems keep secret.

A layer is code from someone else; a CI job's token in its environment would reach the
layer, and from there its printed output, the results file, the JUnit and the job summary.
A variable whose name matches one of SECRETS (case aside) is dropped, unless it is named in
CONV1D_CHECK_PASS_ENV (comma-separated names), which passes it through.
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase

SECRETS = (
    "*TOKEN",
    "*SECRET",
    "*SECRETS",
    "*PASSWORD",
    "*PASSWD",
    "*_KEY",
    "*CREDENTIALS",
    "ACTIONS_*",  # GitHub Actions' runtime tokens and URLs
    "GITHUB_TOKEN",
    "CI_JOB_TOKEN",
    "CI_JOB_JWT*",
)
PASS = "CONV1D_CHECK_PASS_ENV"
# One thread each: the thread count changes the last bits of large sums.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def secret(name: str) -> bool:
    """Whether `name` looks like a variable a CI system keeps secret."""
    return any(fnmatchcase(name.upper(), pattern) for pattern in SECRETS)


def layer_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """`environ` (the tool's) without its secret-looking variables but those passed through."""
    environ = dict(os.environ if environ is None else environ)
    passed = {name.strip() for name in environ.get(PASS, "").split(",") if name.strip()}
    kept = {k: v for k, v in environ.items() if k in passed or not secret(k)}
    return kept | ONE_THREAD

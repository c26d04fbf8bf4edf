"""Layers that no .py file holds (a notebook's cell, `python -`, a test function's class) reach
their worker by value, and their source lines travel with them."""

import linecache
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

from conv1d_check import InvalidParameter, check
from conv1d_check.usercode import byvalue

SMALL = {"batch": 2, "in_channels": 2, "out_channels": 3, "length": 9}


def scale(x):  # a helper of this module, used by the local class below
    return x * 1.0


def test_a_class_defined_inside_a_function_is_checked_and_passes():
    class Conv1D:  # the seed convention, vectorised: right for every stride
        def __init__(self, in_channel, out_channel, kernal_size, stride):
            self.stride, self.K = stride, kernal_size
            self.W = np.zeros((out_channel, in_channel, kernal_size))
            self.b = np.zeros(out_channel)

        def windows(self):
            L_out = (self.x.shape[2] - self.K) // self.stride + 1
            starts = self.stride * np.arange(L_out)
            return starts[:, None] + np.arange(self.K)  # (L_out, K)

        def __call__(self, x):
            self.x = scale(x)
            return (
                np.einsum("njlk,cjk->ncl", self.x[:, :, self.windows()], self.W) + self.b[:, None]
            )

        def backward(self, dy):
            cols = self.x[:, :, self.windows()]  # (N, C_in, L_out, K)
            dX = np.zeros_like(self.x)
            np.add.at(
                dX,
                (slice(None), slice(None), self.windows()),
                np.einsum("ncl,cjk->njlk", dy, self.W),
            )
            return dy.sum(axis=(0, 2)), np.einsum("ncl,njlk->cjk", dy, cols), dX

    result = check(impl=Conv1D, **SMALL)
    assert result.status == "pass", result.message
    assert result.case.impl.startswith("value:Conv1D@")


def test_a_broken_local_class_fails_and_its_error_names_this_file_and_line():
    class Raises:
        def __init__(self, in_channel, out_channel, kernal_size, stride):
            self.W = np.zeros((out_channel, in_channel, kernal_size))
            self.b = np.zeros(out_channel)

        def __call__(self, x):
            raise ValueError("no forward yet")

        def backward(self, dy):
            raise NotImplementedError

    line = Raises.__call__.__code__.co_firstlineno + 1
    result = check(impl=Raises, **SMALL)
    assert result.status == "error"
    where = f"test_byvalue.py:{line} in {Raises.__call__.__qualname__}"  # the method's full name
    assert result.message == f"ValueError: no forward yet ({where})"


@pytest.mark.parametrize("how", ["stdin", "script"])
def test_a_class_typed_into_python_stdin_or_a_script_is_checked(how, tmp_path):
    """`python -` has no file; `python script.py` has one, which the worker must not import: it
    would run the script's check() again, in the worker (no `if __name__ == "__main__"` here,
    as in most students' scripts), until the timeout."""
    script = textwrap.dedent(
        """
        import conv1d_check
        from conv1d_check.nn.layer import Conv1D as Ours

        class Conv1D(Ours):  # the built-in layer, subclassed in a script
            pass

        print(conv1d_check.check(impl=Conv1D, batch=2, length=9, timeout=20).status)
        """
    )
    path = tmp_path / "script.py"
    path.write_text(script)
    command = [sys.executable, "-"] if how == "stdin" else [sys.executable, str(path)]
    done = subprocess.run(
        command,
        input=script if how == "stdin" else None,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip() == "pass", done.stdout + done.stderr


def test_the_source_of_a_cell_travels_into_the_workers_linecache():
    cell = "class Cell:\n    def forward(self, x):\n        return x + 1\n"
    filename = "<cell-21>"
    linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
    namespace = {"__name__": "__main__"}  # as in a notebook
    exec(compile(cell, filename, "exec"), namespace)
    data = byvalue.payload(byvalue.register(namespace["Cell"]))
    del linecache.cache[filename]

    loaded = byvalue.load(data)
    assert loaded().forward(1) == 2
    assert linecache.getline(filename, 3).strip() == "return x + 1"


def test_a_label_from_another_process_is_refused_clearly():
    with pytest.raises(InvalidParameter, match="runs only in the Python process that gave it"):
        check(impl="value:Conv1D@0123456789ab")


CELL = """
import traceback

import numpy as np


class Cell:
    def __init__(self, in_channel, out_channel, kernal_size, stride):
        self.W = np.zeros((out_channel, in_channel, kernal_size))
        self.b = np.zeros(out_channel)

    def __call__(self, x):
        traceback.print_stack(limit=1)  # the layer shows where it is
        return np.zeros((x.shape[0], self.W.shape[0], 1))

    def backward(self, dy):
        raise NotImplementedError
"""


def test_a_traceback_in_the_worker_shows_the_cells_source_lines():
    filename = "/tmp/ipykernel_21/cell7.py"  # as IPython names a cell; no such file on disk
    linecache.cache[filename] = (len(CELL), None, CELL.splitlines(True), filename)
    namespace = {"__name__": "__main__"}
    exec(compile(CELL, filename, "exec"), namespace)
    result = check(impl=namespace["Cell"], only="y", **SMALL)
    assert result.status == "fail"
    assert f'File "{filename}", line 13, in __call__' in result.layer_output
    assert "traceback.print_stack(limit=1)  # the layer shows where it is" in result.layer_output


def test_a_module_made_in_a_session_goes_by_value():
    source = (Path(__file__).parent / "layers" / "correct_functional.py").read_text()
    module = types.ModuleType("typed_in")  # no file, not in sys.modules: as built in a notebook
    exec(compile(source, "<typed-in>", "exec"), module.__dict__)
    result = check(impl=module, **SMALL)
    assert result.status == "pass", result.message
    assert result.case.impl.startswith("value:typed_in@") and result.convention == "functional"

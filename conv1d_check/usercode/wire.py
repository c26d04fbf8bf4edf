"""Messages between the tool and a layer's worker as data only: nothing read is executed.

A message is a value made of JSON's plain values (dicts, lists, str, numbers, None), numpy
arrays of numbers and bytes (sent as arrays of uint8). On the pipe it is

    12 bytes   b"c1d1", the header's length and the buffers' (big-endian uint32, uint32)
    header     JSON: {"body": value, "arrays": [[dtype, [shape...]], ...]}, where each array
               in the value is written {"__array__": i}, and bytes {"__bytes__": i}
    buffers    the arrays' bytes in C order, one after another

A reader that gets anything else (not JSON, a dtype that is not a plain number type such as
'<f8' or '|b1', buffers of the wrong size, more than `limit` bytes) raises Malformed: the layer's
process wrote to the pipe, and its reply is that case's error. The format takes new fields
freely: a dict of plain values is read back as it was written.
"""

from __future__ import annotations

import json
import os
import re
import struct
from typing import Any

import numpy as np

PREFIX = struct.Struct("!4sII")
MAGIC = b"c1d1"  # what every message starts with: stray bytes are refused at once
HEADER_LIMIT = 64 << 20  # bytes of JSON: exception text is capped well below this
ARRAY, BYTES = "__array__", "__bytes__"
NUMBERS = re.compile(r"[<>|=]?[biufc]\d{1,2}")  # numpy's dtype strings of plain numbers


class Malformed(ValueError):
    """What came down the pipe is not a message of this format."""


def encode(value: Any) -> bytes:
    """`value` as one message. Raises TypeError for an array that is not of numbers."""
    arrays: list[np.ndarray] = []
    header = json.dumps({"body": _plain(value, arrays), "arrays": [_describe(a) for a in arrays]})
    buffers = b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)
    if len(buffers) >= 1 << 32:
        raise ValueError(f"arrays of {len(buffers)} bytes: too large to send")
    data = header.encode()
    return PREFIX.pack(MAGIC, len(data), len(buffers)) + data + buffers


def _plain(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {ARRAY: len(arrays) - 1}
    if isinstance(value, bytes):  # raw bytes travel as an array of uint8
        arrays.append(np.frombuffer(value, np.uint8))
        return {BYTES: len(arrays) - 1}
    if isinstance(value, dict):
        return {str(k): _plain(v, arrays) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _describe(array: np.ndarray) -> list:
    if not NUMBERS.fullmatch(array.dtype.str):
        raise TypeError(f"an array of {array.dtype} is not numbers")
    return [array.dtype.str, list(array.shape)]


def send(fd: int, value: Any) -> None:
    """Write `value` to `fd` as one message (blocking)."""
    view = memoryview(encode(value))
    while view:
        view = view[os.write(fd, view) :]


class Incoming:
    """Bytes read so far from a pipe, cut into messages of at most `limit` bytes of arrays."""

    def __init__(self, limit: int):
        self.buffer = bytearray()
        self.limit = limit

    def message(self) -> tuple[bool, Any]:
        """(True, the first whole message, taken off the buffer), or (False, None) while it
        is still incomplete. Raises Malformed."""
        if len(self.buffer) < PREFIX.size:
            return False, None
        magic, head, rest = PREFIX.unpack_from(self.buffer)
        if magic != MAGIC:
            raise Malformed("bytes that are not a message")
        if head > HEADER_LIMIT or rest > self.limit:
            raise Malformed(f"a message of {head} + {rest} bytes, beyond the limit")
        end = PREFIX.size + head + rest
        if len(self.buffer) < end:
            return False, None
        header = bytes(self.buffer[PREFIX.size : PREFIX.size + head])
        buffers = memoryview(bytes(self.buffer[PREFIX.size + head : end]))
        del self.buffer[:end]
        return True, _decode(header, buffers)


def _decode(header: bytes, buffers: memoryview) -> Any:
    try:
        parsed = json.loads(header)
        arrays, offset = [], 0
        for dtype, shape in parsed["arrays"]:
            if not (isinstance(dtype, str) and NUMBERS.fullmatch(dtype)):
                raise Malformed(f"an array of dtype {dtype!r}, not numbers")
            if not all(isinstance(n, int) and n >= 0 for n in shape):
                raise Malformed(f"an array of shape {shape!r}")
            dt = np.dtype(dtype)
            size = dt.itemsize * int(np.prod(shape, dtype=object))
            chunk = buffers[offset : offset + size]
            if len(chunk) != size:
                raise Malformed("arrays larger than their buffers")
            arrays.append(np.frombuffer(chunk, dt).reshape(shape).copy())
            offset += size
        if offset != len(buffers):
            raise Malformed("buffers beyond the arrays")
        return _restore(parsed["body"], arrays)
    except Malformed:
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as error:
        raise Malformed(f"not a message: {type(error).__name__}") from None


def _restore(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, dict):
        if set(value) == {ARRAY}:
            return arrays[value[ARRAY]]
        if set(value) == {BYTES}:
            return arrays[value[BYTES]].tobytes()
        return {k: _restore(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v, arrays) for v in value]
    return value


def receive(fd: int, limit: int) -> Any:
    """The next message on `fd` (blocking), or None at end of file. Raises Malformed."""
    incoming = Incoming(limit)
    while True:
        done, value = incoming.message()
        if done:
            return value
        data = os.read(fd, 1 << 20)
        if not data:
            return None
        incoming.buffer += data

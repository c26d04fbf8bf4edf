"""Results into a rich table, strict JSON and JUnit XML."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .verify import CaseResult

STYLES = {"pass": "green", "fail": "bold red", "error": "bold magenta", "skip": "yellow"}


def _num(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else str(value)


def case_table(result: CaseResult) -> Table:
    """One row per tensor: shape, the layer's errors against the oracle, torch's own, verdict."""
    table = Table(title=f"{result.id}  ·  layer: {result.convention}", title_justify="left")
    for column in ("tensor", "shape", "max abs", "max rel", "allowed", "mismatched", "worst index"):
        table.add_column(column, justify="left" if column in ("tensor", "shape") else "right")
    table.add_column("torch abs", justify="right")
    table.add_column("result")
    for name, shape in result.shapes.items():
        theirs = _num(result.torch_errors[name].max_abs)
        error = result.errors.get(name)
        if error is None:
            table.add_row(
                name, str(shape), "-", "-", "-", "-", "-", theirs, Text("FAIL", STYLES["fail"])
            )
            continue
        verdict = "pass" if error.passed else "fail"
        table.add_row(
            name,
            str(shape),
            _num(error.max_abs),
            _num(error.max_rel),
            _num(error.allowed),
            f"{error.mismatched}/{error.total}",
            str(tuple(error.worst_index)),
            theirs,
            Text(verdict.upper(), STYLES[verdict]),
        )
    return table


def print_case(result: CaseResult, console: Console, quiet: bool = False) -> None:
    """The table of one case, then its message, diagnosis and what the layer printed."""
    if quiet and result.passed:
        return
    if result.shapes:
        console.print(case_table(result))
    else:
        status = Text(result.status.upper(), STYLES[result.status])
        console.print(Text.assemble(status, f"  {result.id}  ·  layer: {result.convention}"))
    for line in result.message.splitlines():
        console.print(line, markup=False, highlight=False)
    for line in [f"diagnosis: {d}" for d in result.diagnosis] + _where(result):
        console.print(f"  {line}", markup=False, highlight=False)
    for note in result.notes:
        console.print(f"  note: {note}", markup=False, highlight=False)
    if result.layer_output and not result.passed:
        console.print("  the layer printed:", markup=False)
        console.print(result.layer_output.rstrip(), markup=False, highlight=False)


def _where(result: CaseResult) -> list[str]:
    """One line per failing tensor: 'x' marks where it is off along each axis that is
    not off everywhere."""
    lines = []
    for name, axes in result.where.items():
        partial = [f"by {axis} {strip}" for axis, strip in axes.items() if "." in strip]
        everywhere = [axis for axis, strip in axes.items() if "." not in strip]
        if everywhere:
            partial.append(f"in every {' and '.join(everywhere)}")
        lines.append(f"where {name} is off: {'; '.join(partial)}")
    return lines


def print_verdict(results: Sequence[CaseResult], console: Console, seconds: float) -> None:
    counts = Counter(r.status for r in results)
    passed = all(r.passed for r in results)
    head = Text("PASS" if passed else "FAIL", STYLES["pass" if passed else "fail"])
    tally = ", ".join(f"{counts[s]} {s}" for s in ("pass", "fail", "error", "skip") if counts[s])
    console.print(Text.assemble(head, f": {len(results)} case(s), {tally} in {seconds:.2f} s"))


def _strict(value: Any) -> Any:
    """Replace NaN and inf by None, so that the JSON is strict."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def to_json(record: Any) -> str:
    """Strict JSON (non-finite numbers as null) on one line."""
    return json.dumps(_strict(record), allow_nan=False)


def results_json(results: Iterable[CaseResult]) -> str:
    """The --json document: {"passed": bool, "cases": [...]}."""
    cases = [r.to_dict() for r in results]
    return to_json({"passed": all(c["status"] in ("pass", "skip") for c in cases), "cases": cases})


def write_junit(results: Sequence[CaseResult], path: Path, suite: str = "conv1d-check") -> None:
    """One testcase per case; fail and error carry their explanation, skip its reason."""
    counts = Counter(r.status for r in results)
    root = ET.Element("testsuites")
    testsuite = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(counts["fail"]),
        errors=str(counts["error"]),
        skipped=str(counts["skip"]),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        testcase = ET.SubElement(
            testsuite, "testcase", classname=suite, name=result.id, time=f"{result.seconds:.3f}"
        )
        text = "\n".join([result.message, *result.diagnosis]).strip()
        first = text.splitlines()[0] if text else result.status
        if result.status == "fail":
            ET.SubElement(testcase, "failure", message=first).text = text
        elif result.status == "error":
            ET.SubElement(testcase, "error", message=first).text = text
        elif result.status == "skip":
            ET.SubElement(testcase, "skipped", message=first)
        if result.layer_output:
            ET.SubElement(testcase, "system-out").text = result.layer_output
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

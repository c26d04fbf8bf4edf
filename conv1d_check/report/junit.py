"""Results as a JUnit XML report: one testcase per case."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from ..check.result import CaseResult, RunResult, Status
from .text import for_xml

OUTCOMES = {Status.FAIL: "failure", Status.ERROR: "error", Status.SKIP: "skipped"}


def junit_xml(run: RunResult, suite: str = "conv1d-check") -> ET.ElementTree:
    """One testsuite, one testcase per case with its parameters as properties. A failure's or
    an error's `message` starts with the diagnosis; its body is the whole explanation."""
    counts = Counter(r.status for r in run.results)
    suite = for_xml(suite)  # a config's file name may hold anything
    root = ET.Element("testsuites")
    testsuite = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(run.results)),
        failures=str(counts[Status.FAIL]),
        errors=str(counts[Status.ERROR]),
        skipped=str(counts[Status.SKIP]),
        time=_seconds(run.seconds),  # the wall time: cases run side by side with --jobs
    )
    for result in run.results:
        testcase = ET.SubElement(
            testsuite, "testcase", classname=suite, name=result.id, time=_seconds(result.seconds)
        )
        properties = ET.SubElement(testcase, "properties")
        for name, value in result.case.params().items():
            ET.SubElement(properties, "property", name=name, value=for_xml(str(value)))
        if result.status in OUTCOMES:
            outcome = ET.SubElement(testcase, OUTCOMES[result.status], message=_headline(result))
            if result.status != Status.SKIP:
                outcome.text = for_xml("\n".join([*result.diagnosis, result.message]).strip())
        if result.layer_output:
            ET.SubElement(testcase, "system-out").text = for_xml(result.layer_output)
    ET.indent(root)
    return ET.ElementTree(root)


def _seconds(seconds: float) -> str:
    """A time as JUnit readers take it: a finite number (a hand-edited record may say inf)."""
    return f"{seconds:.3f}" if math.isfinite(seconds) else "0.000"


def _headline(result: CaseResult) -> str:
    """The first line a CI page shows: the diagnosis if there is one, else the message's."""
    lines = [*result.diagnosis, *result.message.splitlines()]
    return for_xml(lines[0] if lines else str(result.status))


def write_junit(run: RunResult, path: Path, suite: str = "conv1d-check") -> None:
    junit_xml(run, suite).write(path, encoding="utf-8", xml_declaration=True)

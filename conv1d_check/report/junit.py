"""Results as a JUnit XML report: one testcase per case."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from ..check.result import RunResult, Status
from .text import for_xml

OUTCOMES = {Status.FAIL: "failure", Status.ERROR: "error", Status.SKIP: "skipped"}


def junit_xml(
    run: RunResult, suite: str = "conv1d-check", classname: str = "conv1d-check"
) -> ET.ElementTree:
    """One testsuite (`suite` may name the shard), one testcase per case: `classname` (the
    sweep's name, never the shard's, so that a case's identity is the same however the sweep
    is sharded) and the case's id, its parameters as properties (those set: never "None"). A
    failure's or an error's `message` starts with the diagnosis; its body is the whole
    explanation."""
    counts = Counter(r.status for r in run.results)
    suite, classname = for_xml(suite), for_xml(classname)  # a config's name may hold anything
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
            testsuite,
            "testcase",
            classname=classname,
            name=result.id,
            time=_seconds(result.seconds),
        )
        properties = ET.SubElement(testcase, "properties")
        for name, value in result.case.params().items():
            if value is not None:
                ET.SubElement(properties, "property", name=name, value=for_xml(str(value)))
        if result.status in OUTCOMES:
            message = for_xml(result.headline)
            outcome = ET.SubElement(testcase, OUTCOMES[result.status], message=message)
            if result.status != Status.SKIP:
                outcome.text = for_xml("\n".join([*result.diagnosis, result.message]).strip())
        if result.layer_output:
            ET.SubElement(testcase, "system-out").text = for_xml(result.layer_output)
    ET.indent(root)
    return ET.ElementTree(root)


def _seconds(seconds: float) -> str:
    """A time as JUnit readers take it: a finite number (a hand-edited record may say inf)."""
    return f"{seconds:.3f}" if math.isfinite(seconds) else "0.000"


def write_junit(
    run: RunResult, path: Path, suite: str = "conv1d-check", classname: str = "conv1d-check"
) -> None:
    junit_xml(run, suite, classname).write(path, encoding="utf-8", xml_declaration=True)

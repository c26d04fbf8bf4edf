"""Config files into the cases of a sweep: `[defaults]`, `[[grid]]` and `[[case]]`.

TOML (read with tomllib) and YAML (yaml.safe_load) share one schema:

    [defaults]       any Case field, a single value each
    [[grid]]         the cartesian product of the lists (a single value is fixed),
                     minus the combinations matching an entry of `exclude`
    [[case]]         one case, single values

Keys are Case field names, and `in` and `out` for in_channels and out_channels
(the names of the command line's --in and --out). A value comes from, in
increasing precedence: Case's defaults (the notebook's case), the file's
[defaults], the options given on the command line, the grid's or case's own.

The whole file is checked before anything runs, and every problem is reported
at once (`ConfigError.problems`): unknown keys, wrong types, values out of
range on their own, an explicit case that Conv1d refuses, duplicate ids, an
empty sweep. A grid combination that Conv1d refuses (a kernel longer than the
padded input, 'same' with a stride, groups that do not divide the channels)
is not a mistake in the file: it becomes a skipped entry.
"""

from __future__ import annotations

import difflib
import itertools
import tomllib
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ..check.case import FIELDS, Case, check_field
from ..nn.spec import InvalidParameter

ALIASES = {"in": "in_channels", "out": "out_channels"}
SECTIONS = ("defaults", "grid", "case")


@dataclass(frozen=True)
class Entry:
    """One case of a sweep; `skip` says why Conv1d refuses it (empty when it runs)."""

    case: Case
    skip: str = ""


class ConfigError(Exception):
    """A config file that cannot be run; `problems` lists every problem, one line each."""

    def __init__(self, path: Path, problems: list[str]):
        super().__init__(f"{path}: {len(problems)} problem(s)")
        self.path = path
        self.problems = problems


def read(path: Path) -> Any:
    """The file's data: TOML by tomllib, .yaml/.yml by yaml.safe_load."""
    try:
        if path.suffix == ".toml":
            with path.open("rb") as stream:
                return tomllib.load(stream)
        if path.suffix in (".yaml", ".yml"):
            return yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigError(path, [f"{path}: cannot read it: {error.strerror}"]) from None
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        text = " ".join(str(error).split())
        raise ConfigError(path, [f"{path}: not valid {path.suffix[1:].upper()}: {text}"]) from None
    raise ConfigError(path, [f"{path}: a config file ends in .toml, .yaml or .yml"])


def load(path: Path, overrides: dict[str, Any] | None = None) -> list[Entry]:
    """The file's cases, id-sorted, every one validated; `overrides` are the command line's.

    Raises ConfigError listing every problem in the file.
    """
    return Loader(path).entries(read(path), overrides or {})


class Loader:
    """Collects the problems of one file while it expands it."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []

    def problem(self, where: str, key: str, message: str) -> None:
        line = (
            f"{self.path}: {where}: {key}: {message}" if key else f"{self.path}: {where}: {message}"
        )
        if line not in self.problems:
            self.problems.append(line)

    def entries(self, data: Any, overrides: dict[str, Any]) -> list[Entry]:
        if not isinstance(data, dict):
            raise ConfigError(self.path, [f"{self.path}: the file must hold a table of sections"])
        for key in data:
            if key not in SECTIONS:
                self.problem("top level", str(key), _unknown(key, SECTIONS, "section"))
        defaults, _ = self.fields(data.get("defaults") or {}, "defaults", lists=False)
        base = replace(Case(), **{**defaults, **overrides})  # the valid defaults, to go on
        grids = self.tables(data, "grid")
        cases = self.tables(data, "case")
        found: list[tuple[str, Entry]] = []
        for index, table in enumerate(grids, 1):
            found += self.grid(table, f"grid {index}", base)
        for index, table in enumerate(cases, 1):
            found += self.case(table, f"case {index}", base)
        self.check_ids(found)
        if not self.problems and not found:
            self.problem("top level", "", "no cases: give a [[grid]] or a [[case]]")
        if self.problems:
            raise ConfigError(self.path, self.problems)
        return sorted((entry for _, entry in found), key=lambda entry: entry.case.id)

    def tables(self, data: dict, section: str) -> list[dict]:
        """The [[section]] array of tables (YAML: a list of mappings)."""
        value = data.get(section) or []
        if isinstance(value, list) and all(isinstance(t, dict) for t in value):
            return value
        self.problem(section, "", f"must be an array of tables ([[{section}]] in TOML)")
        return []

    def fields(self, table: Any, where: str, lists: bool) -> tuple[dict[str, Any], bool]:
        """The table's valid keys as Case fields, each value checked on its own, and
        whether all were valid.

        With `lists`, a value may be a list of values (a grid axis).
        """
        if not isinstance(table, dict):
            self.problem(where, "", "must be a table of parameters")
            return {}, False
        fields, keys, broken = {}, {}, False
        for key, value in table.items():
            name = ALIASES.get(key, key)
            if name not in FIELDS:
                self.problem(where, str(key), _unknown(key, (*ALIASES, *FIELDS), "parameter"))
                broken = True
                continue
            if name in keys:
                self.problem(where, str(key), f"{name} is given twice (as {keys[name]} and {key})")
                broken = True
                continue
            keys[name] = key
            wrong = self.wrong_values(name, value, lists)
            for message in wrong:
                self.problem(where, str(key), message)
            if wrong:
                broken = True
            else:
                fields[name] = value
        return fields, not broken

    @staticmethod
    def wrong_values(name: str, value: Any, lists: bool) -> list[str]:
        """What is wrong with the value(s) of field `name`, each taken on its own."""
        values = value if lists and isinstance(value, list) else [value]
        if lists and not values:
            return ["an empty list gives no cases"]
        wrong = []
        for item in values:
            if isinstance(item, list | dict):
                kind = "a list" if isinstance(item, list) else "a table"
                hint = " (lists belong in a [[grid]])" if isinstance(item, list) else ""
                wrong.append(f"{name}={item!r}: {kind} is not a value{hint}")
                continue
            try:
                check_field(name, item)
            except InvalidParameter as error:
                wrong.append(str(error))
        return wrong

    def grid(self, table: dict, where: str, base: Case) -> list[tuple[str, Entry]]:
        table = dict(table)
        exclude = self.excludes(table.pop("exclude", []), where)
        axes, valid = self.fields(table, where, lists=True)
        if not valid or exclude is None:
            return []
        names = list(axes)
        choices = [v if isinstance(v, list) else [v] for v in axes.values()]
        found = []
        for combination in itertools.product(*choices):
            case = replace(base, **dict(zip(names, combination, strict=True)))
            if any(_matches(case, rule) for rule in exclude):
                continue
            try:  # every value passed on its own: what Conv1d refuses here is the combination
                case.spec.output_length(case.length)
            except InvalidParameter as error:
                found.append((where, Entry(case, f"not a valid Conv1d: {error}")))
                continue
            try:
                case.validate()
            except InvalidParameter as error:  # atol without rtol, say
                self.problem(where, error.param, str(error))
                continue
            found.append((where, Entry(case)))
        return found

    def excludes(self, value: Any, where: str) -> list[dict[str, Any]] | None:
        """`exclude`: tables of values (a list matches any of its values); None if broken."""
        if not isinstance(value, list):
            self.problem(where, "exclude", "must be a list of tables")
            return None
        rules = [
            self.fields(rule, f"{where}, exclude {i}", lists=True)
            for i, rule in enumerate(value, 1)
        ]
        return [rule for rule, _ in rules] if all(valid for _, valid in rules) else None

    def case(self, table: dict, where: str, base: Case) -> list[tuple[str, Entry]]:
        values, valid = self.fields(table, where, lists=False)
        if not valid:
            return []
        case = replace(base, **values)
        try:
            case.validate()
        except InvalidParameter as error:
            self.problem(where, error.param, str(error))
            return []
        return [(where, Entry(case))]

    def check_ids(self, found: list[tuple[str, Entry]]) -> None:
        """Two cases with one id: reported once per pair of places, with a count."""
        first: dict[str, str] = {}
        clashes: dict[tuple[str, str], list[str]] = defaultdict(list)
        for where, entry in found:
            case_id = entry.case.id
            if case_id in first:
                clashes[first[case_id], where].append(case_id)
            else:
                first[case_id] = where
        for (one, other), ids in clashes.items():
            places = f"{one} and {other}" if one != other else one
            more = f" (and {len(ids) - 1} more)" if len(ids) > 1 else ""
            self.problem(places, "", f"duplicate id {ids[0]}{more}: a case appears twice")


def _matches(case: Case, rule: dict[str, Any]) -> bool:
    return all(
        getattr(case, name) in (value if isinstance(value, list) else [value])
        for name, value in rule.items()
    )


def _unknown(key: object, known: tuple[str, ...], what: str) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    return f"unknown {what}" + (f" (did you mean {close[0]}?)" if close else "")

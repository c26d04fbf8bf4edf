"""Config files into the cases of a sweep: `[defaults]`, `[[grid]]` and `[[case]]`.

TOML (read with tomllib) and YAML (yaml.safe_load) share one schema:

    [defaults]       any Case field, a single value each
    [[grid]]         the cartesian product of the lists (a single value is fixed),
                     minus the combinations matching an entry of `exclude`
    [[case]]         one case, single values

Keys are Case field names, and `in` and `out` for in_channels and out_channels (the names of
the command line's --in and --out). A value comes from, in increasing precedence: Case's
defaults (the notebook's case), the file's [defaults], the options given on the command line,
the grid's or case's own.

The whole file is checked before anything runs, and every problem is reported at once
(`ConfigError.problems`): unknown keys, wrong types, values out of range on their own, an
explicit case that Conv1d refuses, duplicate ids, an empty sweep. A grid combination that
Conv1d refuses (a kernel longer than the padded input, 'same' with a stride, groups that do not
divide the channels) is not a mistake in the file: it becomes a skipped entry.

A file is refused before it is expanded when it is too big, not UTF-8 text, nested too deeply,
or when its grids make more than `max_cases` combinations.
"""

from __future__ import annotations

import difflib
import itertools
import math
import reprlib
import tomllib
from collections import defaultdict
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from ..check.case import FIELDS, Case, check_field
from ..nn.spec import InvalidParameter

ALIASES = {"in": "in_channels", "out": "out_channels"}
SECTIONS = ("defaults", "grid", "case")
SUFFIXES = (".toml", ".yaml", ".yml")
MAX_BYTES = 1 << 20  # a config of explicit cases at about 100 bytes each: 10,000 of them
MAX_VALUES = 100_000  # values in a file once YAML's aliases are expanded
MAX_CASES = 1_000_000  # combinations, unless --max-cases says otherwise


@dataclass(frozen=True)
class Entry:
    """One case of a sweep; `skip` says why Conv1d refuses it (empty when it runs)."""

    case: Case
    skip: str = ""


class ConfigError(Exception):
    """A config file that cannot be run; `problems` lists every problem, one line each."""

    def __init__(self, path: Path | str, problems: list[str]):
        super().__init__(f"{path}: {len(problems)} problem(s)")
        self.path = path
        self.problems = problems


def shipped() -> dict[str, Path]:
    """The configs that come with the tool, by name: smoke, mytorch, full, seed, example."""
    folder = files("conv1d_check.configs")
    return {
        Path(item.name).stem: Path(str(item))
        for item in folder.iterdir()
        if item.name.endswith(SUFFIXES)
    }


def resolve(name: str | Path) -> Path:
    """The config file `name` stands for: a path, or the name of a shipped config."""
    path = Path(name)
    if path.is_file() or path.suffix in SUFFIXES:  # a folder named mytorch is no config
        return path
    found = shipped()
    if str(name) in found:
        return found[str(name)]
    if path.is_dir():
        what = "a directory, not a config file"
    elif path.exists():  # a FIFO, a device
        what = "not a regular file (a pipe or a device)"
    else:
        what = "no such file"
    raise ConfigError(
        name,
        [f"{name}: {what}, nor a shipped config (those are: {', '.join(sorted(found))})"],
    )


def read(path: Path) -> Any:
    """The file's data: TOML by tomllib, .yaml/.yml by yaml.safe_load."""
    if path.suffix not in SUFFIXES:
        raise ConfigError(path, [f"{path}: a config file ends in .toml, .yaml or .yml"])
    text = _text(path)
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        else:
            data = yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader, bounded
    except (ValueError, yaml.YAMLError) as error:  # ValueError: an integer of 5,000 digits too
        message = " ".join(str(error).split())[:300]
        raise ConfigError(
            path, [f"{path}: not valid {path.suffix[1:].upper()}: {message}"]
        ) from None
    except RecursionError:
        raise ConfigError(path, [f"{path}: nested too deeply to be a config"]) from None
    if _values(data) > MAX_VALUES:
        raise ConfigError(
            path, [f"{path}: holds more than {MAX_VALUES:,} values (YAML aliases expanded)"]
        )
    return data


class _BoundedLoader(yaml.SafeLoader):
    """yaml.safe_load's loader, refusing a file whose merge keys (`<<: *anchor`) copy more
    than MAX_VALUES entries: nested merges grow exponentially where PyYAML does not drop the
    keys merged twice (older releases)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.merged = 0

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        super().flatten_mapping(node)
        self.merged += len(node.value)
        if self.merged > MAX_VALUES:
            raise yaml.YAMLError(f"its merge keys copy more than {MAX_VALUES:,} entries")


def _text(path: Path) -> str:
    """The file as text: at most MAX_BYTES of UTF-8."""
    if path.exists() and not path.is_file() and not path.is_dir():  # a FIFO would block
        raise ConfigError(path, [f"{path}: not a regular file (a pipe or a device)"])
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except IsADirectoryError:
        raise ConfigError(path, [f"{path}: is a directory, not a config file"]) from None
    except OSError as error:
        raise ConfigError(path, [f"{path}: cannot read it: {error.strerror}"]) from None
    if len(data) > MAX_BYTES:
        raise ConfigError(path, [f"{path}: larger than {MAX_BYTES >> 20} MiB: not a config"])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(path, [f"{path}: UTF-16 text, not UTF-8; save it as UTF-8"])
    if b"\0" in data:
        raise ConfigError(path, [f"{path}: a binary file, not a config (it holds NUL bytes)"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            path, [f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8"]
        ) from None


def _values(data: Any) -> int:
    """How many values `data` holds with every shared (aliased) part counted each time it
    appears; counted once per distinct object, without recursion."""
    sizes: dict[int, int] = {}
    stack = [(data, False)]
    while stack:
        item, expanded = stack.pop()
        if not isinstance(item, dict | list) or id(item) in sizes:
            continue
        children = list(item.values()) if isinstance(item, dict) else item
        if expanded:
            sizes[id(item)] = 1 + sum(sizes.get(id(c), 1) for c in children)
        else:
            stack.append((item, True))
            stack.extend((c, False) for c in children)
    return sizes.get(id(data), 1)


def load(
    path: Path, overrides: dict[str, Any] | None = None, max_cases: int = MAX_CASES
) -> list[Entry]:
    """The file's cases, id-sorted, every one validated; `overrides` are the command line's.

    Raises ConfigError listing every problem in the file.
    """
    return Loader(path, max_cases).entries(read(path), overrides or {})


class Loader:
    """Expands one file into entries, collecting every problem on the way: each step returns
    what was valid and adds the rest to `problems`."""

    def __init__(self, path: Path, max_cases: int = MAX_CASES):
        self.path = path
        self.max_cases = max_cases
        self.problems: dict[str, None] = {}  # in order, each once (a set would lose the order)

    def problem(self, where: str, key: str, message: str) -> None:
        line = f"{self.path}: {where}: " + (f"{key}: {message}" if key else message)
        self.problems[line] = None

    def entries(self, data: Any, overrides: dict[str, Any]) -> list[Entry]:
        if not isinstance(data, dict):
            raise ConfigError(self.path, [f"{self.path}: the file must hold a table of sections"])
        for key in data:
            if key not in SECTIONS:
                self.problem("top level", _short(key), _unknown(key, SECTIONS, "section"))
        defaults = self.fields(data.get("defaults") or {}, "defaults", lists=False)
        base = replace(Case(), **{**defaults, **overrides})  # the valid defaults, to go on
        grids, cases = self.tables(data, "grid"), self.tables(data, "case")
        self.refuse_too_many(grids, len(cases))
        found: list[tuple[str, Entry]] = []
        for index, table in enumerate(grids, 1):
            found += self.grid(table, f"grid {index}", base)
        for index, table in enumerate(cases, 1):
            found += self.case(table, f"case {index}", base)
        self.check_ids(found)
        if not self.problems and not found:
            self.problem("top level", "", "no cases: give a [[grid]] or a [[case]]")
        if self.problems:
            raise ConfigError(self.path, list(self.problems))
        return sorted((entry for _, entry in found), key=lambda entry: entry.case.id)

    def tables(self, data: dict, section: str) -> list[dict]:
        """The [[section]] array of tables (YAML: a list of mappings)."""
        value = data.get(section) or []
        if isinstance(value, list) and all(isinstance(t, dict) for t in value):
            return value
        self.problem(section, "", f"must be an array of tables ([[{section}]] in TOML)")
        return []

    def refuse_too_many(self, grids: list[dict], explicit: int) -> None:
        """Count the combinations before any is built; refuse more than max_cases."""
        count = explicit + sum(
            math.prod(
                len(v) if isinstance(v, list) else 1 for k, v in grid.items() if k != "exclude"
            )
            for grid in grids
        )
        if count > self.max_cases:
            raise ConfigError(
                self.path,
                [
                    f"{self.path}: {count:,} combinations, more than the limit of "
                    f"{self.max_cases:,} (--max-cases raises it)"
                ],
            )

    def fields(self, table: Any, where: str, lists: bool) -> dict[str, Any]:
        """The table's valid keys as Case fields, each value checked on its own. With `lists`,
        a value may be a list of values (a grid axis)."""
        if not isinstance(table, dict):
            self.problem(where, "", "must be a table of parameters")
            return {}
        valid, keys = {}, {}
        for key, value in table.items():
            name = ALIASES.get(key, key)
            if name not in FIELDS:
                self.problem(where, _short(key), _unknown(key, (*ALIASES, *FIELDS), "parameter"))
            elif name in keys:
                self.problem(where, str(key), f"{name} is given twice (as {keys[name]} and {key})")
            else:
                keys[name] = key
                wrong = self.wrong_values(name, value, lists)
                for message in wrong:
                    self.problem(where, str(key), message)
                if not wrong:
                    valid[name] = value
        return valid

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
                wrong.append(f"{name}: {kind} is not a value{hint}")
                continue
            try:
                check_field(name, item)
            except InvalidParameter as error:
                wrong.append(str(error))
        return wrong

    def grid(self, table: dict, where: str, base: Case) -> list[tuple[str, Entry]]:
        table = dict(table)
        before = len(self.problems)
        exclude = self.excludes(table.pop("exclude", []), where)
        axes = self.fields(table, where, lists=True)
        if len(self.problems) > before:
            return []
        names = list(axes)
        choices = [v if isinstance(v, list) else [v] for v in axes.values()]
        found = []
        for combination in itertools.product(*choices):
            case = replace(base, **dict(zip(names, combination, strict=True)))
            if not any(_matches(case, rule) for rule in exclude):
                found += self.entry(case, where, refused_is_skip=True)
        return found

    def excludes(self, value: Any, where: str) -> list[dict[str, Any]]:
        """`exclude`: tables of values (a list matches any of its values)."""
        if not isinstance(value, list):
            self.problem(where, "exclude", "must be a list of tables")
            return []
        return [
            self.fields(rule, f"{where}, exclude {i}", lists=True)
            for i, rule in enumerate(value, 1)
        ]

    def case(self, table: dict, where: str, base: Case) -> list[tuple[str, Entry]]:
        before = len(self.problems)
        values = self.fields(table, where, lists=False)
        if len(self.problems) > before:
            return []
        return self.entry(replace(base, **values), where, refused_is_skip=False)

    def entry(self, case: Case, where: str, refused_is_skip: bool) -> list[tuple[str, Entry]]:
        """The case as an entry, or a problem. Every value passed on its own, so what Conv1d
        refuses here is the combination: a grid's is skipped, an explicit case's a problem."""
        try:
            case.spec.output_length(case.length)
        except InvalidParameter as error:
            if refused_is_skip:
                return [(where, Entry(case, f"not a valid Conv1d: {error}"))]
            self.problem(where, error.param, str(error))
            return []
        try:
            case.validate()
        except InvalidParameter as error:  # atol without rtol, a case too large...
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


def _short(value: object) -> str:
    return value if isinstance(value, str) and len(value) <= 40 else reprlib.repr(value)


def _unknown(key: object, known: tuple[str, ...], what: str) -> str:
    close = difflib.get_close_matches(str(key)[:100], known, n=1)
    return f"unknown {what}" + (f" (did you mean {close[0]}?)" if close else "")

"""Saved runs grouped by scale and parameter point, one scenario at a time, for validation.

A directory of runs may hold a sweep over parameter values, or runs made at several scales: the
seeds of one parameter point at one scale are replicates whose spread is seed noise, but runs of
different points or scales are different models, and their mean would describe none of them.
Runs of different scenarios are never compared together. Only each run's provenance.json is
read. A group's label gives its values of the parameters that differ between the groups
(each group's, the first's too: the first group was once labelled by its set alone).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from chistka.errors import ChistkaError


@dataclass
class RunGroup:
    """Runs of one scenario at one scale and one parameter point (replicates over seeds).

    Attributes:
        scenario: the scenario's name.
        scale: agents per represented person.
        label: what sets the group apart: the sweep's parameter set, the scale and its values
            of the parameters that differ between the groups; empty for a lone group.
        paths: the run directories, in order.
        seeds: their seeds.
        point: the sweep's name of the parameter set (`p000`), empty for runs of no sweep.
    """

    scenario: str
    scale: float
    label: str
    paths: list[Path] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    point: str = ""


def provenance_of(path: str | Path) -> dict[str, Any]:
    """A saved run's provenance (its provenance.json), without loading the run.

    Raises:
        ChistkaError: the file cannot be read or holds no JSON object.
    """
    return _provenance(Path(path))


def _provenance(path: Path) -> dict[str, Any]:
    try:
        value = json.loads((path / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChistkaError(f"cannot read {path / 'provenance.json'}: {exc}") from None
    if not isinstance(value, dict):
        raise ChistkaError(f"{path / 'provenance.json'} does not hold a JSON object")
    return value


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested parameters as 'section.field' (list items as 'section[i].field') -> value."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        out = {}
        for index, item in enumerate(value):
            out.update(_flat(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def _point(provenance: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A key of the run's parameter point (its parameters without the scenario's seed)."""
    parameters = _flat(provenance.get("parameters") or {})
    parameters.pop("scenario.seed", None)
    parameters.pop("population.scale", None)
    text = json.dumps(parameters, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest(), parameters


_UNSET = object()
"""A parameter a group's runs do not give (it differs from any value another group gives)."""


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def group_runs(paths: Sequence[Path]) -> list[RunGroup]:
    """The runs grouped by scale and parameter point, in the order they are first met.

    Raises:
        ChistkaError: the runs are of different scenarios (the message names them and a run of
            each), or a provenance.json cannot be read.
    """
    provenances = [_provenance(Path(path)) for path in paths]
    names: dict[str, Path] = {}
    for path, provenance in zip(paths, provenances, strict=True):
        names.setdefault(str(provenance.get("scenario_name") or provenance.get("scenario")), path)
    if len(names) > 1:
        listed = "; ".join(f"{name} ({path})" for name, path in names.items())
        raise ChistkaError(
            f"the runs are of {len(names)} different scenarios ({listed}): validate one "
            "scenario's runs at a time"
        )
    groups: dict[tuple[float, str], RunGroup] = {}
    points: dict[tuple[float, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for path, provenance in zip(paths, provenances, strict=True):
        digest, parameters = _point(provenance)
        scale = float(provenance.get("scale") or 0.0)
        key = (scale, digest)
        if key not in groups:
            ensemble = provenance.get("ensemble") or {}
            point = str(ensemble.get("set_id") or "")
            groups[key] = RunGroup(next(iter(names)), scale, "", point=point)
            points[key] = (parameters, ensemble)
        groups[key].paths.append(Path(path))
        groups[key].seeds.append(int(provenance.get("seed") or 0))
    if len(groups) > 1:
        scales = {key[0] for key in groups}
        every = [parameters for parameters, _ in points.values()]
        names = dict.fromkeys(name for parameters in every for name in parameters)
        varying = [
            name
            for name in names
            if any(other.get(name, _UNSET) != every[0].get(name, _UNSET) for other in every)
        ]
        for key, group in groups.items():
            parameters, ensemble = points[key]
            parts = []
            if ensemble.get("set_id"):
                parts.append(str(ensemble["set_id"]))
            if len(scales) > 1:
                parts.append(f"scale {group.scale:g}")
            parts.extend(
                f"{name}={_shown(parameters[name])}" if name in parameters else f"{name} unset"
                for name in varying
            )
            group.label = ", ".join(parts) or "the parameters of the first run"
    return list(groups.values())


def validate_groups(
    run_dir: str | Path, targets_path: str | Path
) -> list[tuple[RunGroup, pd.DataFrame]]:
    """`chistka.analysis.validate.validate` for each group of runs in `run_dir` apart.

    Returns:
        Each group with its table (the columns of `validate`), in the order of `group_runs`.

    Raises:
        ChistkaError: bad targets, no saved run, or runs of different scenarios.
    """
    from chistka.analysis.saved import find_runs
    from chistka.analysis.validate import compare, read_targets
    from chistka.results import Results

    targets = read_targets(targets_path)
    return [
        (group, compare((Results.load(path) for path in group.paths), targets))
        for group in group_runs(find_runs(run_dir))
    ]

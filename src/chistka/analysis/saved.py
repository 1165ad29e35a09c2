"""Saved runs found on disk: one run's directory, or an ensemble's directory of runs.

A saved run is a directory that `Results.save` (or `chistka.analysis.comparison.save_run`)
wrote, with the files `chistka.results.REQUIRED_RUN_FILES`; `Results.load` reads one back. An
ensemble is a directory whose subdirectories each hold a saved run (`find_runs`); an
experiment's folder holds an ensemble per arm (`experiment_arms`), and a set of variants' (`chistka
experiment run --vary` or `--fits`) an experiment per value (`variant_arms`).
"""

from __future__ import annotations

from pathlib import Path

from chistka.errors import ChistkaError
from chistka.results import REQUIRED_RUN_FILES


def is_run(path: Path) -> bool:
    """Whether `path` is a directory holding one saved run."""
    return path.is_dir() and all((path / name).is_file() for name in REQUIRED_RUN_FILES)


def find_runs(run_dir: str | Path) -> list[Path]:
    """The saved runs in `run_dir`: the directory itself, or its subdirectories (an ensemble).

    Raises:
        ChistkaError: `run_dir` does not exist, is not a folder, or holds no saved run.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ChistkaError(
            f"'{run_dir}' is a file, not a folder: give the folder of a run or an ensemble"
        )
    if not run_dir.is_dir():
        raise ChistkaError(f"run directory '{run_dir}' does not exist")
    if is_run(run_dir):
        return [run_dir]
    runs = sorted(p for p in run_dir.iterdir() if not p.name.startswith(".") and is_run(p))
    if not runs:
        raise ChistkaError(
            f"'{run_dir}' holds no saved run: expected {', '.join(REQUIRED_RUN_FILES)} in it or "
            "in its subdirectories (one per run of an ensemble)"
        )
    return runs


def experiment_arms(run_dir: str | Path) -> list[tuple[str, list[Path]]] | None:
    """Each arm of an experiment's folder with its saved runs; None for any other folder.

    An experiment's folder (`chistka experiment run`: experiment.json, one ensemble per arm)
    holds its runs two levels down, where `find_runs` does not look; its arms are validated
    one by one, as the experiment compares them.

    Raises:
        ChistkaError: experiment.json cannot be read, or an arm has no saved run yet.
    """
    from chistka.analysis.experiment import EXPERIMENT_FILE, read_document

    run_dir = Path(run_dir)
    if not (run_dir / EXPERIMENT_FILE).is_file() or is_run(run_dir):
        return None
    arms = []
    for arm in read_document(run_dir).get("arms", []):
        folder = run_dir / str(arm)
        if not folder.is_dir():
            raise ChistkaError(
                f"{folder}: the experiment's arm '{arm}' has not run; finish the experiment "
                "with `chistka experiment run ... --resume`, or validate an arm that has run"
            )
        arms.append((str(arm), find_runs(folder)))
    return arms


def variant_arms(run_dir: str | Path) -> tuple[str, list[tuple[str, list[Path]]]] | None:
    """A set of variants' folder in words, and each arm of each value's experiment with its runs.

    None for any other folder. A set of variants (`chistka experiment run --vary` or `--fits`:
    variants.json, an experiment per value in v01/, v02/, ...) holds its runs three levels
    down; each arm of each value is validated apart, named by its folder ('v01/baseline', which
    `chistka validate` also takes alone). Such a folder was refused as holding no saved run.

    Raises:
        ChistkaError: variants.json cannot be read, or a value's experiment or an arm of it has
            not run.
    """
    from chistka.analysis.variants import VARIANTS_FILE, read_variants_document, variant_axis

    run_dir = Path(run_dir)
    if not (run_dir / VARIANTS_FILE).is_file() or is_run(run_dir):
        return None
    document = read_variants_document(run_dir)
    what, labels = variant_axis(document)
    folders = [str(folder) for folder in document.get("folders", [])]
    labels = [str(label) for label in labels]
    arms = []
    for folder, label in zip(folders, labels, strict=True):
        found = experiment_arms(run_dir / folder)
        if found is None:
            value = label if what == "fit" else f"{what} = {label}"
            raise ChistkaError(
                f"{run_dir / folder}: the experiment at {value} has not run; finish the set with "
                "`chistka experiment run ... --resume`, or validate a value that has run"
            )
        arms.extend((f"{folder}/{arm}", paths) for arm, paths in found)
    kind = "fits" if what == "fit" else f"values of {what}"
    values = ", ".join(f"{folder}: {label}" for folder, label in zip(folders, labels, strict=True))
    return f"a set of {len(folders)} {kind} ({values})", arms

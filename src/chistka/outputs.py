"""Where chistka writes: the one rule of every command's --out folder, and atomic writes.

chistka never deletes or mixes what it did not write. Every command that writes a folder (run,
sweep, experiment run, sensitivity, compare, calibrate) checks it with `check_out` before
anything runs: a new path is created, an empty folder used, and a folder holding the same
command's earlier output (known by a file chistka wrote, not by a name alone) replaced, or
finished with --resume for a sweep or an experiment. Refused, with a message naming --out:
a file, a link, the current directory or one above it, a folder holding another command's
output, and one holding files chistka did not write; ``--force`` (every such command offers
it) writes beside those files, deleting and overwriting none of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from chistka.errors import ChistkaError

PROVENANCE_FILE = "provenance.json"
"""The file that marks a directory as a run written by chistka."""

RUN_FILES = frozenset(
    {
        "daily.parquet",
        "events.parquet",
        "campaigns.parquet",
        "citizen_deaths.parquet",
        "comparison.csv",
        "operations.csv",
        "limit_requests.csv",
        "summary.json",
        PROVENANCE_FILE,
        "population.json",
        "report.html",
    }
)
"""Every file `Results.save` may write into a run's directory."""

_DIRECTORY_MODE = 0o777
"""Mode of a written directory before the umask (mkdtemp's 0o700 would hide it from others)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def written_by_chistka(provenance: Path) -> bool:
    """Whether `provenance` is a provenance.json that chistka wrote (not a file of that name).

    chistka's records its version and, under "environment", the packages it ran with, itself
    among them (`Sim.run`, `chistka.provenance.environment`). Before the environment was
    recorded (up to commit 3c8468b) it held the version, the seed and, under "parameters",
    the whole scenario with its [scenario] table: such a run is chistka's too, so that `run
    --out` replaces it rather than refusing the folder as one of others' files.
    """
    try:
        data = json.loads(provenance.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(data, dict) or "package_version" not in data:
        return False
    environment = data.get("environment")
    packages = environment.get("packages") if isinstance(environment, dict) else None
    if isinstance(packages, dict) and "chistka" in packages:
        return True
    parameters = data.get("parameters")
    return (
        environment is None
        and "seed" in data
        and isinstance(parameters, dict)
        and isinstance(parameters.get("scenario"), dict)
    )


def _optuna_study(path: Path) -> bool:
    """Whether `path` is an SQLite database holding Optuna's table of studies (calibrate's).

    A file is known by what chistka wrote into it, not by its name: a text file called study.db
    made calibrate fail with a database error and other commands refuse its folder as a
    calibration's (QA of session 46).
    """
    try:
        with path.open("rb") as existing:
            if existing.read(16) != b"SQLite format 3\x00":
                return False
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'studies'"
            ).fetchone()
    except (OSError, sqlite3.Error):
        return False
    return found is not None


def _holding(mark: str) -> Callable[[Path], bool]:
    """Whether a file holds `mark`: how chistka knows a file it wrote by its text."""
    return lambda path: _holds_mark(path, mark)


@dataclass(frozen=True)
class Output:
    """What one command writes into its --out folder, and how chistka knows it there.

    Attributes:
        command: the command as typed, e.g. "chistka run".
        whose: its output in messages, e.g. "a run's".
        files: each file it writes at the folder's top, with the test that it wrote the file
            there (None: the name alone, once a key file says the folder is this output).
        keys: the files any one of which, passing its test, marks the folder as this output.
        resumed: made run by run and finished with --resume rather than replaced (sweep,
            experiment run): a folder of its output is its own, subfolders and all.
    """

    command: str
    whose: str
    files: Mapping[str, Callable[[Path], bool] | None]
    keys: tuple[str, ...]
    resumed: bool = False


_JSON_MARK = '"package_version": '
"""What every JSON plan chistka writes (plan.json, experiment.json, variants.json) holds."""

SENSITIVITY_MARKS = {
    "sensitivity.html": "<title>chistka sensitivity: ",
    "sensitivity.csv": "observable,parameter,",
}
"""What marks sensitivity.html and sensitivity.csv as written by `chistka sensitivity`."""

COMPARE_MARKS = {
    "compare.html": "<title>chistka compare: ",
    "differences.csv": "observable,label,record,a_mean",
}
"""What marks compare.html and differences.csv as written by `chistka compare`."""

CALIBRATE_MARKS = {
    "fitted.toml": "# Fitted by chistka calibrate on ",
    "calibration.html": "<title>chistka calibrate: ",
}
"""What marks fitted.toml and calibration.html as written by `chistka calibrate`."""

STUDY_FILE = "study.db"
"""The calibration's Optuna study in its --out folder (kept: a later call resumes it)."""

PLAN_FILE = "plan.json"
"""The file that marks a directory as an ensemble (`chistka sweep`)."""

EXPERIMENT_FILE = "experiment.json"
"""The file that marks a folder as an experiment (`chistka experiment run`)."""

VARIANTS_FILE = "variants.json"
"""The file that marks a folder as an experiment's variants (`experiment run --vary/--fits`)."""

RUN = Output(
    "chistka run",
    "a run's",
    {name: written_by_chistka if name == PROVENANCE_FILE else None for name in RUN_FILES},
    (PROVENANCE_FILE,),
)
SWEEP = Output(
    "chistka sweep",
    "an ensemble's",
    {PLAN_FILE: _holding(_JSON_MARK), "ensemble.html": None},
    (PLAN_FILE,),
    resumed=True,
)
EXPERIMENT = Output(
    "chistka experiment run",
    "an experiment's",
    {EXPERIMENT_FILE: _holding(_JSON_MARK), "experiment.html": None},
    (EXPERIMENT_FILE,),
    resumed=True,
)
VARIANTS = Output(
    "chistka experiment run --vary",
    "an experiment's variants'",
    {VARIANTS_FILE: _holding(_JSON_MARK), "variants.html": None},
    (VARIANTS_FILE,),
    resumed=True,
)
SENSITIVITY = Output(
    "chistka sensitivity",
    "a sensitivity analysis's",
    {name: _holding(mark) for name, mark in SENSITIVITY_MARKS.items()},
    tuple(SENSITIVITY_MARKS),
)
COMPARE = Output(
    "chistka compare",
    "a comparison's",
    {name: _holding(mark) for name, mark in COMPARE_MARKS.items()},
    tuple(COMPARE_MARKS),
)
CALIBRATE = Output(
    "chistka calibrate",
    "a calibration's",
    {**{name: _holding(mark) for name, mark in CALIBRATE_MARKS.items()}, STUDY_FILE: _optuna_study},
    (*CALIBRATE_MARKS, STUDY_FILE),
)
OUTPUTS = (RUN, SWEEP, EXPERIMENT, VARIANTS, SENSITIVITY, COMPARE, CALIBRATE)
"""Every command that writes a folder, as `check_out` knows their outputs."""


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _holds_output(folder: Path, output: Output) -> bool:
    """Whether `folder` holds an earlier output of `output`'s command (one of its key files)."""
    for name in output.keys:
        path = folder / name
        test = output.files[name]
        if _plain_file(path) and (test is None or test(path)):
            return True
    return False


def _foreign_entries(folder: Path, output: Output) -> tuple[list[str], list[str]]:
    """(clashes, foreign): the names in `folder` that are not `output`'s earlier files.

    Clashes bear the name of one of its files but were not written by it (never overwritten,
    even with --force); the foreign are all else. A file known by its name alone is the
    command's only where the folder holds its output (`_holds_output`).
    """
    earlier = _holds_output(folder, output)
    clashes, foreign = [], []
    for name in sorted(entry.name for entry in folder.iterdir()):
        path = folder / name
        if name not in output.files:
            foreign.append(name)
            continue
        test = output.files[name]
        if not _plain_file(path) or not (earlier if test is None else test(path)):
            clashes.append(name)
    return clashes, foreign


def _shown(names: list[str]) -> str:
    listed = ", ".join(names[:3])
    return listed + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def check_out(
    target: str | Path,
    output: Output = RUN,
    *,
    force: bool = False,
    resume: bool = False,
    instead: Path | None = None,
) -> list[str]:
    """Refuse an --out folder the command could use only by deleting or mixing others' data.

    The one rule of every command that writes a folder, checked before anything runs: a path
    that does not exist is created; an empty folder is used; a folder holding this command's
    earlier output is replaced (finished with `resume`, where the output is `resumed`).
    Refused: a file or a link, the current directory or one above it, a folder holding
    another command's output (even with `force`: the two would be mixed), a file of the
    name of one of the command's own that it did not write (never overwritten), and, without
    `force`, files chistka did not write (with it the output goes beside them, and nothing
    of theirs is deleted). `instead` is a folder the messages offer (the default).

    Returns:
        The names in the folder that are not the command's (empty but with `force`).

    Raises:
        ChistkaError: naming --out, what the folder holds and what to give instead; nothing
            was written.
    """
    path = Path(target).expanduser()
    resolved = path.resolve()
    here = Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise ChistkaError(
            f"--out {target}: is the current directory or one above it; give a new folder, "
            "e.g. --out out/run1"
        )
    if not path.exists() and not path.is_symlink():
        check_creatable(path)
        return []
    if path.is_symlink():
        raise ChistkaError(
            f"--out {target}: is a link; chistka will not write through it (give the folder it "
            "points to, or a new folder)"
        )
    if not path.is_dir():
        raise ChistkaError(
            f"--out {target}: exists and is not a folder; chistka will not replace it "
            "(give a new folder)"
        )
    new = f" (e.g. --out {instead})" if instead is not None and instead != path else ""
    for other in OUTPUTS:
        if other is not output and _holds_output(path, other):
            found = [name for name in sorted(other.files) if (path / name).exists()]
            raise ChistkaError(
                f"--out {target}: holds {_shown(found)}, {other.whose} output "
                f"({other.command}); {output.command} does not write its files among another "
                f"command's, and wrote nothing: give a new or empty folder{new}"
            )
    if output.resumed and _holds_output(path, output):
        if not resume:
            raise ChistkaError(
                f"--out {target}: already holds {output.whose} output ({output.keys[0]}); pass "
                "--resume to finish it, or give a new or empty folder"
            )
        return []
    clashes, foreign = _foreign_entries(path, output)
    if clashes:
        raise ChistkaError(
            f"--out {target}: holds {_shown(clashes)}, of the name of a file of "
            f"{output.whose} output but not written by {output.command}; give a new folder "
            "(chistka will not overwrite it)"
        )
    if foreign and not force:
        raise ChistkaError(
            f"--out {target}: holds {_shown(foreign)}, which chistka did not write; give a new "
            f"or empty folder{new}, or --force to write beside them (nothing there is deleted)"
        )
    return foreign


@contextlib.contextmanager
def atomic_directory(target: Path, *, force: bool = False, output: Output = RUN) -> Iterator[Path]:
    """A temporary directory that becomes `target` only if the block finishes without error.

    On error the temporary directory is removed and `target` is left as it was (or absent). An
    existing `target` must pass `check_out` for `output` (checked before the block runs): an
    earlier output is replaced as a whole; with `force`, a folder holding other things
    receives the new files one by one, the earlier output's files the new one does not write
    are removed, and its other contents stay. The written directory gets
    the usual permissions (0o777 less the umask), so that colleagues can read it.

    Raises:
        ChistkaError: the target is not acceptable (see `check_out`).
    """
    target = Path(target)
    beside = bool(check_out(target, output, force=force))
    earlier = [
        name
        for name in output.files
        if beside and _holds_output(target, output) and _plain_file(target / name)
    ]
    parent = target if beside else target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        yield tmp
        os.chmod(tmp, _DIRECTORY_MODE & ~_umask())
        if beside:
            written = sorted(tmp.iterdir())
            for entry in written:
                os.replace(entry, target / entry.name)
            tmp.rmdir()
            # the earlier output's files the new one does not write (a run without --no-report
            # left its report.html beside the new run's files: QA of session 46)
            for name in set(earlier) - {entry.name for entry in written}:
                (target / name).unlink(missing_ok=True)
        elif target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "previous")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def staged_files(target: Path) -> Iterator[Path]:
    """A temporary folder whose files go into `target` only if the block finishes without error.

    For a command that writes a few files into a folder that may hold others' (`chistka
    compare`): a new `target` is the temporary folder renamed; into an existing one each file
    goes by os.replace, so a reader sees the old file or the new, never half of one, and the
    folder's other files stay. On error the temporary folder is removed and `target` is left as
    it was (or absent): nothing partial is left behind, as `atomic_directory` does for a run.
    """
    target = Path(target)
    exists = target.is_dir()
    parent = target if exists else target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        yield tmp
        if exists:
            for entry in sorted(tmp.iterdir()):
                os.replace(entry, target / entry.name)
            tmp.rmdir()
        else:
            os.chmod(tmp, _DIRECTORY_MODE & ~_umask())
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


_MARK_SEARCHED = 16 * 2**20
"""Bytes of an existing file searched for its mark (a larger file is not chistka's)."""


def check_output_file(path: str | Path, mark: str, writer: str) -> None:
    """Refuse to replace a file that `writer` (a chistka command) did not write.

    Accepted: a path that does not exist, or a plain file holding `mark` (an earlier output of
    the same command, which is replaced).

    Raises:
        ChistkaError: the path is a link, a folder or another non-file, or a file without `mark`.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    if path.is_symlink() or not path.is_file():
        raise ChistkaError(
            f"{path}: exists and is not a plain file; chistka will not replace it (give another "
            "--out folder)"
        )
    if not _holds_mark(path, mark):
        raise ChistkaError(
            f"{path}: exists and was not written by {writer}; chistka will not overwrite it "
            "(give another --out folder, or move the file)"
        )


def _holds_mark(path: Path, mark: str) -> bool:
    """Whether the file at `path` holds `mark` in its first `_MARK_SEARCHED` bytes."""
    try:
        with path.open("rb") as existing:
            return mark.encode("utf-8") in existing.read(_MARK_SEARCHED)
    except OSError:
        return False


def check_creatable(target: str | Path, option: str = "--out") -> None:
    """Refuse an output path that cannot be created, before any simulation runs.

    The nearest part of the path that exists must be a folder this user can make a folder in
    (tried with an empty hidden folder, removed at once): a file there, a read-only file system
    or a virtual one such as /proc would otherwise fail only when the results are written.

    Raises:
        ChistkaError: a part of the path is a file, or no folder can be made where it would be.
    """
    path = Path(target).expanduser().absolute()
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ChistkaError(
            f"{option} {target}: {existing} is a file, so the folder cannot be made there; "
            "give another folder"
        )
    try:
        trial = tempfile.mkdtemp(prefix=".chistka-check-", dir=existing)
    except OSError as exc:
        raise ChistkaError(
            f"{option} {target}: chistka cannot make a folder in {existing} "
            f"({exc.strerror or exc}); give a folder you can write in"
        ) from None
    os.rmdir(trial)


def write_atomic(path: Path, text: str, mark: str, writer: str) -> Path:
    """Write `text` to `path` through a temporary file beside it and os.replace.

    A reader sees the old file or the new one, never half of one; a failure leaves the old file
    (or none) and no temporary file. The file gets the usual permissions (0o666 less the umask).

    Raises:
        ChistkaError: `path` is not replaceable: it holds something `writer` did not write (see
            `check_output_file`).
    """
    check_output_file(path, mark, writer)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as temporary:
            temporary.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(name, 0o666 & ~mask)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return path

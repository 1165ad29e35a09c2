"""Where chistka writes: output targets that are safe to use, and atomic directory writes.

chistka never deletes what it did not write. An output target is accepted when it does not
exist, is an empty folder, or holds an earlier chistka output of the same kind (recognised by
a provenance.json that chistka wrote, not by the name alone, or plan.json for an ensemble) and
nothing else; such an earlier output is
replaced. Anything else (a file, a folder holding other things, the current directory or one
above it) is refused before any simulation starts. With ``force`` a run is written into a folder
that holds other things: the run's files are added beside them, an earlier run's files of the
same names are replaced, and nothing that is not a chistka output is deleted or overwritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
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
    among them (`Sim.run`, `chistka.provenance.environment`).
    """
    try:
        data = json.loads(provenance.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(data, dict) or "package_version" not in data:
        return False
    environment = data.get("environment")
    packages = environment.get("packages") if isinstance(environment, dict) else None
    return isinstance(packages, dict) and "chistka" in packages


def _foreign_entries(target: Path, marks: Mapping[str, str] | None = None) -> list[str]:
    """Names in `target` that are not files of an earlier output (all of them if it is none).

    An earlier run is recognised by a provenance.json chistka wrote, not by the name alone:
    before session 39 any file of that name made the folder's report.html, summary.json ...
    count as chistka's, and `run --out` replaced them. With `marks` (each output file's name
    and the text that marks it as its command's, as `check_output_file` reads them) the
    output is another command's: its files are those holding their mark.
    """
    names = sorted(entry.name for entry in target.iterdir())
    if marks is not None:
        return [
            name
            for name in names
            if name not in marks
            or (target / name).is_symlink()
            or not (target / name).is_file()
            or not _holds_mark(target / name, marks[name])
        ]
    provenance = target / PROVENANCE_FILE
    if PROVENANCE_FILE not in names or provenance.is_symlink() or not provenance.is_file():
        return names
    if not written_by_chistka(provenance):
        return names
    return [
        name
        for name in names
        if name not in RUN_FILES or not (target / name).is_file() or (target / name).is_symlink()
    ]


def _shown(names: list[str]) -> str:
    listed = ", ".join(names[:3])
    return listed + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def check_run_target(
    target: str | Path,
    *,
    force: bool = False,
    marks: Mapping[str, str] | None = None,
    what: str = "the run",
) -> None:
    """Refuse an output directory for a run that chistka could only use by deleting others' data.

    Accepted: a path that does not exist, an empty folder, or a folder holding an earlier run
    and nothing else (it is replaced); with `force`, also a folder holding other things (the run
    is written beside them; nothing of theirs is deleted). With `marks` the same rules hold for
    another command's output (`what`, e.g. "the sensitivity analysis"): its files are the names
    of `marks`, each an earlier output where it holds its mark.

    Raises:
        ChistkaError: the target is a file, the current directory or one above it, a folder
            holding a file of the name of a run's output that chistka did not write, or (without
            `force`) a folder holding things that are not an earlier run's files; the message
            names what is there and what to do.
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
        return
    if path.is_symlink():
        raise ChistkaError(
            f"--out {target}: is a link; chistka will not replace it (give the folder it points "
            "to, or a new folder)"
        )
    if not path.is_dir():
        raise ChistkaError(
            f"--out {target}: exists and is not a folder; chistka will not replace it "
            "(give a new folder)"
        )
    foreign = _foreign_entries(path, marks)
    own_names = RUN_FILES if marks is None else marks
    clashes = [name for name in foreign if name in own_names]
    if clashes:
        raise ChistkaError(
            f"--out {target}: holds {_shown(clashes)}, of the name of a file of {what} but not "
            "written by chistka; give a new folder (chistka will not overwrite it)"
        )
    if foreign and not force:
        raise ChistkaError(
            f"--out {target}: holds {_shown(foreign)}, which chistka did not write; give a new "
            f"folder, or --force to write {what} beside them (nothing there is deleted)"
        )


@contextlib.contextmanager
def atomic_directory(
    target: Path,
    *,
    force: bool = False,
    marks: Mapping[str, str] | None = None,
    what: str = "the run",
) -> Iterator[Path]:
    """A temporary directory that becomes `target` only if the block finishes without error.

    On error the temporary directory is removed and `target` is left as it was (or absent). An
    existing `target` must be acceptable to `check_run_target` (checked before the block runs,
    with `marks` and `what` for another command's output): an earlier output is replaced as a
    whole; with `force`, a folder holding other things receives the new files one by one, and
    its other contents stay. The written directory gets the usual permissions (0o777 less the
    umask), so that colleagues can read it.

    Raises:
        ChistkaError: the target is not acceptable (see `check_run_target`).
    """
    target = Path(target)
    check_run_target(target, force=force, marks=marks, what=what)
    beside = target.is_dir() and bool(_foreign_entries(target, marks))
    parent = target if beside else target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        yield tmp
        os.chmod(tmp, _DIRECTORY_MODE & ~_umask())
        if beside:
            for entry in sorted(tmp.iterdir()):
                os.replace(entry, target / entry.name)
            tmp.rmdir()
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

"""Whose output a folder holds: compare and calibrate refuse to write among another command's.

`chistka compare` and `chistka calibrate` accept an output folder holding other files (a user's
notes, a calibration's study), unlike `run` and `sensitivity` (`outputs.check_run_target`), but
not one holding a run's, an ensemble's, an experiment's, a calibration's or a sensitivity
analysis's output, whose files theirs would mix with.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from chistka.analysis.calibrate import OUTPUTS as CALIBRATE_OUTPUTS
from chistka.analysis.calibrate import STUDY_FILE
from chistka.analysis.ensemble import PLAN_FILE
from chistka.analysis.experiment import EFFECTS_FILE, EXPERIMENT_FILE, FIT_FILE, OUTCOMES_FILE
from chistka.analysis.sensitivity import SENSITIVITY_MARKS
from chistka.errors import ChistkaError
from chistka.outputs import RUN_FILES
from chistka.report.ensemble import REPORT_FILE as ENSEMBLE_REPORT

OTHER_OUTPUTS: dict[str, str] = {
    **dict.fromkeys(sorted(RUN_FILES), "a run's (chistka run)"),
    PLAN_FILE: "an ensemble's (chistka sweep)",
    ENSEMBLE_REPORT: "an ensemble's (chistka sweep)",
    **dict.fromkeys(
        (EXPERIMENT_FILE, OUTCOMES_FILE, EFFECTS_FILE, FIT_FILE, "experiment.html"),
        "an experiment's (chistka experiment run)",
    ),
    **dict.fromkeys(
        ("variants.json", "variants.csv", "variants.html", "spread.csv"),
        "an experiment's (chistka experiment run --vary)",
    ),
    **dict.fromkeys((*CALIBRATE_OUTPUTS, STUDY_FILE), "a calibration's (chistka calibrate)"),
    **dict.fromkeys(SENSITIVITY_MARKS, "a sensitivity analysis's (chistka sensitivity)"),
}
"""Files that mark a folder as another command's output, with whose: compare and calibrate
refuse such a folder as --out, since their files would be mixed with that output's (a later
`run --out` of a run's folder, for one, then refuses the folder, and its report no longer says
what it holds)."""


def check_not_another_output(
    target: Path,
    instead: Path,
    option: str = "--out",
    command: str = "compare",
    own: Collection[str] = (),
) -> None:
    """Refuse an output folder that holds another command's output (`OTHER_OUTPUTS`).

    For `chistka compare` and `chistka calibrate`, whose folders may hold other files (a
    calibration's study, a user's notes) but would mix their files with a run's or an
    ensemble's. `instead` is the folder the message offers in its place (the command's
    default); `own` are the command's own files, which an earlier call left there.

    Raises:
        ChistkaError: the folder holds one of those files; the message names the first few and
            whose output they are, and says what to give instead.
    """
    if not target.is_dir():
        return
    found = sorted(
        entry.name
        for entry in target.iterdir()
        if entry.name in OTHER_OUTPUTS and entry.name not in own
    )
    if not found:
        return
    shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
    whose = OTHER_OUTPUTS[found[0]]
    other = f"e.g. {option} {instead}" if instead != target else f"with {option}"
    raise ChistkaError(
        f"{option} {target}: holds {shown}, {whose} output; chistka {command} does not write "
        f"its files among another command's, and wrote nothing: give a new or empty folder, "
        f"{other}"
    )

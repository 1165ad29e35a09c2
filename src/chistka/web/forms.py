"""The web app's requests checked before anything runs: a run's form or JSON, an experiment's.

A bad field is refused with a `RequestError` naming it and what is allowed (422 on the page or
under /api/), as the command line refuses it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from chistka.errors import ChistkaError
from chistka.web.experiments import Designs

MAX_SEED = 2**63 - 1
"""The largest seed a scenario takes (`RunInfo.seed`)."""


MAX_SEEDS = 64
"""The most seeds one submission runs (an ensemble of great-terror at 64 seeds takes about an
hour on this 2-core machine)."""


ECHO_CHARACTERS = 80
"""The most characters of one word a message echoes: a value sent is cut there, with '…'.

One 5,000-character parameter name, echoed whole, made the page 28,000 px wide."""


LONG_WORD = re.compile(rf"\S{{{ECHO_CHARACTERS + 1},}}")
TRAILING = re.compile(r"['\")\]:;,.]{1,3}$")
CLI_OPTION = re.compile(r"--(set|without|vary|scale|seeds|seed)\b")
FORM_PHRASES = (
    ("(list all its values in one set)", "(give it once: the field takes one value per parameter)"),
    (
        "PARAMETER=VALUE[,VALUE...], e.g. set review.noise_sd=0.5,1.0",
        "PARAMETER=VALUE, e.g. review.noise_sd=0.5",
    ),
    ("e.g. vary ", "e.g. "),
)
"""The command line's advice that reads wrong under a form's field, and the form's words."""


def form_words(message: str) -> str:
    """A message in the form's words: its fields, not the command line's options, named.

    '--set x=1: ...' reads 'set x=1: ...' ('--without', '--vary', '--scale' likewise), the
    advice of a parameter given twice names the field, not '--set', and a word longer than
    `ECHO_CHARACTERS` (a value sent, echoed) is cut, with '…' (its closing quote kept).
    """
    message = CLI_OPTION.sub(r"\1", message)
    for command_line, form in FORM_PHRASES:
        message = message.replace(command_line, form)

    def cut(match: re.Match[str]) -> str:
        closing = TRAILING.search(match[0])
        return match[0][:ECHO_CHARACTERS] + "…" + (closing[0] if closing else "")

    return LONG_WORD.sub(cut, message)


class RequestError(ValueError):
    """A request's field holds a value it does not allow (and `more`: other fields that do).

    The message is in the form's words (`form_words`), as both forms and the API give it.
    """

    def __init__(self, field: str, message: str, more: list[RequestError] | None = None) -> None:
        message = form_words(message)
        super().__init__(message)
        self.field = field
        self.message = message
        self.more = list(more or [])

    @property
    def every(self) -> list[RequestError]:
        """This field's error and those of the other fields refused in the same request."""
        return [self, *self.more]


EXPERIMENT_FIELDS = ("experiment", "seeds", "scale", "set", "vary")
"""The experiment form's fields in the form's order, the order its errors are given in."""

RUN_FIELDS = ("scenario", "seed", "seeds", "scale", "set", "without")
"""The run form's fields in the form's order, the order its errors are given in."""


def refuse(errors: list[RequestError], order: tuple[str, ...] = EXPERIMENT_FIELDS) -> None:
    """Raise the errors of several fields as one RequestError (in the form's order), if any."""
    if errors:
        first, *more = sorted(errors, key=lambda e: order.index(e.field))
        raise RequestError(first.field, first.message, more)


def check_request(
    scenario: str,
    seed: str,
    scale: str,
    changes: list[str] | None = None,
    removed: list[str] | None = None,
    seeds: str = "",
) -> tuple[str, int | None, float | None, list[str], list[str], int]:
    """The run a form or JSON body asks for: a built-in scenario, a seed, a scale, a what-if.

    Blank seed and scale mean the scenario's own; `changes` are `PARAM=VALUE` settings, as
    `chistka run --set` takes them (e.g. `sentencing.album_death_share=0.3`); `removed` names
    decisions to run without, as `chistka run --without` takes them (e.g.
    `operations.order_00447`); `seeds` how many seeds, counted up from the seed (blank: one
    run; more: an ensemble, as `chistka sweep --seeds`). Raises RequestError naming the first
    bad field in the form's order, with the others (`RequestError.every`): a refused `without`
    left `set` and `scale` unchecked, a refused `set` the scale.
    """
    from chistka.commands.preflight import check_scale
    from chistka.commands.sweep import apply_set_options
    from chistka.scenario import builtin_scenarios, load_scenario
    from chistka.scenario.whatif import without

    errors: list[RequestError] = []

    def field(check: Callable[[], Any]) -> Any:
        try:
            return check()
        except RequestError as error:
            errors.append(error)
            return None

    names = list(builtin_scenarios())
    if scenario not in names:
        errors.append(
            RequestError(
                "scenario", f"scenario must be one of {', '.join(names)} (got {scenario!r})"
            )
        )
    chosen_seed = field(lambda: seed_value(seed))
    chosen_scale = field(lambda: scale_field(scale))
    chosen_seeds = field(lambda: seeds_field(seeds)) or 1
    if chosen_seed is not None and chosen_seed + chosen_seeds - 1 > MAX_SEED:
        errors.append(
            RequestError(
                "seeds",
                f"the seeds count up from seed {chosen_seed}, so at most "
                f"{MAX_SEED - chosen_seed + 1} of them (got {chosen_seeds})",
            )
        )
    chosen_removed = [line.strip() for line in removed or [] if line.strip()]
    chosen_changes = [line.strip() for line in changes or [] if line.strip()]
    if scenario in names:  # the what-if and the scale's check need the scenario
        loaded = load_scenario(scenario)
        try:
            loaded = without(loaded, chosen_removed)
        except ChistkaError as exc:
            errors.append(RequestError("without", str(exc)))
        try:  # checked without the decisions left out where those were refused
            one_value_each(chosen_changes)
            loaded = apply_set_options(loaded, chosen_changes or None)
        except RequestError as error:
            errors.append(error)
        except ChistkaError as exc:
            errors.append(RequestError("set", str(exc)))
        if chosen_scale is not None:
            try:
                check_scale(loaded, chosen_scale)
            except ChistkaError as exc:
                errors.append(RequestError("scale", str(exc)))
    refuse(errors, RUN_FIELDS)
    return scenario, chosen_seed, chosen_scale, chosen_changes, chosen_removed, chosen_seeds


def seed_value(seed: str) -> int | None:
    """A request's seed: blank for the scenario's own, else a whole number 0..MAX_SEED."""
    if not str(seed).strip():
        return None
    try:
        chosen = int(str(seed).strip())
    except ValueError:
        raise RequestError(
            "seed", f"seed must be a whole number from 0 to {MAX_SEED} (got {seed!r})"
        ) from None
    if not 0 <= chosen <= MAX_SEED:
        raise RequestError(
            "seed", f"seed must be a whole number from 0 to {MAX_SEED} (got {chosen})"
        )
    return chosen


def scale_field(scale: str) -> float | None:
    """A request's scale: blank for the scenario's own, else a number in (0, 1]."""
    if not str(scale).strip():
        return None
    try:
        chosen = float(str(scale).strip())
    except ValueError:
        raise RequestError("scale", f"scale must be a number in (0, 1] (got {scale!r})") from None
    if math.isinf(chosen) and str(scale).strip().lower().lstrip("+-") not in ("inf", "infinity"):
        size = "far below 0" if chosen < 0 else "too large"  # 999...9: it read '(got inf)'
        raise RequestError("scale", f"scale must be in (0, 1] (got {str(scale).strip()}: {size})")
    if not (0 < chosen <= 1) or math.isnan(chosen):
        raise RequestError("scale", f"scale must be in (0, 1] (got {chosen:g})")
    return chosen


def one_value_each(changes: list[str], several: str = "") -> dict[str, Any]:
    """A form's `set` lines as parameter -> value: one value each, as a run or a variant takes.

    The command line's advice ('given twice (list all its values in one --set)', then 'run
    takes one value ... use chistka sweep') went in a circle under a form's field: the field
    takes one value per parameter, which the message says, and `several` follows it.

    Raises:
        RequestError: a malformed line, a parameter given twice or given several values.
    """
    from chistka.commands.sweep import parse_set_options

    try:
        parsed = parse_set_options(changes)
    except ChistkaError as exc:
        raise RequestError("set", str(exc)) from None
    for path, values in parsed.items():
        if len(values) > 1:
            raise RequestError(
                "set",
                f"set {path}: the field takes one value per parameter (got {len(values)}){several}",
            )
    return {path: values[0] for path, values in parsed.items()}


def seeds_field(seeds: str) -> int | None:
    """A request's number of seeds: blank for the default, else a whole number 1..MAX_SEEDS."""
    if not str(seeds).strip():
        return None
    try:
        chosen = int(str(seeds).strip())
    except ValueError:
        chosen = 0
    if not 1 <= chosen <= MAX_SEEDS:
        raise RequestError(
            "seeds", f"seeds must be a whole number from 1 to {MAX_SEEDS} (got {seeds!r})"
        )
    return chosen


def experiment_seeds_field(seeds: str) -> int | list[int] | None:
    """An experiment's seeds per arm: blank for the design's, else N or A-B as the command line.

    `chistka experiment run --seeds` takes a count N (seeds counted up from the scenario's) or
    a span A-B; the form took the count alone. One parser (`parse_seeds`) checks both.
    """
    from chistka.commands.options import parse_seeds

    if not str(seeds).strip():
        return None
    try:
        return parse_seeds(str(seeds), most=MAX_SEEDS, each="arm", limit="seeds per arm")
    except ChistkaError as exc:
        raise RequestError("seeds", str(exc)) from None


VARIANT_SEVERAL = "; values of one parameter (vary) run the experiment once per value"
"""What the experiment form says to a variant of several values of one parameter."""


def check_experiment_request(
    designs: Designs,
    name: str,
    seeds: str,
    scale: str,
    changes: list[str] | None = None,
    vary: str = "",
) -> tuple[str, Any, int | list[int], float | None, list[str], str]:
    """The experiment a form or JSON body asks for.

    Returns (design ref, design, seeds, scale, variant, vary): seeds a count or a list of seeds
    (`experiment_seeds_field`); blank seeds and scale mean the design's and the scenario's own;
    `changes` are a variant's `PARAM=VALUE` settings, made in the baseline and every arm (as
    `chistka experiment run --set`); `vary` is one line `PARAM=V1,V2,...` that runs the whole
    design once per value (as `--vary`), returned stripped ('' for none). Raises RequestError
    naming the field (an unknown design, seeds neither N in 1..MAX_SEEDS nor a span A-B of at
    most as many, a scale at which an arm would have a needed stratum without an agent, an
    unknown parameter or a value it does not allow, fewer than two values to vary or more than
    `chistka.analysis.variants.MAX_VALUES`).
    """
    from chistka.analysis.variants import load_variants
    from chistka.commands.preflight import check_scale
    from chistka.commands.sweep import parse_set_options

    if name not in designs.refs:
        raise RequestError(
            "experiment", f"experiment must be one of {', '.join(designs.names())} (got {name!r})"
        )
    errors: list[RequestError] = []  # every bad field, not the first alone
    chosen_changes = [line.strip() for line in changes or [] if line.strip()]
    variant: dict[str, Any] = {}
    try:
        variant = one_value_each(chosen_changes, VARIANT_SEVERAL)
    except RequestError as error:
        errors.append(error)
    try:
        experiment = designs.load(name, variant)
    except ChistkaError as exc:
        if not (variant and ("variant" in str(exc) or "--set" in str(exc))):
            raise RequestError("experiment", str(exc)) from None  # the design itself
        errors.append(RequestError("set", str(exc)))
        variant = {}  # the other fields checked against the design as it stands
        try:
            experiment = designs.load(name)
        except ChistkaError as exc:
            raise RequestError("experiment", str(exc)) from None
    experiments = [experiment]
    chosen_vary = vary.strip()
    if chosen_vary:
        try:
            try:
                [(parameter, values)] = parse_set_options([chosen_vary]).items()
            except ChistkaError as exc:
                raise ChistkaError(str(exc).replace("--set", "--vary", 2)) from None
            experiments = load_variants(designs.refs[name], parameter, values, variant)
        except ChistkaError as exc:
            message = str(exc).replace("--vary", "vary").replace("--set", "set")
            errors.append(RequestError("vary", message))
    chosen_scale = None
    try:
        chosen_scale = scale_field(scale)
    except RequestError as error:
        errors.append(error)
    if chosen_scale is not None:
        checked = [(arm, s) for e in experiments for arm, s in e.scenarios.items()]
        for arm, scenario in checked:
            try:
                check_scale(scenario, chosen_scale)
            except ChistkaError as exc:
                errors.append(RequestError("scale", f"arm '{arm}': {exc}"))
                break
    count = None
    try:
        count = experiment_seeds_field(seeds)
    except RequestError as error:
        errors.append(error)
    refuse(errors)
    first = experiments[0]
    count = count or first.design.experiment.seeds
    return designs.refs[name], first, count, chosen_scale, chosen_changes, chosen_vary

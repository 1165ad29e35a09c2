"""Scenario schema: pydantic v2 models for a chistka scenario file (TOML).

Every field has a default, a unit or an allowed range, and a one-line description. Fields taken
from the historical record say so in their description (with the source); fields that are model
assumptions or calibrated values say that instead. Unknown keys are errors that suggest the closest
valid name, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Discriminator, Field, Tag, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from chistka.errors import did_you_mean
from chistka.record import compared_observables
from chistka.record.regions import REGION_TABLES, regional_table
from chistka.scenario.base import NUMBER, StrictModel, check_shares, param
from chistka.scenario.terror import (
    ArmyParams,
    ArrestParams,
    CampParams,
    ClimateParams,
    DenunciationParams,
    ExileParams,
    InterrogationParams,
    Operation,
    SentencingParams,
    ShowTrial,
    TerrorPopulation,
)

ORIGINS = ("worker", "peasant", "employee", "alien")
"""Social origin categories used by the purge commissions.

"alien" stands for the "socially alien elements" of the purge instructions: former kulaks, clergy,
nobility, merchants (DESIGN.md section 1; Getty, *Origins of the Great Purges*, 1985, ch. 2).
"""

COHORTS = ("pre1917", "civil_war", "nep", "lenin_levy", "mass_recruitment", "post_freeze")
"""Join cohorts: underground before 1917, 1917-20, 1921-23, 1924-27, 1928-32, after the freeze."""

COHORT_START_YEARS = (0, 1917, 1921, 1924, 1928, 1933)
"""First calendar year of each join cohort (the cohort of an admission is set by its year)."""


class OriginShares(StrictModel):
    """Shares of a group by social origin (must sum to 1)."""

    worker: float = param(0.25, "share of workers", unit="fraction", ge=0, le=1)
    peasant: float = param(0.60, "share of peasants", unit="fraction", ge=0, le=1)
    employee: float = param(
        0.12, "share of employees and intelligentsia", unit="fraction", ge=0, le=1
    )
    alien: float = param(
        0.03,
        "share of 'socially alien' origin (former kulaks, clergy, nobility, merchants)",
        unit="fraction",
        ge=0,
        le=1,
    )

    @model_validator(mode="after")
    def _sum_to_one(self) -> Self:
        check_shares(self.model_dump(), "origin")
        return self

    def as_array(self) -> list[float]:
        """Shares in the order of ORIGINS."""
        return [getattr(self, name) for name in ORIGINS]


class InitialCohortShares(StrictModel):
    """Join cohorts of the members present when the run starts (must sum to 1)."""

    pre1917: float = param(
        0.02, "joined in the underground before 1917", unit="fraction", ge=0, le=1
    )
    civil_war: float = param(0.90, "joined 1917-1920", unit="fraction", ge=0, le=1)
    nep: float = param(0.08, "joined 1921-1923", unit="fraction", ge=0, le=1)
    lenin_levy: float = param(0.0, "joined 1924-1927", unit="fraction", ge=0, le=1)
    mass_recruitment: float = param(0.0, "joined 1928-1932", unit="fraction", ge=0, le=1)
    post_freeze: float = param(0.0, "joined after the freeze", unit="fraction", ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> Self:
        check_shares(self.model_dump(), "cohort")
        return self


class InitialParty(StrictModel):
    """The party on the first day of the run."""

    total: int = param(
        730_000,
        "members and candidates on the first day",
        unit="persons",
        ge=0,
        source="records.csv party_total_1921_03 (730,000 in March 1921)",
    )
    candidate_share: float = param(
        0.2,
        "share of candidates among them (assumption, close to Rigby's 1 Jan 1922 ratio 118/528)",
        unit="fraction",
        ge=0,
        le=1,
    )
    origin: OriginShares = Field(
        default_factory=lambda: OriginShares(worker=0.41, peasant=0.28, employee=0.27, alien=0.04),
        description="social origin of the initial members (assumption)",
    )
    cohort: InitialCohortShares = Field(
        default_factory=InitialCohortShares, description="join cohorts of the initial members"
    )
    opposition_share: float = param(
        0.05,
        "share of initial members with a past in an opposition group (assumption)",
        unit="fraction",
        ge=0,
        le=1,
    )


class PopulationParams(TerrorPopulation):
    """The synthetic population: size, scale and composition."""

    size: int = param(
        80_000_000,
        "persons represented: the population the citizens (and the party stratum) are drawn "
        "from; each scenario's comment says which (all adults, or the whole population)",
        unit="persons",
        ge=1_000,
    )
    scale: float = param(
        0.01, "agents per represented person; counts are reported divided by it", gt=0, le=1
    )
    regions: list[Annotated[float, NUMBER, Field(gt=0, le=1e10, allow_inf_nan=False)]] = Field(
        default_factory=lambda: [1.0 / 8] * 8,
        description="relative size of each region (each > 0, normalised; at least one region): "
        "a share or a count of persons, so at most 1e10 (more people than have ever lived at "
        "one time)",
        min_length=1,
        max_length=200,
    )
    region_table: Literal["order_00447"] | None = Field(
        None,
        description=(
            "a documented regional table to take the regions from instead of `regions`: "
            "'order_00447' gives the 35 territories of Order 00447's initial limits, sized by "
            "the 1939 census (within a republic without a figure per territory, in proportion to "
            "their initial limits: a model assumption), and the operation named 'order_00447' "
            "starts from their documented limits instead of a population share"
        ),
        json_schema_extra={
            "source": "Order 00447 of 30 Jul 1937 (Werth's republic totals, two book tables); "
            "the 1939 census, FRUS 1933-39 doc. 587 (chistka/record/data/README.md)"
        },
    )
    origin: OriginShares = Field(
        default_factory=OriginShares, description="social origin of the adult population"
    )
    party: InitialParty = Field(default_factory=InitialParty, description="the party at the start")
    hostile_share: float = param(
        0.02,
        "share of the hidden type the regime would call hostile, among people of worker or "
        "peasant origin without an opposition past (model assumption)",
        unit="fraction",
        ge=0,
        le=1,
    )
    hostile_share_compromised: float = param(
        0.15,
        "share of the hidden hostile type among people of alien origin or with an opposition past "
        "(model assumption)",
        unit="fraction",
        ge=0,
        le=1,
    )

    hostile_signal: float = param(
        0.5,
        "how much the hidden hostile type shows in misconduct and passivity signals "
        "(model assumption)",
        ge=0,
        le=10,
    )
    party_density_shape: float = param(
        0.5,
        "shape of the Gamma spread of party density across workplaces (smaller = party "
        "cells more concentrated in some workplaces; model assumption)",
        gt=0,
        le=100,
    )

    @model_validator(mode="before")
    @classmethod
    def _regions_from_table(cls, data: Any) -> Any:
        """With a region table, the regions are the table's (given again, they must agree)."""
        if not isinstance(data, dict) or data.get("region_table") not in REGION_TABLES:
            return data
        table = regional_table(data["region_table"])
        given = data.get("regions")
        if given is not None and (
            len(given) != len(table.weights)
            or not all(
                isinstance(x, int | float) and math.isclose(x, w, rel_tol=1e-9)
                for x, w in zip(given, table.weights, strict=True)
            )
        ):
            raise PydanticCustomError(
                "region_table_regions",
                "regions: leave it out with region_table = '{table}', which gives the "
                "{n} regions and their sizes",
                {"table": table.name, "n": len(table.regions)},
            )
        return {**data, "regions": table.weights}


class NetworkParams(StrictModel):
    """Sizes of the implicit multiplex network's layers (contacts are computed, never stored)."""

    household_size: int = param(4, "people per household", unit="persons", ge=1, le=20)
    workplace_size: int = param(
        40,
        "agents per workplace when everybody is at one scale (its party members form the party"
        " cell); with a party stratum see workplace_persons",
        unit="agents",
        ge=5,
        le=2000,
    )
    workplace_persons: int = param(
        600,
        "persons per workplace when the party stratum has its own scale (population.party_scale):"
        " the workplace then holds the same persons and party cell at every scale",
        unit="persons",
        ge=5,
        le=100_000,
    )
    district_workplaces: int = param(
        25,
        "workplaces per district (the district committee's span)",
        unit="workplaces",
        ge=2,
        le=10_000,
    )
    friends: int = param(
        6,
        "friends per person (an even number: a ring in a shuffled order)",
        unit="persons",
        ge=0,
        le=100,
    )

    @model_validator(mode="after")
    def _even_friends(self) -> Self:
        if self.friends % 2:
            raise PydanticCustomError(
                "friends_even", "friends must be even (got {friends})", {"friends": self.friends}
            )
        return self


class AdmissionsParams(StrictModel):
    """Admission of new candidates (the party's recruitment)."""

    rate_per_year: float = param(
        100_000,
        "new candidates admitted per year outside recruitment drives",
        unit="persons/year",
        ge=0,
    )
    drive_per_year: float = param(
        0,
        "while positive, replaces rate_per_year: the documented admissions of a recruitment "
        "drive or a counted period (the Lenin enrolment, the mass recruitment of 1930-32), set "
        "and ended by the timeline",
        unit="persons/year",
        ge=0,
    )
    drive_is_growth: bool = param(
        False,
        "whether a drive's figure is the growth of the ranks rather than the admissions (as "
        "the CC/CCC resolution of 28 Apr 1933 gives the recruitment of 1931-32: 'increased its "
        "ranks by 1,400,000'): each day's admissions then also replace the members and "
        "candidates the party lost since the day before (exits, expulsions, arrests, deaths)",
    )
    suspended: bool = param(
        False,
        "admissions suspended by a central decision (the freeze of Dec 1932 - Nov 1936): "
        "nobody is admitted, whatever the rates",
    )
    origin_preference: OriginShares = Field(
        default_factory=lambda: OriginShares(worker=0.6, peasant=0.25, employee=0.15, alien=0.0),
        description="social origin of those admitted (the party favoured workers and barred "
        "'alien elements')",
    )
    opposition_share: float = param(
        0.02,
        "share of new candidates who later count as having an opposition past (assumption)",
        unit="fraction",
        ge=0,
        le=1,
    )


class PromotionParams(StrictModel):
    """Promotion of candidates to full members after the candidate stage."""

    enabled: bool = param(
        True,
        "whether candidates are being promoted (off during the freeze; a candidate whose stage "
        "ends meanwhile waits, and starts a new stage when promotion is on again)",
    )
    stage_days: float = param(
        540,
        "mean length of the candidate stage",
        unit="days",
        ge=30,
        le=3650,
    )


class ExitsParams(StrictModel):
    """Voluntary exits and 'mechanical' drop-outs (unpaid dues, lapsed registration)."""

    rate_per_year: float = param(
        0.03,
        "share of members (and of candidates, unless candidate_rate_per_year is set) leaving"
        " per year",
        unit="1/year",
        ge=0,
        le=1,
    )
    candidate_rate_per_year: float | None = param(
        None,
        "share of candidates leaving per year, when it differs from the members' (a candidate"
        " on probation, without a party card, left more easily); unset: rate_per_year",
        unit="1/year",
        ge=0,
        le=1,
    )


class MortalityParams(StrictModel):
    """Natural deaths of everybody at liberty (party members, former members, citizens)."""

    rate_per_year: float = param(
        0.012,
        "annual probability of death of an adult at liberty, party or not (assumption)",
        unit="1/year",
        ge=0,
        le=1,
    )


class CriteriaWeights(StrictModel):
    """Weights of the purge criteria in the commission's score (higher score = worse)."""

    origin_alien: float = param(1.6, "weight of 'socially alien' origin", ge=-10, le=10)
    origin_employee: float = param(0.3, "weight of employee/intelligentsia origin", ge=-10, le=10)
    origin_peasant: float = param(0.2, "weight of peasant origin", ge=-10, le=10)
    opposition: float = param(1.5, "weight of a past in an opposition group", ge=-10, le=10)
    misconduct: float = param(
        1.0, "weight of observed misconduct (drink, corruption)", ge=-10, le=10
    )
    passivity: float = param(1.0, "weight of observed passivity", ge=-10, le=10)
    concealment: float = param(
        2.5, "weight of a concealment found out by the commission", ge=-10, le=10
    )
    merit_pre1917: float = param(
        -1.5, "weight of underground membership before 1917", ge=-10, le=10
    )
    merit_civil_war: float = param(-0.6, "weight of joining in 1917-20 (civil war)", ge=-10, le=10)


class ReviewParams(StrictModel):
    """The purge review (chistka): autobiography, commission, audience, outcome."""

    criteria: CriteriaWeights = Field(
        default_factory=CriteriaWeights, description="weights of the purge criteria"
    )
    conceal_probability: float = param(
        0.4,
        "chance a member with a compromising origin or past conceals it in the autobiography",
        unit="probability",
        ge=0,
        le=1,
    )
    detect_probability: float = param(
        0.3,
        "chance the commission finds out a concealment without help from the audience",
        unit="probability",
        ge=0,
        le=1,
    )
    detect_per_accuser: float = param(
        0.25,
        "added chance of finding out a concealment per audience member speaking against",
        unit="probability",
        ge=0,
        le=1,
    )
    audience_size: int = param(
        6, "people of the member's workplace who may speak", unit="persons", ge=0, le=100
    )
    speak_against: float = param(0.08, "chance an audience member speaks against", ge=0, le=1)
    speak_for: float = param(0.15, "chance an audience member speaks for", ge=0, le=1)
    audience_weight: float = param(0.5, "score change per net speaker against", ge=0, le=10)
    noise_sd: float = param(1.0, "spread of the commission's idiosyncratic judgement", gt=0, le=10)
    threshold: float = param(
        2.0,
        "commission score above which a member is expelled, in campaigns that set no threshold "
        "of their own (one strictness shared by the campaigns)",
        ge=-20,
        le=20,
    )
    emphasis: float = param(
        1.4,
        "how much more a criterion weighs in a campaign whose instructions stressed it (the "
        "campaigns that list their emphasis; one factor for all of them: the sources name what "
        "each campaign stressed, not by how much)",
        unit="multiplier",
        ge=1,
        le=10,
    )
    flight: float = param(
        0.0,
        "members' flight from the review: the chance a member leaves the party before the review "
        "reaches him (or, in a campaign that does not call him, while it runs), per unit of the "
        "chance of expulsion he can foresee from his own record (origin, past, conduct, "
        "passivity, merit); 0: nobody leaves",
        unit="per unit of foreseen risk",
        ge=0,
        le=5,
    )


class AppealsParams(StrictModel):
    """Appeals of the expelled to higher control commissions."""

    appeal_share: float = param(
        0.5, "share of the expelled who appeal", unit="fraction", ge=0, le=1
    )
    reinstate_share: float = param(
        0.5,
        "share of appeals that reinstate the member",
        unit="fraction",
        ge=0,
        le=1,
    )
    delay_days: float = param(
        120, "mean time from expulsion to the appeal's decision", unit="days", ge=1, le=3650
    )


EMPHASIS_FORMS = ("list of criteria", "table of multipliers")
"""The two forms of a campaign's emphasis, as an error message names them."""


def _emphasis_form(value: Any) -> str | None:
    """Which form a campaign's emphasis is written in (None: neither, refused)."""
    if isinstance(value, list):
        return EMPHASIS_FORMS[0]
    if isinstance(value, dict):
        return EMPHASIS_FORMS[1]
    return None


Emphasis = Annotated[
    Annotated[list[str], Tag(EMPHASIS_FORMS[0])]
    | Annotated[dict[str, Annotated[float, NUMBER, Field(ge=1, le=10)]], Tag(EMPHASIS_FORMS[1])],
    Discriminator(
        _emphasis_form,
        custom_error_type="emphasis_form",
        custom_error_message="expected a list of criteria, e.g. ['passivity'], or a table of "
        "multipliers, e.g. {passivity = 1.5}",
    ),
]


class Campaign(StrictModel):
    """A purge campaign: the members present at its start are reviewed once before it ends.

    Every member and candidate, or, where the campaign's documented count of those put through
    it is given (`reviewed`), that many of them drawn at random: the 1933 purge checked 1,916,500
    of a party of over three million before it gave way to the verification of 1935 (Rogovin).
    """

    name: str = param(..., "short identifier, e.g. '1921' (used in observables)")
    label: str = param("", "human-readable title")
    start: dt.date = param(..., "first day of the reviews")
    end: dt.date = param(..., "last day of the reviews")
    threshold: float | None = param(
        None,
        "commission score above which a member is expelled in this campaign (none: the "
        "review's shared threshold, review.threshold)",
        ge=-20,
        le=20,
    )
    demote_band: float = param(
        0.4,
        "width of the score band below the threshold that sends a full member back to candidate",
        ge=0,
        le=20,
    )
    emphasis: Emphasis = Field(
        default_factory=list,
        description="the criteria this campaign's instructions stressed: a list, e.g. "
        "['passivity', 'misconduct'], each weighed by the review's shared review.emphasis; or a "
        "table of multipliers of one's own, e.g. {passivity = 1.5}, each from 1 to 10 as "
        "review.emphasis (a stressed criterion weighs more, not less)",
    )
    reviewed: int | None = param(
        None,
        "members and candidates the campaign put through its commissions, where documented (none: "
        "everyone in the party at its start); drawn at random among those present",
        unit="persons",
        ge=1,
    )
    source: str = param("", "where the campaign's dates and targets come from")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.end < self.start:
            raise PydanticCustomError(
                "campaign_dates",
                "campaign '{name}' ends ({end}) before it starts ({start})",
                {"name": self.name, "end": str(self.end), "start": str(self.start)},
            )
        allowed = sorted(CriteriaWeights.model_fields)
        if isinstance(self.emphasis, list) and len(set(self.emphasis)) < len(self.emphasis):
            repeated = sorted({key for key in self.emphasis if self.emphasis.count(key) > 1})
            raise PydanticCustomError(
                "repeated_key",
                "criterion '{key}' named twice in emphasis; name each criterion once",
                {"key": repeated[0]},
            )
        for key in self.emphasis:
            if key not in CriteriaWeights.model_fields:
                hint = did_you_mean(key, allowed)
                raise PydanticCustomError(
                    "unknown_key",
                    "unknown criterion '{key}' in emphasis; {hint}allowed: {allowed}",
                    {"key": key, "hint": hint, "allowed": ", ".join(allowed)},
                )
        return self


def _naming(where: str, path: str) -> str:
    """A message's place, followed by the path it is about where the place does not name it.

    '--set review.noise=1' names its path; an experiment's "arms[1] 'x': set" does not, and the
    message then named only the section that lacks the field.
    """
    return where if path in where else f"{where}: '{path}'"


class PolicyEvent(StrictModel):
    """A dated change of mechanism parameters (an order, a freeze, a reopening)."""

    date: dt.date = param(..., "day the change takes effect")
    set: dict[str, float | int | bool | dict[str, Annotated[float, NUMBER]]] = Field(
        ...,
        description="parameters to change, as 'mechanism.field' = value (a group such as "
        "'admissions.origin_preference' takes a whole table)",
    )
    note: str = param("", "what happened")
    source: str = param("", "where the date and content come from")


class RunInfo(StrictModel):
    """Name, description, dates and seed of a scenario."""

    name: str = param(..., "scenario name")
    description: str = param("", "one-line description")
    start: dt.date = param(..., "first simulated day")
    end: dt.date = param(..., "last simulated day")
    seed: int = param(1, "default random seed", ge=0, le=2**63 - 1)
    spin_up_days: int = param(
        0,
        "days the day loop runs before `start` on the first day's parameters, so that the "
        "cases under investigation and the recent arrests on the first day are those of a run "
        "already under way rather than none; nothing before `start` is logged or counted, and "
        "the people in custody on the first day are logged as such",
        unit="days",
        ge=0,
        le=366,
    )
    compare: list[str] | None = Field(
        None,
        description="kinds of observables the scenario models, scored against the record; "
        "rows of other kinds show as 'not modelled' and do not count, e.g. ['party_total', "
        "'expelled_share'] (default: every kind)",
    )

    @model_validator(mode="after")
    def _check_compared_kinds(self) -> Self:
        """Each kind in `compare` must be one the record scores (a misspelt one scored none)."""
        kinds = sorted({spec.kind for spec in compared_observables()})
        for kind in self.compare or []:
            if kind not in kinds:
                raise PydanticCustomError(
                    "compare_kind",
                    "compare: unknown kind '{kind}'; {hint}the record scores {kinds}",
                    {"kind": kind, "hint": did_you_mean(kind, kinds), "kinds": ", ".join(kinds)},
                )
        return self

    @model_validator(mode="after")
    def _check_dates(self) -> Self:
        if self.end < self.start:
            raise PydanticCustomError(
                "run_dates",
                "end ({end}) is before start ({start})",
                {"end": str(self.end), "start": str(self.start)},
            )
        return self


FIRST_DAY_ONLY = frozenset({"camps.initial_population"})
"""Parameters read once, when the run starts: a timeline event may not set them."""

SUPERVISION_MODIFIERS = ("testimony_sanctioned", "pending_cases_sanctioned")
"""Switches of `ArrestParams` that act only while `procuracy_supervision` is on."""


class Scenario(StrictModel):
    """A complete scenario: population, network, mechanisms and the policy timeline."""

    scenario: RunInfo = Field(..., description="name, description, dates and seed of the run")
    population: PopulationParams = Field(
        default_factory=PopulationParams, description="the synthetic population"
    )
    network: NetworkParams = Field(default_factory=NetworkParams, description="network layers")
    admissions: AdmissionsParams = Field(
        default_factory=AdmissionsParams, description="admission of candidates"
    )
    promotion: PromotionParams = Field(
        default_factory=PromotionParams, description="candidates promoted to members"
    )
    exits: ExitsParams = Field(default_factory=ExitsParams, description="voluntary exits")
    mortality: MortalityParams = Field(
        default_factory=MortalityParams, description="natural deaths"
    )
    review: ReviewParams = Field(default_factory=ReviewParams, description="the purge review")
    appeals: AppealsParams = Field(default_factory=AppealsParams, description="appeals")
    climate: ClimateParams = Field(default_factory=ClimateParams, description="political climate")
    denunciation: DenunciationParams = Field(
        default_factory=DenunciationParams, description="denunciations"
    )
    arrest: ArrestParams = Field(default_factory=ArrestParams, description="NKVD arrests")
    interrogation: InterrogationParams = Field(
        default_factory=InterrogationParams, description="interrogation and naming"
    )
    sentencing: SentencingParams = Field(default_factory=SentencingParams, description="sentencing")
    camps: CampParams = Field(default_factory=CampParams, description="camps")
    exile: ExileParams = Field(
        default_factory=ExileParams, description="exile and other measures (off by default)"
    )
    army: ArmyParams = Field(default_factory=ArmyParams, description="the army purge")
    operations: list[Operation] = Field(
        default_factory=list, description="mass and national operations of the NKVD"
    )
    show_trials: list[ShowTrial] = Field(default_factory=list, description="show trials")
    campaigns: list[Campaign] = Field(default_factory=list, description="purge campaigns")
    events: list[PolicyEvent] = Field(default_factory=list, description="dated policy changes")

    @model_validator(mode="after")
    def _check_documented_limits(self) -> Self:
        """An operation whose limits a region table documents must total the table's limits."""
        name = self.population.region_table
        if name is None:
            return self
        table = regional_table(name)
        for i, operation in enumerate(self.operations):
            if operation.name != table.operation:
                continue
            for field, total in (
                ("limit_shoot", table.total_cat1),
                ("limit_camp", table.total_cat2),
            ):
                if getattr(operation, field) != total:
                    raise PydanticCustomError(
                        "documented_limits",
                        "operations[{i}].{field}: {value} differs from the {total} of "
                        "population.region_table = '{table}' (its regions' initial limits and "
                        "the camps')",
                        {
                            "i": i,
                            "field": field,
                            "value": getattr(operation, field),
                            "total": total,
                            "table": name,
                        },
                    )
        return self

    @model_validator(mode="after")
    def _check_timeline(self) -> Self:
        run = self.scenario
        names: set[str] = set()
        for i, campaign in enumerate(self.campaigns):
            if campaign.name in names:
                raise PydanticCustomError(
                    "campaign_name",
                    "campaigns[{i}].name: '{name}' is used twice",
                    {"i": i, "name": campaign.name},
                )
            names.add(campaign.name)
            if campaign.start < run.start or campaign.end > run.end:
                raise PydanticCustomError(
                    "date_outside_run",
                    "campaigns[{i}] ('{name}') runs {start} to {end}, outside the run "
                    "{run_start} to {run_end}",
                    {
                        "i": i,
                        "name": campaign.name,
                        "start": str(campaign.start),
                        "end": str(campaign.end),
                        "run_start": str(run.start),
                        "run_end": str(run.end),
                    },
                )
        for what, items in (("operations", self.operations), ("show_trials", self.show_trials)):
            for i, item in enumerate(items):
                first = getattr(item, "start", None) or item.date
                last = getattr(item, "end", None) or item.date
                if first < run.start or last > run.end:
                    raise PydanticCustomError(
                        "date_outside_run",
                        "{what}[{i}] ('{name}') is dated {first} to {last}, outside the run "
                        "{run_start} to {run_end}",
                        {
                            "what": what,
                            "i": i,
                            "name": item.name,
                            "first": str(first),
                            "last": str(last),
                            "run_start": str(run.start),
                            "run_end": str(run.end),
                        },
                    )
        for i, event in enumerate(self.events):
            if not run.start <= event.date <= run.end:
                raise PydanticCustomError(
                    "date_outside_run",
                    "events[{i}].date: {date} is outside the run {run_start} to {run_end}",
                    {
                        "i": i,
                        "date": str(event.date),
                        "run_start": str(run.start),
                        "run_end": str(run.end),
                    },
                )
            for path in FIRST_DAY_ONLY & event.set.keys():
                raise PydanticCustomError(
                    "first_day_only",
                    "events[{i}].set: '{path}' is read on the first day only; set it in its "
                    "section instead",
                    {"i": i, "path": path},
                )
            self.with_parameters(event.set, where=f"events[{i}].set")
        self._check_supervision_modifiers()
        return self

    def _check_supervision_modifiers(self) -> None:
        """Refuse a modifier of the prosecutor's sanction in a run whose sanction never starts.

        `arrest.testimony_sanctioned` and `arrest.pending_cases_sanctioned` act only while
        `arrest.procuracy_supervision` is on; a timeline that switches one on by an event but
        never the supervision would ignore it without a word. A value in `[arrest]` stays
        allowed: it configures the sanction in advance, and a run cut short before the halt
        (`chistka calibrate`) keeps it without the event.
        """
        supervised = self.arrest.procuracy_supervision or any(
            event.set.get("arrest.procuracy_supervision") is True for event in self.events
        )
        if supervised:
            return
        for name in SUPERVISION_MODIFIERS:
            path = f"arrest.{name}"
            where = [f"events[{i}].set" for i, e in enumerate(self.events) if e.set.get(path)]
            if where:
                raise PydanticCustomError(
                    "inert_parameter",
                    "{where}: '{path}' acts only while 'arrest.procuracy_supervision' is on, "
                    "and no section or event of this run switches it on; set "
                    "'arrest.procuracy_supervision' (in [arrest] or by a dated event) or leave "
                    "'{path}' false",
                    {"where": where[0], "path": path},
                )

    def with_parameters(self, changes: dict[str, Any], *, where: str = "set") -> Self:
        """A copy of this scenario with mechanism parameters changed (validated together).

        Args:
            changes: 'mechanism.field' (or 'mechanism.group.field') -> new value, e.g.
                {'admissions.rate_per_year': 0}; a group such as 'admissions.origin_preference'
                may be given a whole table.
            where: how to name the place of the change in an error message.
        """
        sections: dict[str, dict[str, Any]] = {}
        listed: dict[tuple[str, int], dict[str, Any]] = {}
        for path, value in changes.items():
            parts = path.split(".")
            section = parts[0]
            if section in LIST_SECTIONS:
                items = getattr(self, section)
                item_model = LIST_SECTIONS[section]
                names = [item.name for item in items]
                if not names:
                    raise PydanticCustomError(
                        "unknown_parameter",
                        "{where}: '{path}': this scenario has no {section} to change",
                        {"where": where, "path": path, "section": section},
                    )
                if len(parts) != 3 or parts[1] not in names:
                    hint = did_you_mean(parts[1], names).strip() if len(parts) > 1 else ""
                    raise PydanticCustomError(
                        "unknown_parameter",
                        "{where}: '{path}' should be '{section}.NAME.field' with NAME one of "
                        "{names}{hint}",
                        {
                            "where": where,
                            "path": path,
                            "section": section,
                            "names": ", ".join(names),
                            "hint": f"; {hint}" if hint else "",
                        },
                    )
                index = names.index(parts[1])
                if parts[2] not in item_model.model_fields:
                    raise PydanticCustomError(
                        "unknown_parameter",
                        "{where}: '{owner}' has no field '{key}'; {hint}allowed: {allowed}",
                        {
                            "where": _naming(where, path),
                            "owner": ".".join(parts[:2]),
                            "key": parts[2],
                            "hint": did_you_mean(parts[2], sorted(item_model.model_fields)),
                            "allowed": ", ".join(sorted(item_model.model_fields)),
                        },
                    )
                listed.setdefault((section, index), items[index].model_dump())[parts[2]] = value
                continue
            if section in MECHANISM_SECTIONS and len(parts) < 2:
                fields = sorted(type(getattr(self, section)).model_fields)
                raise PydanticCustomError(
                    "unknown_parameter",
                    "{where}: '{path}' needs a field: '{section}.FIELD', one of {fields}",
                    {
                        "where": where,
                        "path": path,
                        "section": section,
                        "fields": ", ".join(fields),
                    },
                )
            if section not in MECHANISM_SECTIONS:
                hint = did_you_mean(section, MECHANISM_SECTIONS)
                raise PydanticCustomError(
                    "unknown_parameter",
                    "{where}: '{path}' is not a mechanism parameter; {hint}allowed sections: "
                    "{allowed} (as 'section.field')",
                    {
                        "where": where,
                        "path": path,
                        "hint": hint,
                        "allowed": ", ".join(MECHANISM_SECTIONS),
                    },
                )
            node = sections.setdefault(section, getattr(self, section).model_dump())
            model: type[BaseModel] = type(getattr(self, section))
            for depth, key in enumerate(parts[1:], start=1):
                if key not in model.model_fields:
                    allowed = sorted(model.model_fields)
                    hint = did_you_mean(key, allowed)
                    raise PydanticCustomError(
                        "unknown_parameter",
                        "{where}: '{owner}' has no field '{key}'; {hint}allowed: {allowed}",
                        {
                            "where": _naming(where, path),
                            "owner": ".".join(parts[:depth]),
                            "key": key,
                            "hint": hint,
                            "allowed": ", ".join(allowed),
                        },
                    )
                if depth == len(parts) - 1:
                    node[key] = value
                    break
                annotation = model.model_fields[key].annotation
                if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                    raise PydanticCustomError(
                        "unknown_parameter",
                        "{where}: '{path}': '{key}' has no sub-fields",
                        {"where": where, "path": path, "key": key},
                    )
                node = node[key]
                model = annotation
        update: dict[str, Any] = {}
        for (section, index), data in listed.items():
            items = list(update.get(section, getattr(self, section)))
            try:
                items[index] = LIST_SECTIONS[section].model_validate(data)
            except ValidationError as exc:
                raise PydanticCustomError(
                    "bad_parameter",
                    "{where}: {detail}",
                    {"where": where, "detail": _problems(exc, f"{section}.{data['name']}")},
                ) from None
            update[section] = items
        for section, data in sections.items():
            try:
                update[section] = type(getattr(self, section)).model_validate(data)
            except ValidationError as exc:
                raise PydanticCustomError(
                    "bad_parameter",
                    "{where}: {detail}",
                    {"where": where, "detail": _problems(exc, section)},
                ) from None
        return self.model_copy(update=update)


def _problems(exc: ValidationError, prefix: str) -> str:
    """The problems of a changed section, each as 'prefix.field: what is wrong (got value)'."""
    problems = []
    for error in exc.errors(include_url=False):
        field = ".".join([prefix, *(str(part) for part in error["loc"])])
        value = error.get("input")
        got = "" if isinstance(value, dict | list) or not error["loc"] else f" (got {value!r})"
        problems.append(f"{field}: {error['msg']}{got}")
    return "; ".join(problems)


LIST_SECTIONS: dict[str, type[BaseModel]] = {"operations": Operation, "campaigns": Campaign}
"""Sections that are lists of named items; a path names one item's field as
'section.NAME.field' (e.g. 'operations.order_00447.grant_share', 'campaigns.1935.threshold')."""

MECHANISM_SECTIONS = tuple(
    name
    for name, info in Scenario.model_fields.items()
    if name not in ("scenario", "population", "network")
    and isinstance(info.annotation, type)
    and issubclass(info.annotation, BaseModel)
)
"""Scenario sections holding mechanism parameters that timeline events may change: every
section of one table (a mechanism's section, e.g. 'admissions'), so that a new mechanism's section
is changeable as soon as it is a field of `Scenario`."""

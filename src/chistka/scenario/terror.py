"""Scenario schema of the Great Terror: population beyond the party and the terror mechanisms.

All sections default to "off" (zero rates, no operations), so a scenario of the party purges alone
is unaffected. Historical values cite their source; the rest are model assumptions or values
calibrated on the record's calibration rows (yearly convictions and death sentences).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chistka.scenario.base import NUMBER, StrictModel, param

CATEGORIES = ("kulak", "clergy", "former_people", "former_parties", "criminal")
"""Categories of "anti-Soviet elements" listed in Order 00447 (former kulaks, clergy and
churchmen, "former people", members of former anti-Soviet parties, criminals); Werth, "The NKVD
Mass Secret Operation n° 00447" (2010)."""

DIASPORAS = ("polish", "german", "latvian", "finnish", "harbin", "korean", "greek", "other")
"""Diasporas targeted by the national operations of 1937-38 (DESIGN.md section 1)."""

CHANNELS = (
    "category",
    "national",
    "denunciation",
    "self_protection",
    "testimony",
    "expelled",
    "army",
    "family",
    "show_trial",
    "routine",
)
"""How an arrest came about: Order 00447's lists, a national operation, a denunciation, a
denunciation made to protect oneself after a contact's arrest, the testimony of an arrested
person, a past expulsion from the party, the army purge, being family of a condemned "traitor",
the centre's choice of show-trial defendants, the NKVD's routine caseload."""


TermYears = Annotated[float, NUMBER, Field(gt=0, le=25)]
"""One end of a documented range of camp terms, in years."""


def _a_pair(value: object) -> object:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise PydanticCustomError(
            "term_range_pair",
            "give the shortest and longest term in years, [shortest, longest] (got {value})",
            {"value": value},
        )
    return value


TermRange = Annotated[tuple[TermYears, TermYears], BeforeValidator(_a_pair)]
"""The shortest and longest camp term a body could give (drawn uniformly between them)."""


def check_term_range(term: TermRange | None, field: str) -> None:
    """Refuse a range of camp terms whose shortest term is longer than its longest."""
    if term is not None and term[0] > term[1]:
        raise PydanticCustomError(
            "term_range",
            "{field}: the shortest term ({low}) is longer than the longest ({high}); give "
            "[shortest, longest] in years",
            {"field": field, "low": term[0], "high": term[1]},
        )


class CategoryShares(StrictModel):
    """Shares of the citizen population on the NKVD's registers of "anti-Soviet elements"."""

    kulak: float = param(0.02, "former kulaks (model assumption)", unit="fraction", ge=0, le=1)
    clergy: float = param(
        0.002, "clergy and churchmen (model assumption)", unit="fraction", ge=0, le=1
    )
    former_people: float = param(
        0.003, "'former people' (model assumption)", unit="fraction", ge=0, le=1
    )
    former_parties: float = param(
        0.002, "members of former parties (model assumption)", unit="fraction", ge=0, le=1
    )
    criminal: float = param(
        0.01, "criminals on the registers (model assumption)", unit="fraction", ge=0, le=1
    )

    @model_validator(mode="after")
    def _at_most_one(self) -> Self:
        if sum(self.model_dump().values()) > 1:
            raise PydanticCustomError("shares_sum", "category shares must sum to at most 1", {})
        return self


class DiasporaShares(StrictModel):
    """Shares of the population belonging to the diasporas of the national operations."""

    polish: float = param(
        0.004,
        "Poles (model assumption, order of the 1926/1937 censuses)",
        unit="fraction",
        ge=0,
        le=1,
    )
    german: float = param(0.008, "Germans (model assumption)", unit="fraction", ge=0, le=1)
    latvian: float = param(0.001, "Latvians (model assumption)", unit="fraction", ge=0, le=1)
    finnish: float = param(0.001, "Finns (model assumption)", unit="fraction", ge=0, le=1)
    harbin: float = param(
        0.0002,
        "'Harbinites', returnees from the Chinese Eastern Railway (model assumption)",
        unit="fraction",
        ge=0,
        le=1,
    )
    korean: float = param(0.001, "Koreans (model assumption)", unit="fraction", ge=0, le=1)
    greek: float = param(0.002, "Greeks (model assumption)", unit="fraction", ge=0, le=1)
    other: float = param(
        0.003,
        "other diasporas: Estonians, Romanians, Iranians, Afghans, Chinese ... (model assumption)",
        unit="fraction",
        ge=0,
        le=1,
    )

    @model_validator(mode="after")
    def _at_most_one(self) -> Self:
        if sum(self.model_dump().values()) > 1:
            raise PydanticCustomError("shares_sum", "diaspora shares must sum to at most 1", {})
        return self


class EliteParams(StrictModel):
    """Bodies of the party elite, placed at the top of the rank tiers (always one agent each)."""

    central_committee: int = param(
        0,
        "members and candidates of the Central Committee elected in 1934",
        unit="persons",
        ge=0,
        le=10_000,
        source="records.csv cc17_size (139)",
    )
    congress_delegates: int = param(
        0,
        "delegates of the 17th Congress (1934), the Central Committee among them",
        unit="persons",
        ge=0,
        le=100_000,
        source="records.csv congress17_delegates (1,966)",
    )

    @model_validator(mode="after")
    def _cc_among_delegates(self) -> Self:
        if self.congress_delegates and self.central_committee > self.congress_delegates:
            raise PydanticCustomError(
                "elite_sizes",
                "central_committee ({cc}) cannot exceed congress_delegates ({d})",
                {"cc": str(self.central_committee), "d": str(self.congress_delegates)},
            )
        return self


class TerrorPopulation(StrictModel):
    """The population outside the party's ordinary ranks: targets, army, NKVD, elite."""

    party_scale: float | None = param(
        None,
        "agents per person for party members, former members, the recruitment pool, the "
        "army command and the NKVD (default: population.scale); counts are reported per person",
        gt=0,
        le=1,
    )
    recruitment_pool: int = param(
        0,
        "non-party persons kept at party scale from whom new candidates are admitted",
        unit="persons",
        ge=0,
    )
    expelled_before: int = param(
        0,
        "former members expelled in earlier purges, alive at the start (model assumption)",
        unit="persons",
        ge=0,
    )
    army_officers: int = param(
        0,
        "Red Army command and political staff",
        unit="persons",
        ge=0,
        source="records.csv rkka_officer_strength_1937 (137,000)",
    )
    nkvd_officers: int = param(
        0, "NKVD state security officers (model assumption)", unit="persons", ge=0
    )
    officer_party_share: float = param(
        0.5,
        "share of army and NKVD officers who are party members (model assumption)",
        unit="fraction",
        ge=0,
        le=1,
    )
    categories: CategoryShares = Field(
        default_factory=CategoryShares, description="registered 'anti-Soviet elements'"
    )
    diasporas: DiasporaShares = Field(
        default_factory=DiasporaShares, description="diasporas of the national operations"
    )
    elite: EliteParams = Field(default_factory=EliteParams, description="elite bodies")

    @model_validator(mode="after")
    def _elite_one_to_one(self) -> Self:
        elite = self.elite
        scale = self.party_scale if self.party_scale is not None else getattr(self, "scale", 1)
        if (elite.central_committee or elite.congress_delegates) and scale != 1:
            raise PydanticCustomError(
                "elite_scale",
                "population.elite needs the party modelled one to one: set "
                "population.party_scale = 1 (got {scale})",
                {"scale": str(scale)},
            )
        return self


class ClimateParams(StrictModel):
    """The political climate: the media campaign set by the timeline, and fear from arrests."""

    campaign: float = param(
        1.0,
        "intensity of the vigilance campaign in press and meetings "
        "(1 = ordinary; set by the timeline)",
        ge=0,
        le=100,
    )
    fear_per_arrest_rate: float = param(
        0.0,
        "added climate per yearly arrest of 1 in 1,000 people (fear feeding denunciation)",
        ge=0,
        le=100,
    )


class DenunciationParams(StrictModel):
    """Denunciations from below, from above and from the side (DESIGN.md section 1)."""

    rate_per_year: float = param(
        0.0, "denunciations per free person per year at climate 1", unit="1/year", ge=0, le=10
    )
    from_below: float = param(0.3, "share against one's superior (patron)", ge=0, le=1)
    from_above: float = param(0.2, "share against one's subordinates", ge=0, le=1)
    self_protection: float = param(
        0.0,
        "chance a contact of an arrested person denounces someone within a month, to "
        "show vigilance and protect themselves",
        unit="probability",
        ge=0,
        le=1,
    )
    arrest_probability: float = param(
        0.0, "chance a denunciation leads to an arrest", unit="probability", ge=0, le=1
    )


class ArrestParams(StrictModel):
    """The NKVD's arrests: capacity by region, arrest of the named, the expelled at risk."""

    capacity_per_million: float = param(
        0.0,
        "arrests a region's NKVD can make per day per million inhabitants (0 = unlimited; at "
        "most a million, every inhabitant in one day)",
        unit="persons/day",
        ge=0,
        le=1_000_000,
    )
    named_arrest_probability: float = param(
        0.0,
        "chance a person named under interrogation is arrested (the cascade's reproduction "
        "number is about confessing share x names per confession x this, plus denunciations)",
        unit="probability",
        ge=0,
        le=1,
    )
    delay_days: float = param(
        20, "mean delay from denunciation or naming to arrest", unit="days", ge=1, le=365
    )
    expelled_risk_per_year: float = param(
        0.0,
        "yearly arrest hazard of former party members (rising after Kirov's murder)",
        unit="1/year",
        ge=0,
        le=1,
    )
    routine_rate_per_year: float = param(
        0.0,
        "yearly arrests in the NKVD's routine caseload (anti-Soviet agitation and other "
        "political cases outside the operations) per 1,000 people",
        unit="1/1000/year",
        ge=0,
        le=1000,
    )
    routine_follows_climate: bool = param(
        False,
        "the routine caseload is multiplied by the day's climate (the vigilance campaign and "
        "the fear of recent arrests), as denunciations are: political cases outside the "
        "operations (anti-Soviet agitation and the like) came from informers and vigilance",
    )
    routine_category_share: float = param(
        0.5,
        "share of routine arrests drawn from the registered categories",
        ge=0,
        le=1,
    )
    operations_take_registered: bool = param(
        False,
        "while an operation against the registered categories (kind 'category', Order 00447) "
        "is in force, the routine caseload draws nobody from the categories it targets: their "
        "cases are the operation's, arrested at its pace and judged by its troikas, and are not "
        "added on top; the other categories keep their rate",
        source="Order 00447 of 30 Jul 1937, section I: its contingents are the registered "
        "categories (former kulaks, members of anti-Soviet parties, clergy, former White "
        "officers, criminals; translated text: military-review.com, 'Great Terror: figures, "
        "facts', part 2; docs/decisions.md sections 10 and 12.2)",
    )
    officer_arrest_probability: float = param(
        0.5,
        "chance an NKVD officer named as an interrogator is arrested",
        ge=0,
        le=1,
    )
    national_rate_per_year: float = param(
        0.0,
        "cases a national operation opens per year, as a share of the targeted diaspora counted "
        "on the run's first day (a rate: above 1 an operation shorter than a year can reach the "
        "whole diaspora; cases stop when none is left at liberty); for every national order "
        "that does not set its own rate_per_year",
        unit="1/year",
        ge=0,
        le=10,
    )
    procuracy_supervision: bool = param(
        False,
        "arrests outside the operations need a prosecutor's sanction (decree of 17 Nov 1938 on "
        "arrests, procuracy supervision and investigation; set by the timeline)",
        source="Sovnarkom/CC decree No. 81 of 17 Nov 1938 (docs/decisions.md [Decree17Nov])",
    )
    sanction_share: float = param(
        1.0,
        "share of the cases outside the operations a prosecutor sanctions while "
        "procuracy_supervision is on (the others are dropped before the arrest)",
        unit="fraction",
        ge=0,
        le=1,
    )
    testimony_sanctioned: bool = param(
        False,
        "while procuracy_supervision is on, a case opened on the testimony of an arrested "
        "person always gets the prosecutor's sanction (its grounds are on file); only the other "
        "cases outside the operations pass at sanction_share",
        source="Rayfield, Stalin and His Hangmen (2004), ch. 49: after 15 Nov 1938 victims 'were "
        "no longer chosen at random, but, as before 1936, for their links to others' "
        "(docs/decisions.md section 13.1)",
    )
    pending_cases_sanctioned: bool = param(
        False,
        "while procuracy_supervision is on, a case arrested without the prosecutor's sanction "
        "(before the decree) comes before him when it is judged: it goes on at sanction_share "
        "(testimony cases always, with testimony_sanctioned), the others are dropped and the "
        "accused released (set by the timeline)",
        source="NKVD Order 00762 of 26 Nov 1938, item 13: every investigation case in progress "
        "to be completed and sent to the courts or the Special Board in exact observance of the "
        "decree of 17 Nov 1938; Uimanov 2012: several tens of thousands released from "
        "investigation and confinement (docs/decisions.md 12.3, 23.2)",
    )


class InterrogationParams(StrictModel):
    """Interrogation under torture: confession and the naming of accomplices.

    The accused holds out only if the cost of torture is below his personal resistance: since
    the sentence hardly depends on whether he denies, confesses or names others (a one-shot
    n-person prisoner's dilemma), the confession rate is c = 1 - exp(-torture / resistance).
    """

    torture: float = param(0.0, "cost of holding out (set by the timeline)", ge=0, le=100)
    resistance: float = param(1.0, "mean personal resistance to torture", gt=0, le=100)
    names_mean: float = param(
        0.0, "accomplices named by a confessing accused (mean, m)", unit="persons", ge=0, le=100
    )
    mass_operation_names_factor: float = param(
        0.2,
        "names demanded in mass-operation (troika) cases relative to others",
        ge=0,
        le=10,
    )
    layer_weights: dict[
        Literal["household", "workplace", "friendship", "patronage"],
        Annotated[float, NUMBER, Field(ge=0, le=100)],
    ] = Field(
        default_factory=lambda: {
            "household": 0.1,
            "workplace": 0.5,
            "friendship": 0.25,
            "patronage": 0.15,
        },
        description="relative chance that a name comes from each layer of contacts (each from "
        "0 to 100, a layer left out weighs 0; at least one weight above 0)",
    )
    rank_bias: float = param(
        0.5,
        "interrogators' preference for naming higher-ranked contacts (scripted 'centres')",
        ge=0,
        le=10,
    )
    names_interrogator: float = param(
        0.0,
        "chance an accused names his interrogator as a conspirator",
        ge=0,
        le=1,
    )
    mass_operation_days_factor: float = param(
        0.3,
        "length of the investigation in mass-operation cases relative to others (the troika "
        "and album procedures were summary; assumption)",
        gt=0,
        le=10,
    )
    investigation_days: float = param(
        45, "mean time from arrest to the end of the investigation", unit="days", ge=1, le=730
    )

    @field_validator("layer_weights")
    @classmethod
    def _some_layer_named(cls, weights: dict[str, float]) -> dict[str, float]:
        if not any(weight > 0 for weight in weights.values()):
            raise PydanticCustomError(
                "layer_weights_zero",
                "give at least one layer a weight above 0 (names are drawn from the layers in "
                "proportion to their weights)",
            )
        return weights


class SentencingParams(StrictModel):
    """Sentencing by the body that judged the case: its route decides the share of death.

    Routes (docs/decisions.md section 3): the Order 00447 troikas (within the category-1
    limits), the "album" of the national operations, the Military Collegium (the 1 Dec 1934
    procedure for "terrorist" cases of the elite, officers and former oppositionists named in a
    conspiracy), the military tribunals for the ordinary people charged with espionage or
    terror, and the Special Board and the courts for everyone else. The route also sets the
    term of a camp sentence where the order or statute of its body gave one.
    """

    routine_death_share: float | None = param(
        None,
        "share of death sentences in the routine caseload judged by the courts (anti-Soviet "
        "agitation and the like; default: death_share)",
        ge=0,
        le=1,
    )
    death_share: float = param(
        0.0,
        "share of death sentences in the ordinary political cases outside the Collegium and "
        "the military tribunals: the Special Board, which could not sentence to death in "
        "1934-41, and the courts' special collegia, which could",
        ge=0,
        le=1,
    )
    collegium_death_share: float = param(
        0.85,
        "share of death sentences before the Military Collegium (the elite, officers and former "
        "oppositionists: cases under the procedure of 1 Dec 1934)",
        ge=0,
        le=1,
        source="Birstein (2011): the Collegium sentenced 80-90% of its accused to death "
        "(docs/decisions.md [Birstein2011])",
    )
    tribunal_death_share: float | None = param(
        None,
        "share of death sentences before the military tribunals, which judged the ordinary "
        "people charged with espionage, terror or membership of a conspiracy (art. 58-1, 6, 8, "
        "9): those named in testimony and the national lines' cases outside the album "
        "(default: death_share)",
        ge=0,
        le=1,
        source="Birstein (2011): from 1934 the NKVD's cases under arts. 58-1, 6, 8 and 9 went "
        "to the Military Collegium, which also confirmed the district military tribunals' death "
        "sentences within 72 hours (docs/decisions.md section 3.3); that the ordinary accused "
        "of these charges went to the tribunals is an assumption",
    )
    album_death_share: float = param(
        0.0,
        "share of death sentences under the 'album' procedure of the national operations "
        "(a property of the route, not of the year)",
        ge=0,
        le=1,
    )
    album_open: bool = param(
        True,
        "whether album cases are judged (closed from 16 Apr 1938 to the special troikas of "
        "15 Sep 1938; cases wait meanwhile)",
        source="CC resolution of 31 Jan 1938 (album procedure to 15 Apr 1938); Politburo P64/22 "
        "of 15 Sep 1938 (docs/decisions.md section 2.1)",
    )
    album_per_day: float = param(
        0.0,
        "persons the centre's dvoika (Yezhov or Frinovsky with Vyshinsky) approves in the "
        "albums a day; the rest wait for the next day (0: no limit, as for the special troikas "
        "of Sep 1938, which judged in the regions)",
        unit="persons/day",
        ge=0,
        le=1e7,
        source="one day's approvals, 551 names on 18 Oct 1937: R. Conquest, The Great Terror: "
        "A Reassessment (1990), p. 178 (docs/terror_sources.md section 1)",
    )
    death_penalty: bool = param(
        True,
        "whether the death penalty is in force (abolished in peacetime by the decree of "
        "26 May 1947, 25 years of camps instead; set by the timeline)",
        source="Decree of the Presidium of the Supreme Soviet of 26 May 1947 (docs/decisions.md "
        "[Decree1947])",
    )
    death_only_for_treason: bool = param(
        False,
        "the death penalty only for traitors, spies and saboteurs (decree of 12 Jan 1950): only "
        "the military tribunals and the Military Collegium, which judge those charges, may "
        "sentence to death",
        source="Decree of the Presidium of the Supreme Soviet of 12 Jan 1950 (docs/decisions.md "
        "[Decree1950])",
    )
    dropped_share: float = param(0.05, "share of cases dropped without a sentence", ge=0, le=1)
    camp_years: float = param(
        6.0,
        "mean camp term of a route whose terms no source gives (the Special Board and the "
        "courts, the tribunals, the Collegium): gamma-distributed around it (an assumption)",
        unit="years",
        ge=0.1,
        le=25,
    )
    family_camp_years: TermRange | None = param(
        None,
        "shortest and longest camp term of the family members of 'traitors' before the Special "
        "Board, drawn uniformly between (left out: as camp_years); the order's terms are the "
        "wives', given here to every family member the model sentences (an assumption)",
        unit="years",
        source="NKVD Order 00486 of 15 Aug 1937: wives 'at least 5-8 years'; the OSO's usual "
        "sentence of a ChSIR, 5-8 years (Conquest 1990; docs/terror_sources.md section 3)",
    )
    family_arrest_probability: float = param(
        0.0,
        "chance a household member of an elite or party 'traitor' sentenced to death is "
        "arrested in turn",
        unit="probability",
        ge=0,
        le=1,
    )
    days_to_sentence: float = param(
        10,
        "mean delay from the end of the investigation to the sentence",
        unit="days",
        ge=0,
        le=365,
    )

    @model_validator(mode="after")
    def _check_terms(self) -> Self:
        check_term_range(self.family_camp_years, "sentencing.family_camp_years")
        return self


class ExileParams(StrictModel):
    """Exile and other measures: the sentences of the 1953 MVD table besides death and camps.

    See mechanisms/exile.py for the table's yearly figures; a scenario sets the shares on its
    timeline. The shares apply to ordinary political cases spared death (not to a troika's or an
    album's).
    """

    exile_share: float = param(
        0.0,
        "share of ordinary political cases spared death that are sentenced to exile (ssylka or "
        "vysylka) instead of the camps",
        unit="fraction",
        ge=0,
        le=1,
        source="1953 MVD table (GARF 9401/1/4157): e.g. 58,816 exiled of 208,069 convicted in 1930",
    )
    other_share: float = param(
        0.0,
        "share of those cases sentenced to 'other measures' (neither death, camps nor exile)",
        unit="fraction",
        ge=0,
        le=1,
        source="1953 MVD table (GARF 9401/1/4157): e.g. 14,609 of 208,069 convicted in 1930",
    )
    exile_years: float = param(
        3.0,
        "mean term of exile (assumption: the 1922 special commission's ceiling of three years; "
        "later terms ran to five or ten)",
        unit="years",
        ge=0.1,
        le=25,
    )

    @model_validator(mode="after")
    def _shares_at_most_one(self) -> Self:
        if self.exile_share + self.other_share > 1:
            raise PydanticCustomError(
                "shares_sum",
                "exile_share + other_share must be at most 1 (got {total})",
                {"total": f"{self.exile_share + self.other_share:.6f}"},
            )
        return self


class CampParams(StrictModel):
    """Camps: deaths, releases at the end of terms, and the releases after the halt."""

    initial_population: int | None = param(
        None,
        "prisoners in the camps on the first day (default: the record's Gulag camp population "
        "on that date, records.csv gulag_camps_YEAR, 1 Jan figures 1934-1953 interpolated "
        "linearly, in proportion to population.size out of the 162 million of the 1937 census; "
        "0 for a start before the series begins in 1934); the record's political share of them "
        "(gulag_camps_political_YEAR) is logged as in_camp_at_start",
        unit="persons",
        ge=0,
    )

    mortality_per_year: float = param(
        0.05,
        "yearly death rate in camps (in years the record's series does not cover, where "
        "mortality_from_record is on)",
        unit="1/year",
        ge=0,
        le=1,
    )
    mortality_from_record: bool = param(
        False,
        "whether the yearly death rate is the record's for the year, 1930-1953 "
        "(records.csv gulag_camp_mortality_YEAR: deaths over the year's average number of "
        "prisoners, every charge), mortality_per_year outside the series",
        source="the Gulag's certificate of the mortality of prisoners, 1930-1956 (OURZ GULAG, "
        "GARF f. 9414); docs/decisions.md 46.1",
    )
    early_release_per_year: float = param(
        0.0,
        "yearly share of prisoners released before their term (amnesties, review of cases)",
        unit="1/year",
        ge=0,
        le=1,
    )
    post_halt_review: bool = param(
        False,
        "whether the sentences of the troikas and albums are under review (after the halt of "
        "Nov 1938: NKVD chiefs could cut troika sentences or release on time served)",
        source="joint order of the NKVD and the USSR Procurator, 1939 (docs/decisions.md "
        "[GulagBezRetushi], [BeriaThaw-Tomsk])",
    )
    review_release_per_year: float = param(
        0.0,
        "yearly share of prisoners sentenced by a troika or album released while "
        "post_halt_review is on (those not hostile to the regime: the case had no basis)",
        unit="1/year",
        ge=0,
        le=1,
    )
    releases_held: bool = param(
        False,
        "whether the camps release no one (end of term, early release, review): those whose "
        "terms end meanwhile stay, and are all released on the day the hold ends (the war's "
        "hold of counter-revolutionaries, bandits and recidivists from 22 Jun 1941)",
        source="NKVD/Procurator directive No. 221 of 22 Jun 1941, item 1 (N. V. Petrov, Istoriia "
        "imperii Gulag, ch. 9, https://pseudology.org/gulag/Glava09.htm); docs/decisions.md 44.1",
    )


class ArmyParams(StrictModel):
    """The purge of the Red Army's command staff."""

    dismissal_rate_per_year: float = param(
        0.0, "yearly share of officers dismissed", unit="1/year", ge=0, le=1
    )
    arrest_share: float = param(0.3, "share of the dismissed who are arrested", ge=0, le=1)
    reinstate_share: float = param(
        0.3, "share of the dismissed, not arrested, later reinstated", ge=0, le=1
    )
    reinstate_days: float = param(
        365, "mean time from dismissal to reinstatement", unit="days", ge=1, le=3650
    )


class Operation(StrictModel):
    """A mass or national operation of the NKVD, with its order, dates, targets and limits."""

    name: str = param(..., "identifier, e.g. 'order_00447' or 'polish'")
    label: str = param("", "human-readable title")
    kind: Literal["category", "national"] = param(
        ..., "category lists (Order 00447) or a diaspora (national operations)"
    )
    start: dt.date = param(..., "first day of arrests")
    end: dt.date = param(..., "last day of arrests (the halt, at the latest)")
    targets: list[str] = Field(..., description="categories or diasporas targeted", min_length=1)
    limit_shoot: int = param(
        0,
        "initial limit in category 1 (shooting), all regions; with a region table "
        "(population.region_table) of the operation's name, each region takes the table's own "
        "limit, and the table's rows that are no region (Order 00447's 10,000 for the NKVD "
        "camps) go to none (docs/decisions.md 12.5)",
        unit="persons",
        ge=0,
    )
    limit_camp: int = param(
        0,
        "initial limit in category 2 (camps), all regions; with a region table, as limit_shoot",
        unit="persons",
        ge=0,
    )
    planned_days: int = param(
        120, "days in which the limits were to be used up", unit="days", ge=1, le=3650
    )
    pace_factor: float = param(
        1.0,
        "how fast regions open cases against their limits, relative to the order's plan (above "
        "1: racing ahead of it)",
        gt=0,
        le=20,
    )
    request_days: int = param(
        30,
        "a region asks for more when its remaining limit would last fewer days than this at "
        "its current pace, and asks for that many days' worth of cases",
        unit="days",
        ge=1,
        le=365,
    )
    grant_share: float = param(
        0.0,
        "share of a region's request the centre grants (0: no increase is ever granted)",
        unit="fraction",
        ge=0,
        le=1,
    )
    grant_cap: float | None = param(
        None,
        "the most the centre grants over the whole operation, as a multiple of the initial "
        "limits (left out: no cap); once reached, requests go unanswered",
        ge=0,
        le=100,
    )
    grant_shoot_share: float | None = param(
        None,
        "share of a granted increase in category 1 (default: as in the initial limits); not "
        "with troika_shoot_share, where each category's grant answers its own request",
        ge=0,
        le=1,
    )
    troika_shoot_share: float | Literal["album"] | None = param(
        None,
        "share of its cases a troika sends to category 1 (shooting) while the region's "
        "category-1 limit has room; a region then asks for more in each category as its own "
        "sentences use it up. 'album': the share the album route proposes "
        "(sentencing.album_death_share), since the region's NKVD chief and prosecutor proposed "
        "the category in both (docs/decisions.md sections 3.1-3.2). None: the troika shoots in "
        "proportion to the room left under the two limits, and the regions ask for both "
        "together",
        unit="fraction",
    )
    death_share: float | None = param(
        None,
        "category operations whose order set one limit for the first category, camps and "
        "shooting together (OGPU Order 44/21 of 2 Feb 1930 against the kulaks): the share of "
        "the troika's verdicts within that limit (limit_camp) that are death; None: the "
        "category limits decide (Order 00447)",
        ge=0,
        le=1,
    )
    rate_per_year: float | None = param(
        None,
        "national operations: cases opened per year, as a share of the diaspora counted on the "
        "run's first day (a rate, as arrest.national_rate_per_year, its default: one propensity "
        "for every national order)",
        unit="1/year",
        ge=0,
        le=10,
    )
    camp_years: TermRange | None = param(
        None,
        "shortest and longest camp term the order set for those it sends to the camps, drawn "
        "uniformly between (Order 00447's category 2: [8, 10]; Order 00485's: [5, 10]); None: "
        "sentencing.camp_years",
        unit="years",
    )
    source: str = param("", "the order and where its dates and limits come from")

    @field_validator("troika_shoot_share", mode="before")
    @classmethod
    def _a_share_or_album(cls, value: object) -> object:
        """A number from 0 to 1 or 'album' (not true/false, nor a number written as text)."""
        if value is None or value == "album":
            return value
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (math.isfinite(value) and not 0 <= value <= 1)
        ):
            raise PydanticCustomError(
                "troika_shoot_share",
                "Input should be a number between 0 and 1, or 'album'",
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        from chistka.errors import did_you_mean

        check_term_range(self.camp_years, f"operation '{self.name}': camp_years")
        allowed = CATEGORIES if self.kind == "category" else DIASPORAS
        for target in self.targets:
            if target not in allowed:
                raise PydanticCustomError(
                    "unknown_target",
                    "operation '{name}': unknown target '{target}'; {hint}"
                    "allowed for kind '{kind}': {allowed}",
                    {
                        "name": self.name,
                        "target": target,
                        "kind": self.kind,
                        "hint": did_you_mean(target, allowed),
                        "allowed": ", ".join(allowed),
                    },
                )
        if self.end < self.start:
            raise PydanticCustomError(
                "operation_dates", "operation '{name}' ends before it starts", {"name": self.name}
            )
        if self.death_share is not None and (self.kind != "category" or self.limit_shoot):
            raise PydanticCustomError(
                "operation_death_share",
                "operation '{name}': death_share is for a category operation with one limit "
                "(limit_camp) for camps and shooting together; set limit_shoot = 0",
                {"name": self.name},
            )
        if self.troika_shoot_share is not None and (
            self.kind != "category" or self.death_share is not None
        ):
            raise PydanticCustomError(
                "operation_troika_shoot_share",
                "operation '{name}': troika_shoot_share is for a category operation with limits "
                "in both categories (limit_shoot and limit_camp, no death_share)",
                {"name": self.name},
            )
        if self.troika_shoot_share is not None and self.grant_shoot_share is not None:
            raise PydanticCustomError(
                "operation_grant_split",
                "operation '{name}': set troika_shoot_share or grant_shoot_share, not both (with "
                "troika_shoot_share each category's grant answers its own request)",
                {"name": self.name},
            )
        return self


class ShowTrial(StrictModel):
    """A show trial of the old elite, as a dated event."""

    name: str = param(..., "identifier")
    date: dt.date = param(..., "day of the verdict")
    defendants: int = param(
        ...,
        "number of defendants, in persons (at a party scale below 1 the agents standing for "
        "them are rounded stochastically, exact on average)",
        unit="persons",
        ge=1,
        le=1000,
    )
    shot: int = param(..., "number sentenced to death, in persons", unit="persons", ge=0, le=1000)
    arrest_lead_days: int = param(
        120, "days before the verdict the defendants are arrested", unit="days", ge=1, le=1000
    )
    defendants_from: Literal["opposition", "army"] = param(
        "opposition",
        "whom the centre puts on trial: 'opposition', the highest-ranked (former) members with "
        "an opposition past (the Moscow trials), or 'army', the highest-ranked officers of the "
        "Red Army command (the trial of Tukhachevsky and seven commanders, 11 June 1937; "
        "records.csv military_trial_1937)",
    )
    source: str = param("", "where the figures come from")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.shot > self.defendants:
            raise PydanticCustomError(
                "trial",
                "show trial '{name}': shot ({shot}) exceeds defendants ({d})",
                {"name": self.name, "shot": str(self.shot), "d": str(self.defendants)},
            )
        return self

"""Calibration check of the built-in scenario purges-1921-1953 (its regression summary is checked
in test_builtin_scenarios.py with the others)."""

import pytest

from chistka.analysis.comparison import comparison
from record_fit import PARTY_PROMISED, assert_fit, yearly_sentence_rows

# A default-scale run of 1921-1953 (the session fixture purges of conftest.py): the slow tier.
pytestmark = pytest.mark.slow

# Every modelled calibration and validation row is judged (see test_builtin_scenarios.py): the
# share inside must not fall below today's level, and the rows issue 11 (section 4) promised must
# all be inside: yearly death-and-camp and death sentences 1930-1940 within 20%, the membership
# anchors and the expulsion shares. Failures list every row outside.
PROMISED = (*PARTY_PROMISED, *yearly_sentence_rows(1930, 1940))
MINIMUM = {"calibration": 0.85, "validation": 0.25}
"""Share of the scenario's rows inside at seed 1 (issue 11 asks every calibration row and 70% of
validation rows). When the yearly hand-fitted timeline gave way to documented decisions and
fifteen constants, the calibration share fell below the earlier floors (70% and 50%). Study pp9
(session 9: the fifteen fitted together by chistka calibrate, 100 trials over seeds 1-4, loss
0.217 at the starting values, 0.141 at the best) traded the membership anchors and the caseload
of 1930-34 against the death sentences of 1937-40 (docs/decisions.md section 11.5); studies pp10
and pp11 (sessions 11-13) kept its values but for the sanction share (sections 12.1, 14.3).
Session 16 gave the five campaigns one strictness, freed the four values chosen by hand and let
Order 00447's troika propose category 1 at the album's share, as great-terror (section 17.1);
study pp13 (50 trials over seeds 1-4, loss 0.0941) brought the convictions and death sentences of
1937-38 inside: 20 of 33 calibration rows (61%) and 23 of 104 validation rows (22%) at seed 1.
Session 17 added the political prisoners in the camps 1935-1953 (19 validation rows): one
inside (1946); the model holds two to four and a half times the record's in 1935-38 and a
quarter to two fifths too few after 1946, so 24 of 123 (20%). Session 18 left the camp totals
(20 validation rows, one inside) and the camps' releases of 1939 (a calibration row, inside)
unscored, since the camps take no ordinary convicts (docs/decisions.md 19.1-19.2), and made the
releases on review an assumption (0.1 a year instead of the fitted 0.3, no refit yet): at seed 1
the death sentences of 1940 fell from 1,910 (the top of seeds 1-8's range, 1,160-1,910) to 1,080,
by the run's noise, so 18 of 32 calibration rows (56%) and 24 of 103 validation rows (23%).
Session 21 (officers judged by their charge, section 22.1) left 17 of 32 (53%), below the floor.
Session 22 brought the cases pending at the halt before the prosecutor (23.2) and refitted the
fifteen with the band loss (study pp15, 80 trials over seeds 1-4, band loss 0.1039 against 0.1120
at pp13's values): 20 of 32 calibration rows (62%), the rows of 1939 inside, and 22 of 103
validation rows (21%): the fit, which never sees them, moved the OGPU's death share up (0.039
from 0.032: the death sentences of 1924-25, validation, now over) and took the death sentences
of 1951-52 in and those of 1943 and 1947 and the candidates of 1924 out (section 23.4).
Session 25 set the mass operations' camp terms by their orders (25.1) and the citizens at one
agent per 25 persons, where the small death rows rest on 40-100 agents instead of 10-25, and
refitted (study pp17, 40 trials over seeds 1-4 at that scale, band loss 0.0899 against 0.1151 at
pp15's values): every row of 1935-40 inside on the mean of seeds 1-4, 17 of 32 inside at every
seed of 1-8 (15 before) and 64% of the (row, seed) pairs (61%), but 19 of 32 at seed 1 (59%):
its death sentences of 1935, 1936 and 1939 sit outside at this seed, within their seed-to-seed
spread. The fit's lower admissions and longer candidate stage took Rigby's full members of
1931-36 and of the 18th Congress out (validation): 17 of 103 (16%) at seed 1 (section 25.2).
Session 26 read the drives of 1930 and 1931-32 as the documented growth of the ranks (26.1),
let the freeze's waiting candidates start a new stage at the reopening (26.3) and refitted (study
pp18, band loss 0.0827 against 0.0886): the party of 1933 and the full members at the 17th
Congress inside, 22 of 32 at seed 1 (69%), 21-23 by seed, 19 at every seed of 1-8; validation 24
of 106 (23%). Session 27 scored two more rows (the expelled of 1921, outside, and the party's
decline over 1933-34, inside at every seed; 27.1) and study pp19 kept pp18's values: 23 of 34 at
seed 1 (68%), 22-24 by seed, 20 at every seed of 1-8; validation 24 of 106 at seed 1. Session
28 scored who the 1921 purge expelled by origin (three rows, Volkov) and freed the weights of
peasant and employee origin (28.3); study pp22 (34 trials) found a start point: 27 of 37 at seed
1 (73%), 23-27 by seed, 22 at every seed of 1-8 (68% of the pairs); the 1929 share inside (12.6%
on the median), the 1921 and 1933 shares, the expelled of 1921 and the decline of 1933-34
outside; validation 25 of 106 at seed 1 (23-27 by seed). The candidates at the 17th Congress,
scored since then without a refit (28.5), are outside (1.09 M against 935,298): 27 of 38.
Session 29 widened the death sentences of 1931 to the state security organs' own count (29.2)
and freed the candidates' rate (study pp24, eighteen values): 28 of 38 at seed 1 (74%), 26-29 by
seed, 25 at every seed of 1-8 (72% of the pairs), the Congress's candidates and the decline inside
at every seed; validation 26 of 107 at seed 1 (24-26 by seed; 29.3). Session 30 gave the
clergy and the other categories the kulak operation did not target their routine cases back
(30.1), let the 1933 purge put through its documented 1,916,500 and refitted (study pp25, band
loss 0.0360 against 0.0449 at pp24's values): 30 of 38 at seed 1 (79%), 28-31 by seed, 27 at
every seed of 1-8 (77% of the pairs); the 1921 purge's expelled, the 1933 share and the caseload
of 1930 inside at every seed, the 1929 share just over (14.9% against at most 14%). Validation
fell to 21 of 107 at seed 1 (20%, 21-25 by seed): Rigby's candidates of 1934-35 just over their
ranges and three wartime and post-war sentence rows within 2% of their edges (30.2), so its
floor is 19%, below the 21% of session 24; the calibration floor is 75%, up from 65%. Session
31 added the candidates admitted from July 1940 to June 1941 (a validation row, outside: 108,000
against 233,071; docs/decisions.md 31.2), so 21 of 108 at seed 1. Session 35 set the citizens
at one agent per 10 persons with the same values (35.2): the small death rows' spread between
seeds halves, 30 of 38 at seed 1 (28 at every seed of 1-8, 27 before) and 25 of 108 validation
rows (23%). Session 36 replaced the campaigns' nine emphasis multipliers, set by hand, by one
fitted factor and refitted the review's and the membership's eight values (study p53g, 36.1):
33 of 38 at seed 1 (31-33 by seed, 29 at every seed of 1-8: the 1921 and 1929 shares and the
party of 1933 now inside), the calibration floor 85%; validation 22 of 108 at seed 1 (22 at every
seed, 21 before; seed 1 lost three post-war sentence rows that stood within 2% of their edges
and Rigby's candidates of 1922, 1934 and 1936, and gained his full members of 1931, 1932 and
1937). Session 37 made the members' drop-out an assumption (0.03, as in the other scenarios),
fitted the pressure before 1937 in its place and refitted all nineteen together (study p53h,
37.1): 33 of 38 at seed 1 (32-34 by seed, 28 at every seed of 1-8, 87% of the pairs, 84%
before); validation 31 of 108 at seed 1 (28-31 by seed, 26 at every seed), so its floor is 25%.
Session 38 refitted the seven values that move the rows at the edges over seeds 1-8 (study p53j,
38.2): 33 of 38 at seed 1 (33-35 by seed, 30 at every seed of 1-8 and 33 of 9-16); validation 27
of 108 at seed 1 (27-30 by seed, 25 at every seed: the lower routine caseload takes the
war-time and post-war caseload under its range at some seeds), at the floor of 25%."""

OUTSIDE_NOW = (
    "issue 11, rebuilt on documented decisions with nineteen constants fitted by chistka "
    "calibrate (studies p53h and p53j): the flat caseload of 1931-34 against the record's "
    "swings, which no documented decision found gives a number for (30.3, 38.1, 43.2), and one "
    "OGPU death share against the falling share of 1931-33 (the death sentences of 1933 and "
    "1934 at opposite edges of their ranges, 38.1-38.2, 39.1; a campaign of early 1933 brings "
    "the caseload in and the deaths out, 43.2); the 1921 purge's peasants lie near their edge "
    "by seed noise (docs/decisions.md 23.3-23.4, 25.2, 26.4, 27.5, 30.2, 35.2, 36.1, 37.1, 38.2, "
    "39.1, 43.1)"
)


@pytest.mark.parametrize("role", ["calibration", "validation"])
def test_purges_1921_1953_keeps_its_fit(purges, role):
    assert_fit(comparison(purges), role, MINIMUM[role])


@pytest.mark.xfail(strict=True, reason=OUTSIDE_NOW)
def test_purges_1921_1953_fits_every_promised_row(purges):
    assert_fit(comparison(purges), "calibration", 0.0, PROMISED)

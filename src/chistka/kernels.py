"""Compiled passes over every agent (attribute draws, the census) and the day loop's inner loops.

At full scale (one agent per person, about 162 million in 1937) a numpy expression over the
whole population allocates temporaries of a gigabyte or more each. These few passes therefore run
as numba loops, in parallel, with no temporaries. Their random draws are counter-based: a pure
function of (seed, salt, person id), the same numbers as `chistka.rng.hash_uniform`, so the
result does not depend on the number of threads or the order in which people are visited.

Those passes run once, when the population is built; the day loop's kernels (contacts, the
choice of distinct people, moves between the counts) touch only the people it acts on.
Compiled with caching, so only the first run on a machine pays the compile time.
"""

from __future__ import annotations

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0
_CHUNKS = 64


@numba.njit(inline="always")
def _splitmix64(z: np.uint64) -> np.uint64:
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@numba.njit(inline="always")
def uniform(key: np.uint64, person: np.int64) -> float:
    """The uniform number in [0, 1) of `person` under `key` (= `hash_uniform`)."""
    return float(_splitmix64(np.uint64(person) ^ key) >> np.uint64(11)) * _TO_UNIT


@numba.njit(parallel=True, cache=True)
def fill_categorical(
    ranges: np.ndarray, key: np.uint64, cdf: np.ndarray, none_code: int, out: np.ndarray
) -> None:
    """Draw a category for every id in `ranges` ((k, 2) array of [start, stop) id ranges).

    `cdf` is the cumulative distribution of the codes 0, 1, ... (last entry 1); the code
    `none_code` is written as -1 (not registered, no diaspora).
    """
    last = len(cdf) - 1
    for r in range(ranges.shape[0]):
        for i in numba.prange(ranges[r, 0], ranges[r, 1]):
            u = uniform(key, i)
            code = 0
            while code < last and u >= cdf[code]:
                code += 1
            out[i] = -1 if code == none_code else code


@numba.njit(parallel=True, cache=True)
def fill_hostile(
    ranges: np.ndarray,
    key: np.uint64,
    alien: int,
    share: float,
    share_compromised: float,
    origin: np.ndarray,
    opposition: np.ndarray,
    hostile: np.ndarray,
) -> None:
    """The hidden 'hostile' type of the ids in `ranges`.

    A person of alien origin or with an opposition past is hostile with `share_compromised`,
    others with `share`.
    """
    for r in range(ranges.shape[0]):
        for i in numba.prange(ranges[r, 0], ranges[r, 1]):
            p = share_compromised if (origin[i] == alien or opposition[i]) else share
            hostile[i] = uniform(key, i) < p


@numba.njit(inline="always")
def ranged(edges: np.ndarray, values: np.ndarray, person: np.int64) -> np.generic:
    """A person's value of an attribute constant on id ranges (`people.RangeConstant`)."""
    return values[np.searchsorted(edges, person, side="right") - 1]


@numba.njit(parallel=True, cache=True)
def census(
    status: np.ndarray,
    fate: np.ndarray,
    origin: np.ndarray,
    weight_edges: np.ndarray,
    weight_values: np.ndarray,
    region_edges: np.ndarray,
    region_values: np.ndarray,
    category: np.ndarray,
    diaspora: np.ndarray,
    hostile: np.ndarray,
    shape: tuple[int, int, int, int, int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Count everybody in one parallel pass.

    `shape` is (statuses, fates, origins, regions, categories, diasporas); weight and region
    are constant on id ranges (`people.RangeConstant`: edges and values), followed along each
    chunk. Returns agents and persons by [status, fate, origin], persons by region, by
    [region, category] and by [region, diaspora], and the hostile persons. The work is cut into
    a fixed number of chunks summed in order, so that the float sums do not depend on the
    number of threads.
    """
    n_status, n_fate, n_origin, n_region, n_category, n_diaspora = shape
    threads = _CHUNKS
    n = len(status)
    counts = np.zeros((threads, n_status, n_fate, n_origin), dtype=np.int64)
    persons = np.zeros((threads, n_status, n_fate, n_origin), dtype=np.float64)
    by_region = np.zeros((threads, n_region), dtype=np.float64)
    by_category = np.zeros((threads, n_region, n_category), dtype=np.float64)
    by_diaspora = np.zeros((threads, n_region, n_diaspora), dtype=np.float64)
    hostile_persons = np.zeros(threads, dtype=np.float64)
    for t in numba.prange(threads):
        first = n * t // threads
        k_weight = np.searchsorted(weight_edges, first, side="right") - 1
        k_region = np.searchsorted(region_edges, first, side="right") - 1
        for i in range(first, n * (t + 1) // threads):
            while i >= weight_edges[k_weight + 1]:
                k_weight += 1
            while i >= region_edges[k_region + 1]:
                k_region += 1
            w = np.float64(weight_values[k_weight])
            r = region_values[k_region]
            counts[t, status[i], fate[i], origin[i]] += 1
            persons[t, status[i], fate[i], origin[i]] += w
            by_region[t, r] += w
            if category[i] >= 0:
                by_category[t, r, category[i]] += w
            if diaspora[i] >= 0:
                by_diaspora[t, r, diaspora[i]] += w
            if hostile[i]:
                hostile_persons[t] += w
    return (
        counts.sum(axis=0),
        persons.sum(axis=0),
        by_region.sum(axis=0),
        by_category.sum(axis=0),
        by_diaspora.sum(axis=0),
        hostile_persons.sum(),
    )


@numba.njit(parallel=True, cache=True)
def group_by_code(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """The ids of each code (-1 left out), in id order, as one array and its offsets.

    The ids of code c are `ids[offsets[c]:offsets[c + 1]]`. Two parallel passes over a fixed
    number of chunks: count, then place.
    """
    n = len(codes)
    counts = np.zeros((_CHUNKS, n_codes), dtype=np.int64)
    for t in numba.prange(_CHUNKS):
        for i in range(n * t // _CHUNKS, n * (t + 1) // _CHUNKS):
            if codes[i] >= 0:
                counts[t, codes[i]] += 1
    offsets = np.zeros(n_codes + 1, dtype=np.int64)
    for c in range(n_codes):
        offsets[c + 1] = offsets[c] + counts[:, c].sum()
    position = np.empty((_CHUNKS, n_codes), dtype=np.int64)
    for c in range(n_codes):
        running = offsets[c]
        for t in range(_CHUNKS):
            position[t, c] = running
            running += counts[t, c]
    ids = np.empty(offsets[n_codes], dtype=np.int64)
    for t in numba.prange(_CHUNKS):
        for i in range(n * t // _CHUNKS, n * (t + 1) // _CHUNKS):
            c = codes[i]
            if c >= 0:
                ids[position[t, c]] = i
                position[t, c] += 1
    return ids, offsets


@numba.njit(cache=True)
def name_contacts(
    arrested: np.ndarray,
    n: int,
    household_size: int,
    contacts: int,
    contact_key: np.uint64,
    naming_key: np.uint64,
    probability: float,
    fate: np.ndarray,
    named: np.ndarray,
    denounced: np.ndarray,
) -> np.ndarray:
    """The frontier step of the reference purge cascade (bench/DECLARATION.md).

    Each arrested person considers their household mates (consecutive ids, `household_size` at a
    time) and their `contacts` contact slots (slot c of person a: the uniform draw
    (contact_key, a * contacts + c) over the other n - 1 people). A free person not yet named
    nor denounced is named with `probability`, a counter-based draw keyed by (naming_key,
    namer, slot), so the outcome does not depend on the order of the arrested. The named are
    marked in `named` and returned in the order they were named.
    """
    slots = household_size + contacts
    out = np.empty(len(arrested) * slots, dtype=np.int64)
    found = 0
    for a in arrested:
        first = a // household_size * household_size
        for slot in range(slots):
            if slot < household_size:
                person = first + slot
                if person == a or person >= n:
                    continue
            else:
                draw = uniform(contact_key, a * contacts + (slot - household_size))
                person = np.int64(draw * (n - 1))
                if person >= a:
                    person += 1
            if uniform(naming_key, a * slots + slot) >= probability:
                continue  # drawn first: most slots are never looked up in memory
            if fate[person] == 0 and named[person] == 0 and denounced[person] == 0:
                named[person] = 1
                out[found] = person
                found += 1
    return out[:found]


@numba.njit(cache=True)
def troika(
    regions: np.ndarray,
    weights: np.ndarray,
    u: np.ndarray,
    strict: np.ndarray,
    limit_shoot: np.ndarray,
    limit_camp: np.ndarray,
    sentenced_shoot: np.ndarray,
    sentenced_camp: np.ndarray,
    shoot_share: float,
) -> np.ndarray:
    """Category 1 (shoot, 1) or 2 (camp, 0) for each troika case, in turn, within the limits.

    Each case is shot with probability `shoot_share` (the troika's own judgement), or, where
    `shoot_share` is negative, with the share of the region's room left under its shooting
    limit (drawn with `u`), but never beyond a limit while the other has room; the sentences
    are added to `sentenced_shoot` and `sentenced_camp` as they are passed. A `strict` case
    (one that came to the NKVD outside the operation's lists) is judged only while there is
    room under a limit, and gets -1 otherwise (it goes to another court). Sequential by nature
    (each verdict uses the room the previous ones left), hence compiled.
    """
    verdict = np.zeros(len(regions), dtype=np.int8)
    for k in range(len(regions)):
        region = regions[k]
        weight = weights[k]
        room_shoot = limit_shoot[region] - sentenced_shoot[region]
        room_camp = limit_camp[region] - sentenced_camp[region]
        if strict[k] and room_shoot < weight and room_camp < weight:
            verdict[k] = -1
            continue
        if shoot_share < 0:
            share = max(room_shoot, 0.0) / max(room_shoot + room_camp, 1e-9)
        else:
            share = shoot_share
        shoot = (u[k] < share and room_shoot >= weight) or room_camp < weight
        if shoot and room_shoot < weight:
            shoot = room_shoot >= room_camp
        if shoot:
            verdict[k] = 1
            sentenced_shoot[region] += weight
        else:
            sentenced_camp[region] += weight
    return verdict


@numba.njit(cache=True)
def ring_friends(
    ids: np.ndarray,
    start: np.ndarray,
    mult: np.ndarray,
    inv: np.ndarray,
    shift: np.ndarray,
    k: int,
) -> np.ndarray:
    """The friends of each id on its region's shuffled ring (`Network.friends`), -1 for none.

    Row i holds the ids k/2 places after and k/2 places before ids[i] in the shuffled order of
    its region (`start`: first id of each region and the total; `mult`, `inv`, `shift`: the
    affine shuffle of each region). Compiled because the day loop asks for the friends of a
    few hundred people thousands of times, where numpy's cost is its per-call overhead.
    """
    half = k // 2
    out = np.empty((len(ids), 2 * half), dtype=np.int64)
    for i in range(len(ids)):
        person = ids[i]
        r = np.searchsorted(start, person, side="right") - 1
        first = start[r]
        n = start[r + 1] - first
        pos = (mult[r] * (person - first) + shift[r]) % n
        for j in range(2 * half):
            offset = j + 1 if j < half else half - j - 1
            if n <= abs(offset):
                out[i, j] = -1
            else:
                place = (pos + offset) % n
                out[i, j] = first + (inv[r] * ((place - shift[r]) % n)) % n
    return out


@numba.njit(cache=True)
def pick_by_persons(
    friends: np.ndarray,
    u: np.ndarray,
    start: np.ndarray,
    part_start: np.ndarray,
    weight_stratum: float,
    weight_other: float,
) -> np.ndarray:
    """One friend per row of `friends`, drawn in proportion to the persons its agent stands for.

    `u` holds one uniform draw per row; an agent below its region's `part_start` is in the party
    stratum (`weight_stratum` persons), the others stand for `weight_other`. The running sums
    are taken in the order of the row, as `np.cumsum` does, so the choice is the same as
    numpy's. -1 where a row has no friend.
    """
    rows, k = friends.shape
    out = np.empty(rows, dtype=np.int64)
    cumulative = np.empty(k, dtype=np.float64)
    for i in range(rows):
        total = 0.0
        for j in range(k):
            friend = friends[i, j]
            if friend >= 0:
                r = np.searchsorted(start, friend, side="right") - 1
                total += weight_stratum if friend < part_start[r] else weight_other
            cumulative[j] = total
        if total <= 0.0:
            out[i] = -1
            continue
        x = u[i] * total
        slot = 0
        for j in range(k):
            if cumulative[j] <= x:
                slot += 1
        out[i] = friends[i, min(slot, k - 1)]
    return out


@numba.njit(cache=True)
def _part_id(
    start: np.ndarray,
    part_start: np.ndarray,
    inv: np.ndarray,
    shift: np.ndarray,
    r: int,
    part: int,
    position: int,
) -> int:
    """The id at a shuffled position of a region's part (`Network._part_ids` for one id)."""
    first = part_start[r] if part == 1 else start[r]
    n = max((start[r + 1] if part == 1 else part_start[r]) - first, 1)
    return first + (inv[r, part] * ((position - shift[r, part]) % n)) % n


@numba.njit(cache=True)
def workmates(
    ids: np.ndarray,
    u: np.ndarray,
    start: np.ndarray,
    part_start: np.ndarray,
    mult: np.ndarray,
    inv: np.ndarray,
    shift: np.ndarray,
    workplace_start: np.ndarray,
    workplace_size: int,
    by_persons: bool,
    weight_stratum: float,
    weight_other: float,
) -> np.ndarray:
    """Random people of each id's workplace, one per column of `u` (`Network.random_workmates`).

    Each uniform draw of `u` picks a position in the workplace's block of shuffled positions;
    with a party stratum (`by_persons`) it first picks the stratum or the others in proportion
    to the persons each part of the workplace holds. -1 marks the id itself. The arithmetic is
    numpy's, step for step, so the mates are the same; compiled because numpy's cost per call
    dominated (the audience of every purge meeting, thousands of calls a run).
    """
    rows, k = u.shape
    out = np.empty((rows, k), dtype=np.int64)
    for i in range(rows):
        person = ids[i]
        r = np.searchsorted(start, person, side="right") - 1
        split = part_start[r]
        part = 1 if person >= split else 0
        first = split if part == 1 else start[r]
        n = (start[r + 1] if part == 1 else split) - first
        pos = (mult[r, part] * (person - first) + shift[r, part]) % max(n, 1)
        n0 = split - start[r]
        n1 = start[r + 1] - split
        if not by_persons:
            local_wp = pos // workplace_size
            low = local_wp * workplace_size
            high = min(local_wp * workplace_size + workplace_size, n)
            for j in range(k):
                offset = np.int64(u[i, j] * (high - low))
                mate = _part_id(start, part_start, inv, shift, r, part, low + offset)
                out[i, j] = -1 if mate == person else mate
            continue
        count = workplace_start[r + 1] - workplace_start[r]
        local_wp = pos * count // max(n, 1)
        low0 = -(-local_wp * n0 // count)
        high0 = -(-(local_wp + 1) * n0 // count)
        low1 = -(-local_wp * n1 // count)
        high1 = -(-(local_wp + 1) * n1 // count)
        persons0 = (high0 - low0) * weight_stratum
        persons1 = (high1 - low1) * weight_other
        for j in range(k):
            x = u[i, j] * (persons0 + persons1)
            if x < persons0:
                offset = np.int64(x / weight_stratum)
                position = min(low0 + offset, high0 - 1)
                mate = _part_id(start, part_start, inv, shift, r, 0, position)
            else:
                offset = np.int64((x - persons0) / weight_other)
                position = min(low1 + offset, high1 - 1)
                mate = _part_id(start, part_start, inv, shift, r, 1, position)
            out[i, j] = -1 if mate == person else mate
    return out


@numba.njit(cache=True)
def first_new(batch: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """The ids of `batch` that are not in `taken`, each once, in the order they first appear.

    What `batch[np.sort(np.unique(batch, return_index=True)[1])]` less those `np.isin` `taken`
    gives, in one pass through a hash set instead of two sorts: `SimState.sample_people` calls
    it for every batch of draws. Ids must be >= 0 (-1 marks an empty place in the set).
    """
    n_taken = len(taken)
    bits = 4
    while (1 << bits) < 2 * (n_taken + len(batch)):
        bits += 1
    mask = (1 << bits) - 1
    shift = np.uint64(64 - bits)
    table = np.full(1 << bits, -1, dtype=np.int64)
    out = np.empty(len(batch), dtype=np.int64)
    found = 0
    for j in range(n_taken + len(batch)):
        fresh = j >= n_taken
        x = batch[j - n_taken] if fresh else taken[j]
        h = np.int64((np.uint64(x) * _GOLDEN) >> shift)
        while True:
            y = table[h]
            if y == x:
                break
            if y == -1:
                table[h] = x
                if fresh:
                    out[found] = x
                    found += 1
                break
            h = (h + 1) & mask
    return out[:found]


KEEP = -1
"""`move`'s new status or fate meaning "as it is"."""


@numba.njit(cache=True)
def move(
    ids: np.ndarray,
    new_status: int,
    new_fate: int,
    expel: int,
    status: np.ndarray,
    fate: np.ndarray,
    origin: np.ndarray,
    weight_edges: np.ndarray,
    weight_values: np.ndarray,
    counts: np.ndarray,
    persons: np.ndarray,
) -> None:
    """Give people one new status or fate (or both), and move them in the counts (`SimState`).

    `new_status` and `new_fate` are a code, or KEEP to leave each person's own. With `expel`
    (a status code, else KEEP), candidates and members (codes 1 and 2) get that status: an
    arrested party member is expelled at once. The weights are constant on id ranges
    (`people.RangeConstant`). `counts` and `persons` are agents and persons by
    [status, fate, origin]. The result is numpy's `counts -= bincount(old cells)`, `counts +=
    bincount(new cells)`, and the same for the persons with the weights: the persons leaving and
    entering each cell are summed in the order of `ids` before they are applied, so the float
    sums are bit-identical. Each person's four attributes are read in one pass (the reads at
    random ids over arrays of 162 million agents are the cost: the natural deaths and the
    arrests at full scale), and every old status and fate is read before any is written.
    """
    old_status, old_fate, cell_origin, person_weight = _cells(
        ids, status, fate, origin, weight_edges, weight_values
    )
    _shift(
        ids,
        old_status,
        old_fate,
        cell_origin,
        person_weight,
        new_status,
        new_fate,
        expel,
        status,
        fate,
        counts,
        persons,
    )


@numba.njit(inline="always")
def _cells(
    ids: np.ndarray,
    status: np.ndarray,
    fate: np.ndarray,
    origin: np.ndarray,
    weight_edges: np.ndarray,
    weight_values: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each person's status, fate, origin and weight, read in one pass (`move`, `die`)."""
    n = len(ids)
    old_status = np.empty(n, dtype=np.int64)
    old_fate = np.empty(n, dtype=np.int64)
    cell_origin = np.empty(n, dtype=np.int64)
    person_weight = np.empty(n, dtype=np.float64)
    for i in range(n):
        person = ids[i]
        old_status[i] = status[person]
        old_fate[i] = fate[person]
        cell_origin[i] = origin[person]
        person_weight[i] = np.float64(ranged(weight_edges, weight_values, person))
    return old_status, old_fate, cell_origin, person_weight


@numba.njit(inline="always")
def _shift(
    ids: np.ndarray,
    old_status: np.ndarray,
    old_fate: np.ndarray,
    cell_origin: np.ndarray,
    person_weight: np.ndarray,
    new_status: int,
    new_fate: int,
    expel: int,
    status: np.ndarray,
    fate: np.ndarray,
    counts: np.ndarray,
    persons: np.ndarray,
) -> None:
    """The counts and the people's codes after `move` (its rules), from the cells read before."""
    n = len(ids)
    to_status_of = np.empty(n, dtype=np.int64)
    to_fate_of = np.empty(n, dtype=np.int64)
    leaving = np.zeros(counts.shape, dtype=np.float64)
    entering = np.zeros(counts.shape, dtype=np.float64)
    for i in range(n):
        s, f, o, w = old_status[i], old_fate[i], cell_origin[i], person_weight[i]
        to_status = s if new_status == KEEP else new_status
        if expel != KEEP and (to_status == 1 or to_status == 2):
            to_status = expel
        to_fate = f if new_fate == KEEP else new_fate
        counts[s, f, o] -= 1
        leaving[s, f, o] += w
        counts[to_status, to_fate, o] += 1
        entering[to_status, to_fate, o] += w
        to_status_of[i], to_fate_of[i] = to_status, to_fate
    for i in range(n):
        status[ids[i]] = to_status_of[i]
        fate[ids[i]] = to_fate_of[i]
    persons -= leaving
    persons += entering


@numba.njit(cache=True)
def die(
    ids: np.ndarray,
    dead: int,
    status: np.ndarray,
    fate: np.ndarray,
    origin: np.ndarray,
    weight_edges: np.ndarray,
    weight_values: np.ndarray,
    flags: np.ndarray,
    recorded: int,
    region_start: np.ndarray,
    part_start: np.ndarray,
    everyone_followed: bool,
    counts: np.ndarray,
    persons: np.ndarray,
    deaths: np.ndarray,
    death_persons: np.ndarray,
) -> np.ndarray:
    """Natural deaths in one pass over the dead (`SimState.natural_deaths`); who is followed.

    `move(ids, dead, KEEP, KEEP, ...)`; then whether the event log follows each person (in the
    party-scale stratum, below its region's `part_start`, or already `recorded`; everyone if
    `everyone_followed`); and the deaths of those not followed added to `deaths` (agents) and
    `death_persons` by [region, origin], summed in the order of `ids` from zero. Each person's
    attributes are read once (`_cells`, shared with `move`): at full scale the reads at random
    ids over 162 million agents are the cost, and the separate passes read them three times.
    """
    n = len(ids)
    old_status, old_fate, cell_origin, person_weight = _cells(
        ids, status, fate, origin, weight_edges, weight_values
    )
    region = np.empty(n, dtype=np.int64)
    followed = np.empty(n, dtype=np.bool_)
    for i in range(n):
        person = ids[i]
        r = np.searchsorted(region_start, person, side="right") - 1
        region[i] = r
        followed[i] = everyone_followed or person < part_start[r] or (flags[person] & recorded) != 0
    _shift(
        ids,
        old_status,
        old_fate,
        cell_origin,
        person_weight,
        dead,
        KEEP,
        KEEP,
        status,
        fate,
        counts,
        persons,
    )
    count = np.zeros(deaths.shape, dtype=np.int64)
    total = np.zeros(death_persons.shape, dtype=np.float64)
    for i in range(n):
        if not followed[i]:
            count[region[i], cell_origin[i]] += 1
            total[region[i], cell_origin[i]] += person_weight[i]
    deaths += count
    death_persons += total
    return followed


@numba.njit(cache=True)
def at_liberty(
    ids: np.ndarray, fate: np.ndarray, status: np.ndarray, free: int, dead: int
) -> np.ndarray:
    """Whether each person's fate is `free` and status not `dead` (`SimState.free`), one pass."""
    result = np.empty(len(ids), dtype=np.bool_)
    for i in range(len(ids)):
        person = ids[i]
        result[i] = fate[person] == free and status[person] != dead
    return result


@numba.njit(cache=True)
def read_and_mark(
    people: np.ndarray,
    cohort: np.ndarray,
    rank: np.ndarray,
    opposition: np.ndarray,
    flags: np.ndarray,
    mark: int,
    out_cohort: np.ndarray,
    out_rank: np.ndarray,
    out_opposition: np.ndarray,
) -> None:
    """Copy each person's changing attributes into the log's columns and set `mark` in flags.

    `EventLog.add` in one pass: at full scale its reads at random ids (three attributes and the
    flags, each a separate numpy pass before) were 8% of the run.
    """
    bit = np.uint8(mark)
    for i in range(len(people)):
        person = people[i]
        out_cohort[i] = cohort[person]
        out_rank[i] = rank[person]
        out_opposition[i] = opposition[person]
        flags[person] |= bit


_EMPTY = -1
_GONE = -2


@numba.njit(inline="always")
def _home(key: np.int64, shift: np.uint64) -> np.int64:
    return np.int64((np.uint64(key) * _GOLDEN) >> shift)


@numba.njit(cache=True)
def map_set(
    keys: np.ndarray, values: np.ndarray, shift: int, people: np.ndarray, days: np.ndarray
) -> tuple[int, int]:
    """Set the value of each person (a later entry wins) in an open-addressing table.

    `keys` holds ids >= 0, -1 (never used) or -2 (removed); its length is 2**(64 - shift).
    Returns the places newly taken from the never used and the people newly added.
    """
    mask = len(keys) - 1
    taken = added = 0
    for i in range(len(people)):
        x = people[i]
        h = _home(x, np.uint64(shift))
        reuse = -1
        while True:
            k = keys[h]
            if k == x:
                values[h] = days[i]
                break
            if k == _EMPTY:
                if reuse < 0:
                    reuse = h
                    taken += 1
                keys[reuse] = x
                values[reuse] = days[i]
                added += 1
                break
            if k == _GONE and reuse < 0:
                reuse = h
            h = (h + 1) & mask
    return taken, added


@numba.njit(cache=True)
def map_get(
    keys: np.ndarray, values: np.ndarray, shift: int, people: np.ndarray, missing: int
) -> np.ndarray:
    """The value of each person in the table (`map_set`), or `missing`."""
    mask = len(keys) - 1
    out = np.empty(len(people), dtype=np.int64)
    for i in range(len(people)):
        x = people[i]
        h = _home(x, np.uint64(shift))
        out[i] = missing
        while keys[h] != _EMPTY:
            if keys[h] == x:
                out[i] = values[h]
                break
            h = (h + 1) & mask
    return out


@numba.njit(cache=True)
def map_drop(keys: np.ndarray, shift: int, people: np.ndarray) -> int:
    """Remove people from the table (`map_set`); returns how many were in it."""
    mask = len(keys) - 1
    dropped = 0
    for i in range(len(people)):
        x = people[i]
        h = _home(x, np.uint64(shift))
        while keys[h] != _EMPTY:
            if keys[h] == x:
                keys[h] = _GONE
                dropped += 1
                break
            h = (h + 1) & mask
    return dropped


@numba.njit(cache=True)
def last_occurrences(ids: np.ndarray) -> np.ndarray:
    """Whether each entry of `ids` is the last with its id (a mask; ids must be >= 0).

    What marking `len(ids) - 1 - np.unique(ids[::-1], return_index=True)[1]` gives, through a
    hash set filled from the end instead of a sort (`state.Calendar`).
    """
    n = len(ids)
    bits = 4
    while (1 << bits) < 2 * n:
        bits += 1
    mask = (1 << bits) - 1
    shift = np.uint64(64 - bits)
    table = np.full(1 << bits, -1, dtype=np.int64)
    last = np.zeros(n, dtype=np.bool_)
    for j in range(n - 1, -1, -1):
        x = ids[j]
        h = _home(x, shift)
        while True:
            y = table[h]
            if y == x:
                break
            if y == -1:
                table[h] = x
                last[j] = True
                break
            h = (h + 1) & mask
    return last


@numba.njit(cache=True)
def scatter_in_order(target: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """`target[index] = values`, one after the other: a repeated index keeps its last value.

    numpy's fancy assignment does not promise which of the values a repeated index keeps.
    """
    for i in range(len(index)):
        target[index[i]] = values[i]


@numba.njit(cache=True)
def alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of `weights` (Vose's construction): one draw in O(1).

    Draw a position i uniformly and u uniform in [0, 1): the result is i if u < threshold[i],
    else alias[i]; each position comes out with probability weight / total. Positions of zero
    weight never come out. For the admissions, whose pool positions are drawn in proportion to
    their workplace's party density (`SimState.sample_people`).
    """
    n = len(weights)
    threshold = np.ones(n, dtype=np.float64)
    alias = np.arange(n, dtype=np.int64)
    total = weights.sum()
    if n == 0 or total <= 0:
        return threshold, alias
    scaled = weights.astype(np.float64) * (n / total)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    n_small = n_large = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        light = small[n_small]
        heavy = large[n_large - 1]
        threshold[light] = scaled[light]
        alias[light] = heavy
        scaled[heavy] = (scaled[heavy] + scaled[light]) - 1.0
        if scaled[heavy] < 1.0:
            n_large -= 1
            small[n_small] = heavy
            n_small += 1
    # what is left is 1 up to rounding; a position of zero weight left over stays excluded
    if n_small > 0:
        positive = 0
        while weights[positive] <= 0:
            positive += 1
        for j in range(n_small):
            if weights[small[j]] <= 0:
                threshold[small[j]] = 0.0
                alias[small[j]] = positive
    return threshold, alias


@numba.njit(cache=True)
def buckets_add(
    days: np.ndarray, people: np.ndarray, values: np.ndarray, lists: tuple, top: int, free: int
) -> tuple[int, int]:
    """Append entries to the lists of their days (`Calendar`), in the order given.

    `lists` holds, by day, the first entry (`head`, -1: none), the last (`tail`) and the count;
    by entry, the next entry of the same day (`following`, -1 ends it), the person and the value.
    An entry takes a place from the list of freed places (`free`) first, else the next unused
    place (`top`); the caller has made room. Returns the new `top` and `free`.
    """
    head, tail, count, following, person, value = lists
    for i in range(len(people)):
        if free >= 0:
            place = free
            free = following[place]
        else:
            place = top
            top += 1
        person[place] = people[i]
        value[place] = values[i]
        following[place] = -1
        day = days[i]
        if head[day] < 0:
            head[day] = place
        else:
            following[tail[day]] = place
        tail[day] = place
        count[day] += 1
    return top, free


@numba.njit(cache=True)
def buckets_pop(day: int, lists: tuple, free: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Take a day's entries in the order they were added; their places join the free list."""
    head, tail, count, following, person, value = lists
    n = count[day]
    people = np.empty(n, dtype=np.int64)
    values = np.empty(n, dtype=np.int64)
    place = head[day]
    i = 0
    while place >= 0:
        people[i] = person[place]
        values[i] = value[place]
        after = following[place]
        following[place] = free
        free = place
        place = after
        i += 1
    head[day] = -1
    tail[day] = -1
    count[day] = 0
    return people, values, free

"""How options of every mode are ranked together.

1. Pareto filter on (later departure, earlier arrival, fewer transfers, less walking,
   lower known price): an option survives unless another is at least as good on all five
   and better on one. The known price is the sum of the leg prices that are known
   (transit fares are not, so they count 0 here: a bike-and-train option is compared on
   what the bike costs).
2. Sort by arrival (departure, latest first, for arrive-by), then transfers, then price,
   then walking.
3. When more options survive than were asked for, the first option of each mode mix
   (walk+transit, bikeshare+transit, scooter, ridehail, ...) is kept before a second
   option of any mix, so a fast taxi does not crowd out the cheap bus; the kept ones are
   returned in the order of step 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray


class Rankable(Protocol):
    @property
    def dep(self) -> int: ...
    @property
    def arr(self) -> int: ...
    @property
    def transfers(self) -> int: ...
    @property
    def walk_s(self) -> int: ...
    @property
    def cost(self) -> float: ...
    @property
    def mix(self) -> str: ...


R = TypeVar("R", bound=Rankable)


def _key(c: Rankable) -> tuple[int, int, int, int, int]:
    return (-c.dep, c.arr, c.transfers, c.walk_s, round(c.cost * 100))


def pareto(cands: Sequence[R]) -> list[R]:
    """Options no other option beats (duplicates on every criterion kept once)."""
    if not cands:
        return []
    keys = np.array([_key(c) for c in cands], dtype=np.int64)
    # le[i, j]: option i is at least as good as j on every criterion; lt: better on one
    le = (keys[:, None, :] <= keys[None, :, :]).all(axis=2)
    lt = (keys[:, None, :] < keys[None, :, :]).any(axis=2)
    dominated: NDArray[np.bool_] = np.asarray((le & lt).any(axis=0), dtype=np.bool_)
    keep: list[R] = []
    seen: set[tuple[int, ...]] = set()
    for c, k, dom in zip(cands, keys.tolist(), dominated.tolist(), strict=True):
        if dom or tuple(k) in seen:
            continue
        seen.add(tuple(k))
        keep.append(c)
    return keep


def rank(cands: Sequence[R], arrive_by: bool, limit: int) -> list[R]:
    """The Pareto set sorted as documented above, at most ``limit`` options."""
    kept = pareto(cands)
    if arrive_by:
        kept.sort(key=lambda c: (-c.dep, c.transfers, c.cost, c.arr, c.walk_s))
    else:
        kept.sort(key=lambda c: (c.arr, c.transfers, c.cost, -c.dep, c.walk_s))
    if len(kept) <= limit:
        return kept
    chosen: list[int] = []
    mixes: set[str] = set()
    for i, c in enumerate(kept):
        if c.mix not in mixes:
            mixes.add(c.mix)
            chosen.append(i)
    for i in range(len(kept)):
        if len(chosen) >= limit:
            break
        if i not in chosen:
            chosen.append(i)
    return [kept[i] for i in sorted(chosen[:limit])]

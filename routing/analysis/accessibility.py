"""Cumulative-opportunity accessibility: per origin, the opportunities within each cutoff.

For every origin, percentile and cutoff (minutes), the sum of a destination weight
column over the destinations whose travel time is *below* the cutoff: R5's rule
(``TravelTimeReducer``: ``time < cutoff``, with times truncated to whole minutes, so a
59 min 59 s trip counts for 60). Rows follow r5r's ``accessibility()`` output:
``id, opportunity, percentile, cutoff, accessibility``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from routing.analysis.matrix import TravelTimeMatrix
from routing.analysis.points import Points
from routing.errors import BadRequest

COLUMNS = ("id", "opportunity", "percentile", "cutoff", "accessibility")


@dataclass(frozen=True, eq=False)
class Accessibility:
    """``values[percentile, origin, cutoff]``: opportunities reachable below the cutoff."""

    origins: tuple[str, ...]
    opportunity: str
    percentiles: tuple[int, ...]
    cutoffs: tuple[int, ...]
    values: NDArray[np.float64]

    def rows(self) -> Iterator[tuple[Any, ...]]:
        for i, o in enumerate(self.origins):
            for k, p in enumerate(self.percentiles):
                for c, cutoff in enumerate(self.cutoffs):
                    yield (o, self.opportunity, p, cutoff, float(self.values[k, i, c]))

    def write_csv(self, fh: IO[str]) -> int:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        n = 0
        for row in self.rows():
            w.writerow(row)
            n += 1
        return n


def opportunity_weights(destinations: Points, column: str | None) -> tuple[str, NDArray[np.float64]]:
    """The weight column (the only one when not named; a count of 1 each without any)."""
    if column is None:
        if not destinations.weights:
            return "count", np.ones(len(destinations))
        if len(destinations.weights) > 1:
            raise BadRequest("opportunities", f"name one of {', '.join(sorted(destinations.weights))}")
        column = next(iter(destinations.weights))
    if column not in destinations.weights:
        known = ", ".join(sorted(destinations.weights)) or "none"
        raise BadRequest("opportunities", f"no numeric destination column {column!r} (numeric columns: {known})")
    return column, destinations.weights[column]


def accessibility(
    matrix: TravelTimeMatrix, weights: NDArray[np.float64], cutoffs: Sequence[int], opportunity: str = "count"
) -> Accessibility:
    """Sum ``weights`` (one per destination of ``matrix``) over cells below each cutoff."""
    if not cutoffs or any(int(c) != c or c < 1 for c in cutoffs):
        raise BadRequest("cutoffs", "give whole minutes >= 1")
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(matrix.destinations),):
        raise BadRequest("opportunities", "needs one weight per destination")
    cuts = tuple(sorted({int(c) for c in cutoffs}))
    m = matrix.minutes  # [percentile, origin, destination], -1 unreachable
    values = np.empty((m.shape[0], m.shape[1], len(cuts)), np.float64)
    reached = m >= 0
    for c, cut in enumerate(cuts):
        values[:, :, c] = ((reached & (m < cut)) * w[None, None, :]).sum(axis=2)
    return Accessibility(matrix.origins, opportunity, matrix.percentiles, cuts, values)

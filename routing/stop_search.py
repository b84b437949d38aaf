"""Stop name search: a token-prefix index built once per graph, queried with bisect and numpy.

Names and queries are folded (accents and case removed, apostrophes dropped) and cut into words
at anything that is not a letter or digit. A stop matches when every query token is the prefix
of one of its words. Scripts written without spaces (Chinese, Japanese, Korean) also index every
suffix of their words, so a query matches anywhere inside such a name.

The index is a sorted vocabulary of distinct words and, for each word, the stops holding it, all
in flat arrays (CSR): the words starting with a query token are one bisected slice of the
vocabulary, so their stops are one contiguous slice of the postings. Ranking is precomputed as far
as it can be (stations and lone stops before platforms, shorter names first, then by name); per
query only the match class (exact name, name prefix, word prefixes) is computed, vectorised.
A query costs O(matching postings), never a scan of every name.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_SPLIT = re.compile(r"[\W_]+")
_APOSTROPHES = re.compile(r"['\u2019\u02bc]")
# scripts written without spaces between words: kana, CJK ideographs, hangul
_UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_MAX_SUFFIXES = 24  # a CJK word longer than this indexes only its first suffixes
# the last code point: "token" + _END bounds every word that starts with "token"
_END = "\U0010ffff"

IntArray = npt.NDArray[np.int64]


def fold(text: str) -> str:
    """Accent- and case-insensitive form of a name, for search."""
    if text.isascii():  # most names: nothing to decompose
        return text.casefold()
    nfkd = unicodedata.normalize("NFKD", text)
    return "".join(c for c in nfkd if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text`` ("Piazza D'Azeglio / Nord" -> piazza, dazeglio, nord)."""
    return [w for w in _SPLIT.split(_APOSTROPHES.sub("", fold(text))) if w]


def _index_terms(word: str) -> list[str]:
    if word.isascii() or _UNSPACED.search(word) is None:
        return [word]
    return [word[k:] for k in range(min(len(word), _MAX_SUFFIXES))]


class StopNameIndex:
    """Ranked name search over ``names``; ``platform[i]`` is true for a stop inside a station."""

    def __init__(self, names: Sequence[str], platform: Sequence[bool] | npt.NDArray[np.bool_]) -> None:
        n = len(names)
        self.size = n
        normalized = [" ".join(words(name)) for name in names]
        stops_of: dict[str, list[int]] = {}
        for i, text in enumerate(normalized):
            for word in text.split():
                for term in _index_terms(word):
                    held = stops_of.setdefault(term, [])
                    if not held or held[-1] != i:  # ids arrive in order: a repeat is the last one
                        held.append(i)
        self.vocab = sorted(stops_of)
        lengths = np.fromiter((len(stops_of[t]) for t in self.vocab), dtype=np.int64, count=len(self.vocab))
        self.offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        self.postings = np.fromiter(
            (i for t in self.vocab for i in stops_of[t]), dtype=np.int64, count=int(self.offsets[-1])
        )

        # whole normalized names, sorted: the names equal to or starting with a text are a slice
        self.sorted_names = sorted(normalized)
        by_name = np.asarray(sorted(range(n), key=normalized.__getitem__), dtype=np.int64)
        self.name_position = np.empty(n, dtype=np.int64)
        self.name_position[by_name] = np.arange(n, dtype=np.int64)
        # the query-independent part of the rank: (platform, name length, name), as one integer
        order = sorted(range(n), key=lambda i: (bool(platform[i]), len(normalized[i]), normalized[i], i))
        self.static_rank = np.empty(n, dtype=np.int64)
        self.static_rank[np.asarray(order, dtype=np.int64)] = np.arange(n, dtype=np.int64)

    def _prefix_slice(self, sorted_texts: list[str], prefix: str) -> tuple[int, int]:
        return bisect_left(sorted_texts, prefix), bisect_left(sorted_texts, prefix + _END)

    def _with_token(self, token: str) -> IntArray:
        """Stops with a word starting with ``token``, sorted, without repeats."""
        lo, hi = self._prefix_slice(self.vocab, token)
        if lo == hi:
            return np.empty(0, dtype=np.int64)
        found = self.postings[self.offsets[lo] : self.offsets[hi]]
        return found if hi - lo == 1 else np.unique(found)

    def search(self, query: str, limit: int | None = None) -> IntArray:
        """Indices of the stops matching ``query``, best first (all of them when ``limit`` is None).

        Rank: the whole name equals the query, then starts with it, then the rest; within a
        class stations and lone stops before platforms, then shorter names, then by name.
        """
        tokens = words(query)
        if not tokens or self.size == 0:
            return np.empty(0, dtype=np.int64)
        # the longest token first: it usually has the fewest stops, so the others filter less
        hits: IntArray | None = None
        for token in sorted(set(tokens), key=len, reverse=True):
            found = self._with_token(token)
            hits = found if hits is None else np.intersect1d(hits, found, assume_unique=True)
            if hits.size == 0:
                return hits
        assert hits is not None
        joined = " ".join(tokens)
        lo, hi = self._prefix_slice(self.sorted_names, joined)
        exact_hi = bisect_left(self.sorted_names, joined + "\x00", lo, hi)  # names equal to joined: [lo, exact_hi)
        pos = self.name_position[hits]
        match_class = np.where((pos >= lo) & (pos < exact_hi), 0, np.where((pos >= lo) & (pos < hi), 1, 2))
        ranked = hits[np.lexsort((self.static_rank[hits], match_class))]
        return ranked if limit is None else ranked[: max(limit, 0)]

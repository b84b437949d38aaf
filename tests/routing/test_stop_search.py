"""routing.stop_search: the token-prefix index returns what a scan of every name would, ranked."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.stop_search import StopNameIndex, fold, words

WORDS = ["Café", "cafe", "Nord", "Straße", "strasse", "D'Azeglio", "Via", "Vía", "Garibaldi", "Gare", "Über", "über",
         "São", "Paulo", "P", "Pa", "Centrale", "北京西站", "西单", "1", "12"]


def reference(names: list[str], platform: list[bool], q: str) -> list[int]:
    """The specification: every query word prefixes a word of the name; rank (exact, name prefix,
    other), then stations and lone stops first, then shorter, then by name."""
    tokens = words(q)
    if not tokens:
        return []
    joined = " ".join(tokens)
    hits = []
    for i, name in enumerate(names):
        ws = words(name)
        norm = " ".join(ws)
        # words of scripts without spaces match anywhere inside: every suffix is a term
        terms = [w[k:] for w in ws for k in range(len(w) if any("\u3400" <= c <= "\u9fff" for c in w) else 1)]
        if all(any(w.startswith(t) for w in terms) for t in tokens):
            klass = 0 if norm == joined else 1 if norm.startswith(joined) else 2
            hits.append(((klass, platform[i], len(norm), norm, i), i))
    return [i for _, i in sorted(hits)]


names_st = st.lists(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(lambda ws: " / ".join(ws) if len(ws) > 3 else " ".join(ws)),
    min_size=1, max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(names=names_st, data=st.data())
def test_index_matches_a_scan_of_every_name(names: list[str], data: st.DataObject) -> None:
    platform = data.draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
    q = data.draw(st.one_of(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
        st.sampled_from(WORDS).map(lambda w: w[: max(1, len(w) // 2)]),
        st.text(alphabet="aceéiopsßu' ", max_size=6),
    ))
    index = StopNameIndex(names, platform)
    assert index.search(q).tolist() == reference(names, platform, q)
    assert index.search(q, 3).tolist() == reference(names, platform, q)[:3]


def test_folding_accents_case_and_apostrophes() -> None:
    assert fold("Café ÜBER") == "cafe uber"
    assert words("Piazza D'Azeglio / São Paulo-Centrale") == ["piazza", "dazeglio", "sao", "paulo", "centrale"]
    names = ["Café Nord", "CAFE SUD", "Straße 1", "D\u2019Azeglio"]
    index = StopNameIndex(names, [False] * len(names))
    assert sorted(index.search("cafe").tolist()) == [0, 1]
    assert sorted(index.search("CAFÉ").tolist()) == [0, 1]
    assert index.search("strasse").tolist() == [2]
    assert index.search("d'azeglio").tolist() == [3] == index.search("dazeg").tolist()


def test_chinese_names_match_anywhere_inside() -> None:
    names = ["北京西站", "北京南站", "西单"]
    index = StopNameIndex(names, [False, False, False])
    assert index.search("西站").tolist() == [0]
    assert index.search("北京").tolist() == [1, 0]  # same length: by name (code points)
    assert index.search("西").tolist() == [2, 0]  # the name starting with it first
    assert index.search("东").tolist() == []


def test_ranking_exact_then_prefix_then_stations_then_shorter() -> None:
    names = ["Main Street Depot", "Main", "Old Main", "Main Street", "Main Street"]
    platform = [False, True, False, True, False]
    index = StopNameIndex(names, platform)
    # "Main Street": exact (the station before the platform), then the name prefix
    assert index.search("main street").tolist() == [4, 3, 0]
    assert index.search("main").tolist() == [1, 4, 0, 3, 2]
    assert index.search("").tolist() == [] and index.search("  /  ").tolist() == []
    assert StopNameIndex([], np.zeros(0, dtype=bool)).search("main").tolist() == []

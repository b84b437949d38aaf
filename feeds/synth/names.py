"""Street names for the synthetic city: Italian-looking, unique, drawn per seed."""

from __future__ import annotations

import numpy as np

FIRST_NAMES = (
    "Alessandro", "Andrea", "Angela", "Anna", "Antonio", "Beatrice", "Carlo", "Caterina", "Chiara", "Cesare",
    "Domenico", "Elena", "Enrico", "Federico", "Francesca", "Giacomo", "Giovanni", "Giulia", "Giuseppe", "Laura",
    "Leonardo", "Lucia", "Luigi", "Marco", "Maria", "Matteo", "Paolo", "Pietro", "Rosa", "Silvia", "Teresa",
    "Vittoria",
)  # fmt: skip

SURNAMES = (
    "Alfieri", "Ariosto", "Bassi", "Bellini", "Bernini", "Boccaccio", "Borromeo", "Botticelli", "Bruno", "Canova",
    "Caravaggio", "Carducci", "Cavour", "Colombo", "Corelli", "Dante", "D'Azeglio", "Deledda", "Einaudi", "Fermi",
    "Foscolo", "Galilei", "Galvani", "Garibaldi", "Giotto", "Goldoni", "Gramsci", "Leopardi", "Machiavelli",
    "Manzoni", "Marconi", "Mazzini", "Meucci", "Montale", "Monteverdi", "Montessori", "Morandi", "Paganini",
    "Palestrina", "Pascoli", "Petrarca", "Pirandello", "Puccini", "Raffaello", "Rossini", "Segre", "Spallanzani",
    "Tasso", "Tiepolo", "Tiziano", "Torricelli", "Verdi", "Verga", "Vespucci", "Vivaldi", "Volta",
)  # fmt: skip


def base_names(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct person names ("Giuseppe Verdi"), in a seeded order.

    Surnames alone come first (they read best), then first name + surname; past
    the 1,800 or so combinations a number keeps them unique.
    """
    surnames = [SURNAMES[i] for i in rng.permutation(len(SURNAMES))]
    names = list(surnames)
    if count > len(names):
        combos = [f"{first} {last}" for first in FIRST_NAMES for last in SURNAMES]
        names.extend(combos[i] for i in rng.permutation(len(combos)))
    k = 2
    while count > len(names):
        names.extend(f"{last} {k}" for last in surnames)
        k += 1
    return names[:count]

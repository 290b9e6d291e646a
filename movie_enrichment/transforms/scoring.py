"""How much a TMDB candidate looks like the record's film: one table of named, weighted signals, from which both
the candidate's score and the words that explain it come (as beets' `Distance` does for its autotagger)."""

from __future__ import annotations

import dataclasses
import difflib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from movie_enrichment.transforms.query import MovieQuery

# Roman numerals that mark sequels ("i", "v", "x" excluded: they are also words/letters in titles).
_ROMAN_NUMERALS = frozenset(
    "ii iii iv vi vii viii ix xi xii xiii xiv xv xvi xvii xviii xix xx".split()
)


@dataclasses.dataclass
class Facts:
    """What is known of a candidate, measured once: its year, how close its titles come to the record's title
    and original title (None: the record has none), and whether its directors agree (None: not checked, or
    TMDB names none)."""

    year: int | None
    title_similarity: float
    original_title_similarity: float | None = None
    director_agrees: bool | None = None


@dataclasses.dataclass(frozen=True)
class Term:
    """One signal's part in a score: a factor in [0, 1] (1.0 leaves the score as it is); `why` says what lowered
    it, `unknown` what the signal lacked to weigh anything. Signals of one `group` compete: the best counts."""

    signal: str
    group: str
    factor: float
    why: str | None = None
    unknown: str | None = None


@dataclasses.dataclass(frozen=True)
class Score:
    """A candidate's terms, one per signal of `SIGNALS`, and the score they make: the product of each group's
    best factor, in the table's order."""

    terms: tuple[Term, ...]
    value: float

    @classmethod
    def of(cls, terms: tuple[Term, ...]) -> Score:
        best: dict[str, float] = {}
        for term in terms:
            best[term.group] = max(best.get(term.group, 0.0), term.factor)
        value = 1.0
        for factor in best.values():
            value *= factor
        return cls(terms, value)

    def factor(self, group: str) -> float:
        """The factor a group contributes (its best signal's)."""
        return max(term.factor for term in self.terms if term.group == group)

    def _counted(self) -> list[Term]:
        """Each group's best term (the first of equals), in the table's order."""
        counted: dict[str, Term] = {}
        for term in self.terms:
            if term.group not in counted or term.factor > counted[term.group].factor:
                counted[term.group] = term
        return list(counted.values())

    def why(self) -> str:
        """What lowered the score, as ' (year 2011 vs 1982, different director)'; '' when nothing did."""
        parts = [term.why for term in self._counted() if term.why]
        return f" ({', '.join(parts)})" if parts else ""

    def signals(self) -> dict[str, float | None]:
        """Each signal of the table by name (`original_title` for "original title") and the factor it gave, None
        for a signal the record or TMDB could not give: what a matched outcome's `match.signals` says."""
        given = {term.signal: round(term.factor, 4) for term in self.terms if not term.unknown}
        return {name.replace(" ", "_"): given.get(name) for name in SIGNAL_NAMES}

    def unknowns(self) -> list[str]:
        """What the signals lacked: 'year', 'director', 'director on TMDB'."""
        return [term.unknown for term in self.terms if term.unknown]


@dataclasses.dataclass(frozen=True)
class YearSignal:
    """Years apart from the record's year. One year off is the usual festival-vs-release gap; three or more is
    usually a remake, which pushes even an exact title below the minimum score. A director who agrees makes the
    identity near-certain: the year then costs at most `director_floor`."""

    name: str = "year"
    apart: tuple[float, ...] = (1.0, 0.95, 0.85)  # by years apart: 0, 1, 2
    far: float = 0.45
    missing_on_candidate: float = 0.8  # TMDB entries without a date are mostly stubs or unreleased
    director_floor: float = 0.9

    def raw(self, wanted: int | None, year: int | None) -> float:
        if wanted is None:
            return 1.0  # neutral: remakes then tie, which is what we want to detect
        if year is None:
            return self.missing_on_candidate
        distance = abs(wanted - year)
        return self.apart[distance] if distance < len(self.apart) else self.far

    def term(self, q: MovieQuery, facts: Facts) -> Term:
        raw = self.raw(q.year, facts.year)
        factor = max(raw, self.director_floor) if facts.director_agrees is True else raw
        why = f"year {facts.year or 'unknown'} vs {q.year}" if q.year is not None and raw < 1.0 else None
        return Term(self.name, self.name, factor, why, "year" if q.year is None else None)


@dataclasses.dataclass(frozen=True)
class DirectorSignal:
    """Whether TMDB's directors include one of the record's: a known other director costs `mismatch`."""

    name: str = "director"
    mismatch: float = 0.5

    def term(self, q: MovieQuery, facts: Facts) -> Term:
        unknown = None if q.directors else "director"
        if q.directors and facts.director_agrees is None:
            unknown = "director on TMDB"
        if facts.director_agrees is False:
            return Term(self.name, self.name, self.mismatch, "different director", unknown)
        return Term(self.name, self.name, 1.0, None, unknown)


@dataclasses.dataclass(frozen=True)
class TitleSignal:
    """How close the candidate's title or original title comes to one of the record's titles (`title_similarity`
    with `dissimilarity`). Below `minimum` the candidate is not the same film, whatever its year.
    `original`: this row weighs the record's original title; both rows compete in the "title" group."""

    name: str = "title"
    original: bool = False
    dissimilarity: float = 3.0
    minimum: float = 0.8

    def term(self, q: MovieQuery, facts: Facts) -> Term | None:
        similarity = facts.original_title_similarity if self.original else facts.title_similarity
        if similarity is None:
            return None
        why = f"title similarity {similarity:.2f}" if similarity < 1.0 else None
        return Term(self.name, "title", similarity, why)


@dataclasses.dataclass(frozen=True)
class PopularitySignal:
    """TMDB's popularity, only to order candidates whose scores already differ: a bonus bounded by `weight`, far
    below any real gap, and never consulted for the tie (ambiguity) decision."""

    name: str = "popularity"
    weight: float = 0.001

    def bonus(self, popularity: float) -> float:
        return self.weight * popularity / (popularity + 50.0)


# The table: the order is the order of the product and of the explanation. An id in the record (TMDB's, or an
# IMDb id TMDB finds one film for) is the last signal: it decides alone (`ID_AGREES`), before any search.
YEAR = YearSignal()
DIRECTOR = DirectorSignal()
TITLE = TitleSignal()
ORIGINAL_TITLE = TitleSignal("original title", original=True)
SIGNALS = (YEAR, DIRECTOR, TITLE, ORIGINAL_TITLE)
SIGNAL_NAMES = ("title", "original title", "year", "director", "id")  # the order of `Score.signals`
POPULARITY = PopularitySignal()
ID_AGREES = Score((Term("id", "id", 1.0),), 1.0)


def score(q: MovieQuery, facts: Facts) -> Score:
    """The candidate's score and its explanation, from every signal of the table."""
    return Score.of(tuple(term for signal in SIGNALS if (term := signal.term(q, facts)) is not None))


def _number_tokens(normalized: str) -> list[str]:
    digits = re.findall(r"\d+", normalized)
    romans = [t for t in normalized.split() if t in _ROMAN_NUMERALS]
    return digits + romans


def title_similarity(a: str, b: str, dissimilarity: float = TITLE.dissimilarity) -> float:
    """Similarity of two normalize_title() keys in [0, 1], harsh on anything but near-identity: the difflib
    dissimilarity is multiplied by `dissimilarity`, so a raw ratio must reach ~0.934 to survive ("Aliens" vs
    "Alien", 0.91, fails; "Shawshank Redemtion", 0.98, passes)."""
    if a == b or a.replace(" ", "") == b.replace(" ", ""):  # "spider man" == "spiderman"
        return 1.0
    if _number_tokens(a) != _number_tokens(b):  # "300" vs "3000", "Rocky II" vs "Rocky III"
        return 0.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return max(0.0, 1.0 - dissimilarity * (1.0 - ratio))

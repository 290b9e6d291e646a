"""Resolve one movie query to a TMDB movie id: the searches, the candidates and the decision (pure functions; the HTTP
calls are injected)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from movie_enrichment.model import AMBIGUOUS as STATUS_AMBIGUOUS
from movie_enrichment.model import NOT_FOUND as STATUS_NOT_FOUND
from movie_enrichment.model import OK as STATUS_OK
from movie_enrichment.transforms import fields, scoring
from movie_enrichment.transforms.query import (  # noqa: F401  (re-exported: the lookup and tests read them here)
    LEADING_ARTICLES,
    InvalidRecord,
    MovieQuery,
    fold,
    normalize_title,
    positive_int,
    query_from_record,
)
from movie_enrichment.transforms.scoring import title_similarity  # noqa: F401  (re-exported)

# --- Decisions (scores are in [0, 1]; the signals and their weights are `scoring.SIGNALS`) ----------------------
# A winner below this is rejected (not_found) rather than guessed.
MIN_SCORE = 0.6
# Director verification (details calls) happens when the best is below CONFIDENT_SCORE, or when
# other candidates are within DIRECTOR_CHECK_MARGIN of it; at most MAX_DETAIL_CHECKS calls.
CONFIDENT_SCORE = 0.9
DIRECTOR_CHECK_MARGIN = 0.1
MAX_DETAIL_CHECKS = 3
# Candidates whose scores differ by no more than this are "equal evidence": ambiguous.
TIE_EPSILON = 1e-6

@dataclasses.dataclass
class MatchResult:
    """Outcome of match_movie; `details` is the winner's details body when matching fetched it."""

    status: str
    tmdb_id: int | None
    score: float | None
    reason: str | None
    details: dict | None
    requests: int
    # For ambiguous and not_found: the best candidates, for a person to choose from (the review list).
    candidates: tuple[ReviewCandidate, ...] = ()
    searches: tuple[str, ...] = ()
    # For ok: why this film (`explain`), which the matched outcome keeps as its `match`.
    match: dict | None = None


def explain(score: scoring.Score, runner_up: _Candidate | None = None) -> dict:
    """A match's explanation, as the matched outcome stores it: {"score", "signals": {name: factor or None},
    "runner_up": {"id", "title", "score"} or None}, from the same `scoring.Score` the review list explains a
    rejection with."""
    second = None if runner_up is None else {"id": runner_up.tmdb_id, "title": runner_up.title,
                                             "score": round(runner_up.evidence, 4)}
    return {"score": round(score.value, 4), "signals": score.signals(), "runner_up": second}


def by_id() -> dict:
    """The explanation of a film found by its id (the record's, a pin's, an earlier match's)."""
    return explain(scoring.ID_AGREES)


@dataclasses.dataclass(frozen=True)
class ReviewCandidate:
    """A film a person may pick when the matcher would not: what TMDB says of it, and why it was not chosen."""

    tmdb_id: int
    title: str
    year: int | None
    directors: tuple[str, ...]
    poster_path: str | None
    score: float
    why_not: str


def search_query(q: MovieQuery) -> str:
    """The /search/movie query: the cleaned display title, article in front, accents and '&' kept.

    '&' is kept because TMDB titles use it when the film does ("Fast & Furious"); when such a
    search finds nothing, match_movie retries once with '&' <-> 'and' swapped.
    """
    return q.title


def _retry_query(query: str) -> str | None:
    """A second, differently spelled query for when the first returned nothing (or None)."""
    if " & " in query:
        variant = query.replace(" & ", " and ")
    elif re.search(r"\band\b", query):
        variant = re.sub(r"\band\b", "&", query)
    else:
        # TMDB tokenises punctuation differently from scrapers ("WALL·E", "Amores perros:").
        variant = " ".join(re.sub(r"[^\w'&]+", " ", query).split())
    return variant if variant and variant != query else None


# --- Directors --------------------------------------------------------------------------------


def _person_keys(name: str) -> set[str]:
    """Keys under which two spellings of one person compare equal ('Browning, Kirk' == 'Kirk Browning')."""
    if name.count(",") == 1:
        last, first = name.split(",")
        name = f"{first} {last}"
    tokens = "".join(ch if ch.isalnum() else " " for ch in fold(name)).split()
    if not tokens:
        return set()
    # Compact form absorbs "J.J." vs "J. J."; sorted form absorbs family-name-first orders.
    return {"".join(tokens), " ".join(sorted(tokens))}


def _details_directors(body: dict) -> list[str]:
    credits = body.get("credits") if isinstance(body.get("credits"), dict) else {}
    crew = credits.get("crew") if isinstance(credits.get("crew"), list) else []
    names = []
    for member in crew:
        if isinstance(member, dict) and member.get("job") == "Director":
            names += [n for n in (member.get("name"), member.get("original_name")) if isinstance(n, str)]
    return names


def _director_agrees(wanted: tuple[str, ...], body: dict) -> bool | None:
    """True/False when the details name directors; None when TMDB lists none (unknown, neutral)."""
    known = _details_directors(body)
    if not known:
        return None
    known_keys = set().union(*(_person_keys(n) for n in known))
    return any(_person_keys(w) & known_keys for w in wanted)


# --- Candidates -------------------------------------------------------------------------------


@dataclasses.dataclass
class _Candidate:
    """A search result as a candidate: what TMDB says of it, the facts measured on it and its `scoring.Score`."""

    q: MovieQuery
    tmdb_id: int
    title: str
    popularity: float
    facts: scoring.Facts
    poster_path: str | None = None
    details: dict | None = None
    score: scoring.Score = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.score = scoring.score(self.q, self.facts)

    @property
    def year(self) -> int | None:
        return self.facts.year

    @property
    def evidence(self) -> float:
        return self.score.value

    @property
    def title_sim(self) -> float:
        return self.score.factor("title")

    @property
    def rank(self) -> float:
        return self.score.value + scoring.POPULARITY.bonus(self.popularity)

    def check_director(self, body: dict) -> None:
        """Takes the candidate's details: its directors against the record's, and the score again."""
        self.details = body
        self.facts.director_agrees = _director_agrees(self.q.directors, body)
        self.score = scoring.score(self.q, self.facts)

    def label(self) -> str:
        return f"'{self.title}' ({self.year or '?'}) #{self.tmdb_id}"

    def for_review(self, why_not: str) -> ReviewCandidate:
        directors = tuple(dict.fromkeys(_details_directors(self.details))) if self.details else ()
        return ReviewCandidate(self.tmdb_id, self.title, self.year, directors, self.poster_path,
                               round(self.evidence, 4), why_not)


def _candidate_year(movie: dict) -> int | None:
    date = movie.get("release_date")
    return fields.parse_year(date) if isinstance(date, str) else None


def _score_candidate(q: MovieQuery, wanted: tuple[str, str | None], movie: dict) -> _Candidate | None:
    tmdb_id = positive_int(movie.get("id"))
    if tmdb_id is None:
        return None
    titles = [t for t in (movie.get("title"), movie.get("original_title")) if isinstance(t, str) and t]
    if not titles:
        return None
    keys = [normalize_title(t) for t in titles]
    title, original = wanted
    popularity = movie.get("popularity")
    poster = movie.get("poster_path")
    facts = scoring.Facts(
        year=_candidate_year(movie),
        title_similarity=max(title_similarity(title, key) for key in keys),
        original_title_similarity=max(title_similarity(original, key) for key in keys) if original else None)
    return _Candidate(
        q=q,
        tmdb_id=tmdb_id,
        title=titles[0],
        popularity=float(popularity) if isinstance(popularity, (int, float)) and popularity > 0 else 0.0,
        facts=facts,
        poster_path=poster if isinstance(poster, str) and poster else None,
    )


def _score_all(q: MovieQuery, results: list[dict]) -> list[_Candidate]:
    wanted = (normalize_title(q.title), normalize_title(q.original_title) if q.original_title else None)
    scored: dict[int, _Candidate] = {}
    for movie in results:
        candidate = _score_candidate(q, wanted, movie) if isinstance(movie, dict) else None
        if candidate is not None and candidate.tmdb_id not in scored:
            scored[candidate.tmdb_id] = candidate
    return list(scored.values())


def _ranked(candidates: list[_Candidate]) -> list[_Candidate]:
    return sorted(candidates, key=lambda c: -c.rank)  # stable: TMDB order breaks exact rank ties


# --- Matching ---------------------------------------------------------------------------------


class _CountingApi:
    """Wraps the injected callables and counts every request made through them."""

    def __init__(self, search, find_by_imdb, details) -> None:
        self._search, self._find, self._details = search, find_by_imdb, details
        self.requests = 0

    def search(self, query: str, year: int | None = None) -> list[dict]:
        self.requests += 1
        # The year goes only to a year-filtered search, so plain search callables keep one argument.
        return list((self._search(query) if year is None else self._search(query, year)) or [])

    def find_by_imdb(self, imdb_id: str) -> list[dict]:
        self.requests += 1
        return list(self._find(imdb_id) or [])

    def details(self, tmdb_id: int) -> dict | None:
        self.requests += 1
        return self._details(tmdb_id)


def match_movie(
    q: MovieQuery,
    search: Callable[..., list[dict]],
    find_by_imdb: Callable[[str], list[dict]],
    details: Callable[[int], dict | None],
) -> MatchResult:
    """Resolve q to a TMDB id: known id, then IMDb id lookup, then scored title search.

    `search(query)` searches by title; `search(query, year)` filters by release year (used only when the
    first search filled a whole page without a usable candidate)."""
    if q.tmdb_id is not None:
        return MatchResult(STATUS_OK, q.tmdb_id, scoring.ID_AGREES.value, None, None, 0, match=by_id())
    api = _CountingApi(search, find_by_imdb, details)
    if q.imdb_id is not None:
        found = _single_movie_id(api.find_by_imdb(q.imdb_id))
        if found is not None:
            return MatchResult(STATUS_OK, found, scoring.ID_AGREES.value, None, None, api.requests, match=by_id())
    return _match_by_search(q, api)


def _single_movie_id(movie_results: list[dict]) -> int | None:
    # More than one movie for one IMDb id is a TMDB data error: let the title search decide.
    if len(movie_results) != 1 or not isinstance(movie_results[0], dict):
        return None
    return positive_int(movie_results[0].get("id"))


# TMDB answers 20 results a page: a full page may hide the film on the next ones.
SEARCH_PAGE_SIZE = 20


def _without_article(title: str) -> str | None:
    """'The Martian Child' -> 'Martian Child' (TMDB's title may lack the article the scraper added)."""
    words = title.split()
    if len(words) >= 2 and words[0].casefold() in LEADING_ARTICLES:
        return " ".join(words[1:])
    return None


class _Searches:
    """The searches of one movie, their results pooled (each result kept once, first seen first)."""

    def __init__(self, q: MovieQuery, api: _CountingApi):
        self._q, self._api = q, api
        self.labels: list[str] = []
        self._pool: dict[object, dict] = {}
        self._done: set[tuple[str, int | None]] = set()

    def run(self, query: str | None, year: int | None = None) -> list[dict] | None:
        if not query or (query, year) in self._done:
            return None
        self._done.add((query, year))
        self.labels.append(f"'{query}'" + (f" in {year}" if year is not None else ""))
        results = self._api.search(query, year)
        for movie in results:
            key = movie.get("id") if isinstance(movie, dict) and movie.get("id") is not None else id(movie)
            self._pool.setdefault(key, movie)
        return results

    @property
    def results(self) -> list[dict]:
        return list(self._pool.values())

    def has_title(self) -> bool:
        """Some result is the same film title (whatever its year)."""
        return any(c.title_sim >= scoring.TITLE.minimum for c in _score_all(self._q, self.results))

    def has_year(self) -> bool:
        """Some result is the same title within a year of the wanted one."""
        return any(c.title_sim >= scoring.TITLE.minimum and c.score.factor("year") >= scoring.YEAR.apart[1]
                   for c in _score_all(self._q, self.results))


def _search(q: MovieQuery, api: _CountingApi) -> _Searches:
    """The title search, then, only while nothing usable came back, what a person would try next on TMDB:
    a respelled title ('&'/'and', punctuation) when nothing at all came back, the title without its leading
    article, the original title, and, when a full page hid the rest, the year and the year one off."""
    searches = _Searches(q, api)
    first = searches.run(search_query(q)) or []
    if not first:
        searches.run(_retry_query(search_query(q)))
    for variant in (_without_article(q.title), q.original_title):
        if searches.has_title():
            break
        searches.run(variant)
    if q.year is not None and len(first) >= SEARCH_PAGE_SIZE:
        for year in (q.year, q.year - 1, q.year + 1):
            if searches.has_year():
                break
            searches.run(search_query(q), year)
    return searches


def _match_by_search(q: MovieQuery, api: _CountingApi) -> MatchResult:
    searches = _search(q, api)
    results = searches.results
    if not results:
        searched = " and ".join(searches.labels)
        return _not_found(f"search for {searched} returned no results", api, searches)
    candidates = _ranked(_score_all(q, results))
    plausible = [c for c in candidates if c.title_sim >= scoring.TITLE.minimum]
    if not plausible:
        review = [c.for_review(f"title similarity {c.title_sim:.2f} is below {scoring.TITLE.minimum:.2f}")
                  for c in sorted(candidates, key=lambda c: -c.title_sim)[:REVIEW_CANDIDATES]]
        return _not_found(_no_title_reason(q, candidates), api, searches, review)
    if q.directors and _needs_director_check(plausible):
        plausible = _check_directors(q, plausible, api)
        if not plausible:
            return _not_found("every plausible candidate is gone from TMDB (details 404)", api, searches)
    return _decide(q, _ranked(plausible), api, searches, candidates)


REVIEW_CANDIDATES = 3


def _no_title_reason(q: MovieQuery, candidates: list[_Candidate]) -> str:
    if not candidates:
        return f"no usable candidate in the results for '{q.title}'"
    closest = max(candidates, key=lambda c: c.title_sim)
    return f"no candidate title matches '{q.title}'; closest {closest.label()} (title similarity {closest.title_sim:.2f})"


def _needs_director_check(plausible: list[_Candidate]) -> bool:
    best = plausible[0].evidence
    rivals = [c for c in plausible[1:] if c.evidence >= best - DIRECTOR_CHECK_MARGIN]
    return best < CONFIDENT_SCORE or bool(rivals)


def _check_directors(q: MovieQuery, plausible: list[_Candidate], api: _CountingApi) -> list[_Candidate]:
    """Fetch details of the top plausible candidates and score their directors; drop 404s."""
    best = plausible[0].evidence
    low_confidence = best < CONFIDENT_SCORE
    to_check = [c for c in plausible if low_confidence or c.evidence >= best - DIRECTOR_CHECK_MARGIN]
    to_check = to_check[:MAX_DETAIL_CHECKS]
    gone: set[int] = set()
    for candidate in to_check:
        body = api.details(candidate.tmdb_id)
        if not isinstance(body, dict):
            gone.add(candidate.tmdb_id)  # deleted/merged on TMDB: it cannot be enriched anyway
            continue
        candidate.check_director(body)
    return [c for c in plausible if c.tmdb_id not in gone]


def _decide(q: MovieQuery, ranked: list[_Candidate], api: _CountingApi, searches: _Searches,
            candidates: list[_Candidate] = ()) -> MatchResult:
    """The winner of the plausible candidates `ranked`, if it scores enough and alone; `candidates`: every one
    scored, of which the best other is the winner's runner-up."""
    winner = ranked[0]
    if winner.evidence < MIN_SCORE:
        review = [c.for_review(f"scored {c.evidence:.2f}, below {MIN_SCORE:.2f}{c.score.why()}")
                  for c in ranked[:REVIEW_CANDIDATES]]
        return _not_found(f"best candidate {winner.label()} scored {winner.evidence:.2f}{winner.score.why()}",
                          api, searches, review)
    tied = [c for c in ranked if abs(c.evidence - winner.evidence) <= TIE_EPSILON]
    if len(tied) > 1:
        review = [c.for_review(_why_tied(q, c, tied)) for c in tied[:REVIEW_CANDIDATES]]
        return MatchResult(STATUS_AMBIGUOUS, None, None, _tie_reason(tied), None, api.requests, tuple(review),
                           tuple(searches.labels))
    others = [c for c in candidates or ranked if c is not winner and c.tmdb_id != winner.tmdb_id]
    runner_up = max(others, key=lambda c: c.rank, default=None)
    return MatchResult(STATUS_OK, winner.tmdb_id, round(winner.evidence, 4), None, winner.details, api.requests,
                       (), tuple(searches.labels), explain(winner.score, runner_up))


def _why_tied(q: MovieQuery, candidate: _Candidate, tied: list[_Candidate]) -> str:
    others = ", ".join(f"#{c.tmdb_id}" for c in tied if c is not candidate)
    missing = candidate.score.unknowns()
    hint = f"; the record has no {' or '.join(missing)} to tell them apart" if missing else ""
    return f"scored {candidate.evidence:.2f}, the same as {others}{hint}"


def _tie_reason(tied: list[_Candidate]) -> str:
    """'2 candidates tie: 'Hamlet' (1990) #123, #456' — ids grouped under a shared title/year."""
    groups: dict[tuple[str, int | None], list[int]] = {}
    for c in tied:
        groups.setdefault((c.title, c.year), []).append(c.tmdb_id)
    listed = "; ".join(
        f"'{title}' ({year or '?'}) " + ", ".join(f"#{i}" for i in ids) for (title, year), ids in groups.items()
    )
    return f"{len(tied)} candidates tie: {listed}"


def _not_found(reason: str, api: _CountingApi, searches: _Searches | None = None,
               review: list[ReviewCandidate] | None = None) -> MatchResult:
    return MatchResult(STATUS_NOT_FOUND, None, None, reason, None, api.requests, tuple(review or ()),
                       tuple(searches.labels) if searches else ())

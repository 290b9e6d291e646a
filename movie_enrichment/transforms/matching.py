"""Resolve one scraped movie record to a TMDB movie id (pure functions; the HTTP calls are injected)."""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from collections.abc import Callable

STATUS_OK = "ok"
STATUS_NOT_FOUND = "not_found"
STATUS_AMBIGUOUS = "ambiguous"
STATUS_INVALID = "invalid"

# --- Scoring knobs (all scores are in [0, 1]) -------------------------------------------------
# A candidate whose best title similarity is below this is not the same film, whatever its year.
TITLE_MIN_SIMILARITY = 0.8
# Non-exact titles: the difflib dissimilarity is multiplied by this, so a raw ratio must reach
# ~0.934 to survive.  "Aliens" vs "Alien" (ratio 0.91) must fail, "Shawshank Redemtion" (0.98) pass.
TITLE_DISSIMILARITY_WEIGHT = 3.0
# Year agreement multiplies the title similarity.  One year off is the usual festival-vs-release
# gap; three or more is usually a remake, so it pushes an exact title below MIN_SCORE.
YEAR_FACTORS = {0: 1.0, 1: 0.95, 2: 0.85}
YEAR_FAR_FACTOR = 0.45
YEAR_MISSING_ON_CANDIDATE = 0.8  # TMDB entries without a date are mostly stubs/unreleased
# A winner below this is rejected (not_found) rather than guessed.
MIN_SCORE = 0.6
# Director verification (details calls) happens when the best is below CONFIDENT_SCORE, or when
# other candidates are within DIRECTOR_CHECK_MARGIN of it; at most MAX_DETAIL_CHECKS calls.
CONFIDENT_SCORE = 0.9
DIRECTOR_CHECK_MARGIN = 0.1
MAX_DETAIL_CHECKS = 3
# A confirmed director makes the identity near-certain, so a year discrepancy is forgiven down to
# this factor; a known different director halves the score.
DIRECTOR_MATCH_YEAR_FLOOR = 0.9
DIRECTOR_MISMATCH_FACTOR = 0.5
# Candidates whose evidence scores differ by no more than this are "equal evidence": ambiguous.
TIE_EPSILON = 1e-6
# Popularity only orders candidates with different evidence; it is bounded far below any real
# evidence gap and is never consulted for the tie (ambiguity) decision.
POPULARITY_WEIGHT = 0.001

MIN_YEAR, MAX_YEAR = 1870, 2100

_ARTICLES_RE = r"the|an|a|les|le|la|l'|der|die|das|el|il"
_TRAILING_ARTICLE = re.compile(rf"^(?P<body>.+?),\s*(?P<article>{_ARTICLES_RE})\s*$", re.IGNORECASE)
_TRAILING_YEAR = re.compile(r"^(?P<body>.+?)\s*\((?P<year>\d{4})\)\s*$")
# Articles dropped from the front for comparison ("l" is what "L'" becomes once "'" is a space).
_LEADING_ARTICLES = frozenset({"the", "a", "an", "les", "le", "la", "l", "der", "die", "das", "el", "il"})
_YEAR_PREFIX = re.compile(r"^\s*\(?\s*(\d{4})(?!\d)")
_IMDB_ID = re.compile(r"^tt\d{7,9}$")
# Letters that NFKD does not decompose but that people type without the diacritic.
_LETTER_FOLDS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i"})
# Roman numerals that mark sequels ("i", "v", "x" excluded: they are also words/letters in titles).
_ROMAN_NUMERALS = frozenset(
    "ii iii iv vi vii viii ix xi xii xiii xiv xv xvi xvii xviii xix xx".split()
)


class InvalidRecord(ValueError):
    """A record that cannot be matched; the message is the one-line reason."""


@dataclasses.dataclass(frozen=True)
class MovieQuery:
    """What a record tells us about its movie, normalised."""

    title: str
    year: int | None
    directors: tuple[str, ...]
    tmdb_id: int | None
    imdb_id: str | None


@dataclasses.dataclass
class MatchResult:
    """Outcome of match_movie; `details` is the winner's details body when matching fetched it."""

    status: str
    tmdb_id: int | None
    score: float | None
    reason: str | None
    details: dict | None
    requests: int


# --- Records -> MovieQuery ------------------------------------------------------------------


def query_from_record(key: str, record: object) -> MovieQuery:
    """Build a MovieQuery from a scraped record; raise InvalidRecord if it has no usable title.

    Only the title is mandatory: an unparseable year, director or id is ignored (None/empty), since
    the title alone still allows a search.
    """
    if not isinstance(record, dict):
        raise InvalidRecord(f"record is not an object (got {type(record).__name__})")
    title, title_year = _split_trailing_year(_clean_title(_raw_title(key, record)))
    year = _first_year(record.get("year"), record.get("release_year"), record.get("release_date"))
    return MovieQuery(
        title=title,
        year=year if year is not None else title_year,
        directors=_directors(record),
        tmdb_id=_tmdb_id(record),
        imdb_id=_imdb_id(record.get("imdb_id")),
    )


def _raw_title(key: str, record: dict) -> str:
    # An explicit title (even a bad one) wins over fallbacks: a null title is a data problem
    # to report, not something to paper over with the key.
    for field in ("title", "name"):
        if field in record:
            return _title_text(field, record[field])
    # A key is a title in an object keyed by title; in an array or JSON Lines it is a position (#12).
    if isinstance(key, str) and key.strip() and not re.fullmatch(r"#\d+", key):
        return key
    raise InvalidRecord("record has no usable title: no title field")


def _title_text(field: str, value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise InvalidRecord(f"record has no usable title: {field} is {'null' if value is None else 'a boolean'}")
    if isinstance(value, int):  # JSON number titles such as 1917 or 300 are real titles
        return str(value)
    if not isinstance(value, str):
        raise InvalidRecord(f"record has no usable title: {field} is a {type(value).__name__}, not text")
    if not value.strip():
        raise InvalidRecord(f"record has no usable title: {field} is empty")
    return value


def _clean_title(title: str) -> str:
    """Display title: NFC, single spaces, trailing article moved to the front."""
    text = " ".join(unicodedata.normalize("NFC", title).split())
    return _move_trailing_article(text)


def _move_trailing_article(text: str) -> str:
    match = _TRAILING_ARTICLE.match(text)
    if not match:
        return text
    article, body = match["article"], match["body"]
    # "L'" glues to the word ("L'Avventura"); the others take a space.
    return f"{article}{body}" if article.endswith("'") else f"{article} {body}"


def _split_trailing_year(title: str) -> tuple[str, int | None]:
    """'The Matrix (1999)' -> ('The Matrix', 1999): scrapers often glue the year to the title."""
    match = _TRAILING_YEAR.match(title)
    if not match or not _in_range(int(match["year"])):
        return title, None
    return _move_trailing_article(match["body"]), int(match["year"])


def _in_range(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def _parse_year(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if _in_range(value) else None
    if isinstance(value, str):
        match = _YEAR_PREFIX.match(value)  # "1999", "(1999)", "1999-05-01"
        if match and _in_range(int(match[1])):
            return int(match[1])
    return None


def _first_year(*values: object) -> int | None:
    for value in values:
        year = _parse_year(value)
        if year is not None:
            return year
    return None


def _directors(record: dict) -> tuple[str, ...]:
    for field in ("director", "directors"):
        names = _director_names(record.get(field))
        if names:
            return names
    return ()


def _director_names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        names = _split_director_string(value)
    elif isinstance(value, list):
        names = [item.get("name") if isinstance(item, dict) else item for item in value]
    else:
        return ()
    cleaned = [" ".join(n.split()) for n in names if isinstance(n, str)]
    return tuple(dict.fromkeys(n for n in cleaned if n))  # dedupe, keep order


def _split_director_string(text: str) -> list[str]:
    # ";", "|" and "/" never occur inside a name.  "&", "and" and "," may (as in "Browning, Kirk"),
    # so those splits are only accepted when every side looks like a full name.
    names: list[str] = []
    for chunk in re.split(r"[;|/]", text):
        for part in _split_if_names(chunk, r"\s+(?:&|and)\s+", allow_inverted=True):
            names.extend(_split_if_names(part, r"\s*,\s*", allow_inverted=False))
    return names


def _split_if_names(text: str, separator: str, allow_inverted: bool) -> list[str]:
    parts = [p.strip() for p in re.split(separator, text.strip())]
    if len(parts) < 2:
        return parts

    def full_name(part: str) -> bool:
        return len(part.split()) >= 2 or (allow_inverted and "," in part)

    return parts if all(full_name(p) for p in parts) else [text.strip()]


def _tmdb_id(record: dict) -> int | None:
    previous = record.get("tmdb")
    for value in (record.get("tmdb_id"), previous.get("id") if isinstance(previous, dict) else None):
        tmdb_id = _positive_int(value)
        if tmdb_id is not None:
            return tmdb_id
    return None


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value > 0 else None


def _imdb_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    return text if _IMDB_ID.match(text) else None


# --- Title normalisation ----------------------------------------------------------------------


def _fold(text: str) -> str:
    """NFKD without combining marks, casefolded: 'Amélie' -> 'amelie', 'Alien³' -> 'alien3'."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold().translate(_LETTER_FOLDS)


def normalize_title(title: str) -> str:
    """Comparison key for a title: folded, '&' -> 'and', punctuation -> space, leading article dropped."""
    text = _fold(_move_trailing_article(" ".join(title.split())))
    text = text.replace("&", " and ")
    text = "".join(ch if ch.isalnum() else " " for ch in text)  # "WALL·E" -> "wall e"
    tokens = text.split()
    # Dropped rather than moved so that "Matrix" and "The Matrix" compare equal; never drop the
    # only word (a film called "The").
    if len(tokens) > 1 and tokens[0] in _LEADING_ARTICLES:
        tokens = tokens[1:]
    return " ".join(tokens)


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


def _number_tokens(normalized: str) -> list[str]:
    digits = re.findall(r"\d+", normalized)
    romans = [t for t in normalized.split() if t in _ROMAN_NUMERALS]
    return digits + romans


def title_similarity(a: str, b: str) -> float:
    """Similarity of two normalize_title() keys in [0, 1], harsh on anything but near-identity."""
    if a == b or a.replace(" ", "") == b.replace(" ", ""):  # "spider man" == "spiderman"
        return 1.0
    if _number_tokens(a) != _number_tokens(b):  # "300" vs "3000", "Rocky II" vs "Rocky III"
        return 0.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return max(0.0, 1.0 - TITLE_DISSIMILARITY_WEIGHT * (1.0 - ratio))


def _year_factor(wanted: int | None, year: int | None) -> float:
    if wanted is None:
        return 1.0  # neutral: remakes then tie, which is what we want to detect
    if year is None:
        return YEAR_MISSING_ON_CANDIDATE
    return YEAR_FACTORS.get(abs(wanted - year), YEAR_FAR_FACTOR)


# --- Directors --------------------------------------------------------------------------------


def _person_keys(name: str) -> set[str]:
    """Keys under which two spellings of one person compare equal ('Browning, Kirk' == 'Kirk Browning')."""
    if name.count(",") == 1:
        last, first = name.split(",")
        name = f"{first} {last}"
    tokens = "".join(ch if ch.isalnum() else " " for ch in _fold(name)).split()
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
    tmdb_id: int
    title: str
    year: int | None
    popularity: float
    title_sim: float
    year_factor: float
    director_agrees: bool | None = None
    details: dict | None = None

    @property
    def evidence(self) -> float:
        year_factor = self.year_factor
        if self.director_agrees is True:
            year_factor = max(year_factor, DIRECTOR_MATCH_YEAR_FLOOR)
        penalty = DIRECTOR_MISMATCH_FACTOR if self.director_agrees is False else 1.0
        return self.title_sim * year_factor * penalty

    @property
    def rank(self) -> float:
        # Bounded tiny bonus: orders only candidates whose evidence already differs.
        return self.evidence + POPULARITY_WEIGHT * self.popularity / (self.popularity + 50.0)

    def label(self) -> str:
        return f"'{self.title}' ({self.year or '?'}) #{self.tmdb_id}"


def _candidate_year(movie: dict) -> int | None:
    date = movie.get("release_date")
    return _parse_year(date) if isinstance(date, str) else None


def _score_candidate(q: MovieQuery, wanted_title: str, movie: dict) -> _Candidate | None:
    tmdb_id = _positive_int(movie.get("id"))
    if tmdb_id is None:
        return None
    titles = [t for t in (movie.get("title"), movie.get("original_title")) if isinstance(t, str) and t]
    if not titles:
        return None
    year = _candidate_year(movie)
    popularity = movie.get("popularity")
    return _Candidate(
        tmdb_id=tmdb_id,
        title=titles[0],
        year=year,
        popularity=float(popularity) if isinstance(popularity, (int, float)) and popularity > 0 else 0.0,
        title_sim=max(title_similarity(wanted_title, normalize_title(t)) for t in titles),
        year_factor=_year_factor(q.year, year),
    )


def _score_all(q: MovieQuery, results: list[dict]) -> list[_Candidate]:
    wanted = normalize_title(q.title)
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

    def search(self, query: str) -> list[dict]:
        self.requests += 1
        return list(self._search(query) or [])

    def find_by_imdb(self, imdb_id: str) -> list[dict]:
        self.requests += 1
        return list(self._find(imdb_id) or [])

    def details(self, tmdb_id: int) -> dict | None:
        self.requests += 1
        return self._details(tmdb_id)


def match_movie(
    q: MovieQuery,
    search: Callable[[str], list[dict]],
    find_by_imdb: Callable[[str], list[dict]],
    details: Callable[[int], dict | None],
) -> MatchResult:
    """Resolve q to a TMDB id: known id, then IMDb id lookup, then scored title search."""
    if q.tmdb_id is not None:
        return MatchResult(STATUS_OK, q.tmdb_id, 1.0, None, None, 0)
    api = _CountingApi(search, find_by_imdb, details)
    if q.imdb_id is not None:
        found = _single_movie_id(api.find_by_imdb(q.imdb_id))
        if found is not None:
            return MatchResult(STATUS_OK, found, 1.0, None, None, api.requests)
    return _match_by_search(q, api)


def _single_movie_id(movie_results: list[dict]) -> int | None:
    # More than one movie for one IMDb id is a TMDB data error: let the title search decide.
    if len(movie_results) != 1 or not isinstance(movie_results[0], dict):
        return None
    return _positive_int(movie_results[0].get("id"))


def _search(q: MovieQuery, api: _CountingApi) -> tuple[list[dict], list[str]]:
    """Search once; retry once with a respelled query only when the first found nothing."""
    queries = [search_query(q)]
    results = api.search(queries[0])
    retry = None if results else _retry_query(queries[0])
    if retry is not None:
        queries.append(retry)
        results = api.search(retry)
    return results, queries


def _match_by_search(q: MovieQuery, api: _CountingApi) -> MatchResult:
    results, queries = _search(q, api)
    if not results:
        searched = " and ".join(f"'{s}'" for s in queries)
        return _not_found(f"search for {searched} returned no results", api)
    candidates = _ranked(_score_all(q, results))
    plausible = [c for c in candidates if c.title_sim >= TITLE_MIN_SIMILARITY]
    if not plausible:
        return _not_found(_no_title_reason(q, candidates), api)
    if q.directors and _needs_director_check(plausible):
        plausible = _check_directors(q, plausible, api)
        if not plausible:
            return _not_found("every plausible candidate is gone from TMDB (details 404)", api)
    return _decide(q, _ranked(plausible), api)


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
        candidate.details = body
        candidate.director_agrees = _director_agrees(q.directors, body)
    return [c for c in plausible if c.tmdb_id not in gone]


def _decide(q: MovieQuery, ranked: list[_Candidate], api: _CountingApi) -> MatchResult:
    winner = ranked[0]
    if winner.evidence < MIN_SCORE:
        return _not_found(f"best candidate {winner.label()} scored {winner.evidence:.2f}{_why_low(q, winner)}", api)
    tied = [c for c in ranked if abs(c.evidence - winner.evidence) <= TIE_EPSILON]
    if len(tied) > 1:
        return MatchResult(STATUS_AMBIGUOUS, None, None, _tie_reason(tied), None, api.requests)
    return MatchResult(STATUS_OK, winner.tmdb_id, round(winner.evidence, 4), None, winner.details, api.requests)


def _why_low(q: MovieQuery, candidate: _Candidate) -> str:
    parts = []
    if q.year is not None and candidate.year_factor < 1.0:
        parts.append(f"year {candidate.year or 'unknown'} vs {q.year}")
    if candidate.director_agrees is False:
        parts.append("different director")
    if candidate.title_sim < 1.0:
        parts.append(f"title similarity {candidate.title_sim:.2f}")
    return f" ({', '.join(parts)})" if parts else ""


def _tie_reason(tied: list[_Candidate]) -> str:
    """'2 candidates tie: 'Hamlet' (1990) #123, #456' — ids grouped under a shared title/year."""
    groups: dict[tuple[str, int | None], list[int]] = {}
    for c in tied:
        groups.setdefault((c.title, c.year), []).append(c.tmdb_id)
    listed = "; ".join(
        f"'{title}' ({year or '?'}) " + ", ".join(f"#{i}" for i in ids) for (title, year), ids in groups.items()
    )
    return f"{len(tied)} candidates tie: {listed}"


def _not_found(reason: str, api: _CountingApi) -> MatchResult:
    return MatchResult(STATUS_NOT_FOUND, None, None, reason, None, api.requests)

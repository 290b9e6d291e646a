"""The command-line options: a PipelineOptions subclass, so every Beam option works beside ours."""

import argparse
import os

from apache_beam.options.pipeline_options import PipelineOptions

from movie_enrichment.io import keyfile
from movie_enrichment.io.database import KEEP_LAST, ON_DUPLICATE_KEYS
from movie_enrichment.model import ENRICHERS
from movie_enrichment.transforms.selection import REPROCESS_MODES


def _enrichers(value: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [n for n in names if n not in ENRICHERS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"--enrich takes {', '.join(ENRICHERS)} or both, comma-separated; got {value!r}")
    return names


def _positive(kind):
    def parse(value: str):
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}") from None
        if number <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
        return number
    return parse


def _non_negative(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value!r}")
    return number


def _max_failures(value: str) -> str:
    from movie_enrichment.pipelines.errors import parse_max_failures
    try:
        parse_max_failures(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value.strip()


_IMAGE_SIZE = r"^(w\d{1,4}|h\d{1,4}|original)$"


def _image_size(value: str) -> str:
    import re
    if not re.match(_IMAGE_SIZE, value):
        raise argparse.ArgumentTypeError(f"expected a TMDB image size such as w500 or original, got {value!r}")
    return value


def _codes(option: str, pattern: str, example: str, normal=lambda code: code):
    """A parser of a comma-separated list of codes (each once, in the order given)."""
    def parse(value: str) -> tuple:
        import re
        codes = [normal(code.strip()) for code in value.split(",") if code.strip()]
        bad = [code for code in codes if not re.fullmatch(pattern, code)]
        if not codes or bad:
            raise argparse.ArgumentTypeError(f"{option} takes {example}, comma-separated; got {value!r}")
        return tuple(dict.fromkeys(codes))
    return parse


def _language_tag(code: str) -> str:
    language, dash, country = code.partition("-")
    return language.lower() + dash + country.upper()


# `--language de-DE,en-US`: TMDB's language-COUNTRY tags (or a bare language, any country's translation).
_languages = _codes("--language", r"[a-z]{2}(-[A-Z]{2})?", "languages such as de-DE or fr", _language_tag)
_countries = _codes("--certification_countries", r"[A-Z]{2}", "ISO 3166-1 country codes such as DE,US", str.upper)
# Images are tagged by language alone (ISO 639-1); null: an image without text.
_image_languages = _codes("--image_languages", r"[a-z]{2}|null", "ISO 639-1 codes or null, such as de,null,en",
                          str.lower)


class EnrichmentOptions(PipelineOptions):
    """This project's options. Paths are anything Beam's FileSystems opens (local, gs://, s3://)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        files = parser.add_argument_group("movie database")
        files.add_argument("--input", help="the movie database: a JSON object keyed by title, a JSON array of "
                           "movies, or JSON Lines; or a database: sqlite:///relative.db, sqlite:////absolute.db, "
                           "postgresql://user@host:port/dbname (required)")
        files.add_argument("--output", help="where the enriched database goes (default: the input, in place)")
        files.add_argument("--table", default="movies",
                           help="the table of a SQLite or PostgreSQL database (default movies)")
        files.add_argument("--backup_dir", help="where the previous output is copied before it is replaced "
                           "(default: backups/ beside the output)")
        files.add_argument("--keep_backups", type=int, default=10,
                           help="distinct earlier versions of this output to keep in the backups: a copy identical to "
                           "a newer backup is removed first, then the oldest (for a database: runs kept in its "
                           "history table); 0 keeps all (default 10)")
        files.add_argument("--failures", help="JSON Lines list of failed enrichments "
                           "(default: <output>.failures.jsonl)")
        files.add_argument("--on_duplicate_keys", choices=ON_DUPLICATE_KEYS, default=KEEP_LAST,
                           help="a key the input holds more than once: keep_last (default: keep its last record, "
                           "say so, the earlier ones stay in the backup) or fail (stop, write nothing)")

        work = parser.add_argument_group("what to enrich")
        work.add_argument("--enrich", type=_enrichers, default=ENRICHERS,
                          help="metadata,images (default), metadata or images")
        work.add_argument("--reprocess", choices=REPROCESS_MODES, default="missing",
                          help="which movies get requests. missing (default): never enriched, and failed. "
                          "failed: failed only (network, 5xx, 429 past the retries). not_found: the movies TMDB "
                          "has no match for AND the ambiguous ones (several films fit equally; see "
                          "<output>.review.jsonl). stale: never enriched, failed or removed (however recent), and "
                          "every outcome older than the film's age allows (7 days while new, 30 within 2 years, "
                          "180 older; see the README) or than --stale_after days: the one mode a schedule needs. "
                          "changed: the enriched movies that TMDB lists as edited since their "
                          "enrichment. all: every movie. A movie whose title, year or ids you corrected is "
                          "looked up again in every mode")
        work.add_argument("--stale_after", type=_positive(float), default=None, metavar="DAYS",
                          help="with --reprocess stale (and only with it): redo outcomes older than this many "
                          "days, whatever the film's age")
        work.add_argument("--titles", help="a file of keys (or titles), one per line: only these are considered")
        work.add_argument("--pins", help="a file of KEY,TMDB_ID or KEY,IMDB_ID lines: each movie is matched to that "
                          "film, at one request, and never re-matched (see <output>.review.jsonl)")
        work.add_argument("--key_field", metavar="FIELD[+FIELD]",
                          help="what names a record of an array or JSON Lines file in the review list, the "
                          "failures, --pins, --titles and the report: a field (film_id) or fields joined by + "
                          "(title+year; title, year, imdb_id and the other --field roles are read as detected). "
                          "Default: an id field (id, _id, uuid, movie_id, film_id) when every record has one of "
                          "its own, else title and year (Heat (1995)), else the position (#N); a record whose "
                          "name is missing or shared keeps its position. A keyed object file's records are "
                          "named by their keys: refused there")
        work.add_argument("--field", action="append", default=[], metavar="ROLE=NAME",
                          help="read a role from this field instead of the detected one; ROLE is title, "
                          "original_title, year, directors, imdb_id or tmdb_id; NAME may reach into an object "
                          "(ids.tmdb); repeatable (default: detected from the field names and values)")
        work.add_argument("--poster_size", type=_image_size, default="w500", help="TMDB poster size (default w500)")
        work.add_argument("--backdrop_size", type=_image_size, default="w1280",
                          help="TMDB backdrop size (default w1280)")
        work.add_argument("--download_images", metavar="DIR", default=None,
                          help="store each film's poster and backdrop under DIR (a folder, or gs://, s3://...) as "
                          "TMDB names them (w500/abc.jpg), and give images.poster_file, poster_width, "
                          "poster_height and poster_blurhash (and backdrop_*); files already there are not "
                          "downloaded again")
        work.add_argument("--download_logos", action="store_true",
                          help="with --download_images: store the logo too (images.logo_file, ...)")
        work.add_argument("--image_concurrency", type=_positive(int), default=20,
                          help="with --download_images: downloads in flight at once per worker process "
                          "(default 20)")
        work.add_argument("--images_max_gb", type=_positive(float), default=None, metavar="N",
                          help="with --download_images: once DIR holds N GB, download no more (one warning); "
                          "the remaining records keep their links only")
        work.add_argument("--prune_images", action="store_true",
                          help="with --download_images: after the run, remove the files under DIR that no "
                          "record refers to (images whose TMDB path changed); a JSON file database only")

        api = parser.add_argument_group("TMDB API")
        api.add_argument("--tmdb_api_key", default=None,
                         help="a v3 API key or a v4 read-access token. Every user of the machine can read a "
                         "command line: prefer a key file, or the TMDB_API_KEY environment variable")
        api.add_argument("--tmdb_api_key_file", default=None, metavar="PATH",
                         help="a file holding the key alone on one line, readable by its owner only (chmod "
                         "600); a file that group or others can read is refused. Default: the file the "
                         "TMDB_API_KEY_FILE environment variable names (as container and systemd secrets "
                         "are passed). The first found wins: --tmdb_api_key, --tmdb_api_key_file, "
                         "TMDB_API_KEY, TMDB_API_KEY_FILE")
        api.add_argument("--tmdb_base_url", default="https://api.themoviedb.org/3",
                         help="the API root (default https://api.themoviedb.org/3)")
        api.add_argument("--max_requests_per_second", type=_non_negative, default=40.0,
                         help="request rate for the whole run, all workers together; 0 = unlimited (default 40)")
        api.add_argument("--max_concurrency", type=_positive(int), default=16,
                         help="requests in flight at once per worker process (default 16)")
        api.add_argument("--http_timeout", type=_positive(float), default=10.0,
                         help="seconds to wait for a connection and for each read (default 10)")
        api.add_argument("--http_retries", type=int, default=5,
                         help="retries of a request after a network error, 429 or 5xx (default 5)")
        api.add_argument("--tmdb_down_after", type=_non_negative, default=60.0,
                         help="once every request has failed for this many seconds (TMDB down, the network cut), "
                         "the remaining movies fail at once without a request, so the run ends and a later one "
                         "retries them; until then requests wait, and one every 5 s checks whether TMDB is back "
                         "(default 60; 0: at once)")
        api.add_argument("--language", type=_languages, default=None, metavar="LANG[,LANG...]",
                         help="the languages of title, overview and tagline, in order of preference: each comes "
                         "from the first of them whose TMDB translation has it (tmdb.text_languages says which), "
                         "e.g. de-DE,en-US; the first is also the language of searches. Default: TMDB's own "
                         "(English) texts")
        api.add_argument("--certification_countries", type=_countries, default=None, metavar="CC[,CC...]",
                         help="tmdb.certification is the age rating of the first of these countries that has one "
                         "(its theatrical release's, else any release's), e.g. DE,US (default US)")
        api.add_argument("--image_languages", type=_image_languages, default=None, metavar="LANG[,LANG...]",
                         help="the order of image languages for images.poster, backdrop and logo and their lists; "
                         "null is an image without text, e.g. de,null,en. Default: the --language languages, "
                         "then null, then en; without --language, TMDB's own poster and backdrop")

        api.add_argument("--http_cache", default=None,
                         help="SQLite file of cached API responses, trimmed to what the run reads (default: "
                         "movie_enrichment/tmdb_responses.sqlite under the user's cache folder)")
        api.add_argument("--no_http_cache", action="store_true", help="do not cache API responses")
        api.add_argument("--http_cache_days", type=_positive(float), default=7.0,
                         help="days a cached response stays valid (default 7); refreshes (--reprocess "
                         "not_found, stale, changed, all) ask TMDB again whatever the age")
        api.add_argument("--http_cache_max_mb", type=_positive(float), default=512.0,
                         help="size cap of the cache: each run first evicts expired entries, then the oldest "
                         "beyond it (default 512)")

        run = parser.add_argument_group("checkpoints and runs")
        run.add_argument("--batch_size", type=_positive(int), default=200,
                         help="movies per lookup batch and per checkpoint file (default 200)")
        run.add_argument("--checkpoint_dir", help="where finished batches are kept until the database is written "
                         "(default: <output>.checkpoints beside the output)")
        run.add_argument("--report", help="JSON report of the run (default: <output>.report.json)")
        run.add_argument("--lock_timeout", type=_non_negative, default=0.0,
                         help="seconds to wait for another run of the same output (a file, a SQLite database or "
                         "a PostgreSQL table) to finish; 0 (default) exits at once with status 3, naming that run. "
                         "Another program's save (the database lock, see README) is waited for up to this or 60 s, "
                         "whichever is longer")
        run.add_argument("--progress", choices=("auto", "bar", "lines", "off"), default="auto",
                         help="progress on standard error: a live bar on a terminal, a line every "
                         "--progress_interval seconds otherwise (default auto)")
        run.add_argument("--progress_interval", type=_positive(float), default=10.0,
                         help="seconds between progress lines when standard error is not a terminal (default 10)")
        run.add_argument("--progress_file", help="the live figures as JSON, replaced every second for other "
                         "programs to poll (default: <output>.progress.json beside a local output)")
        run.add_argument("--watch", help="keep running: merge each new movie file that appears in this folder "
                         "into the database and enrich it, then move the file to <folder>/processed")
        run.add_argument("--watch_interval", type=_positive(float), default=5.0,
                         help="seconds between looks at the --watch folder (default 5)")
        run.add_argument("--max_failures", type=_max_failures, default="0", metavar="N|P%",
                         help="how many movies may fail (a count, or a percentage of those looked up, e.g. 5%%) "
                         "before the run exits with status 4 (default 0: any failure)")
        run.add_argument("--log_level", default="WARNING", help="logging level (default WARNING)")


# Beam's TestOptions already owns `--dry_run` (taking a value), so the launcher takes this flag out of the
# command line before Beam sees it; it is declared here only for --help.
DRY_RUN_FLAG = "--dry_run"
DRY_RUN_HELP = ("read the input, apply the selection and print what would be enriched, with an estimate of "
                "requests and time; no request, nothing written")


def key_source(given_key: str | None, given_file: str | None) -> keyfile.KeySource:
    """Where the key comes from: `--tmdb_api_key`, `--tmdb_api_key_file`, TMDB_API_KEY, TMDB_API_KEY_FILE."""
    return keyfile.choose(given_key, given_file, os.environ)


def default_http_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "movie_enrichment", "tmdb_responses.sqlite")

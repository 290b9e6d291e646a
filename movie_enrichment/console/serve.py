"""`movie-enrich serve --input DB [--host 127.0.0.1] [--port 8765] [--token T] [pipeline options...]`.

Serves the admin console for one database. The pipeline's options given here (`--tmdb_base_url`, the rate,
the concurrency, the cache, ...) are the settings of every run the console launches; a run submitted by a page
or the API only chooses what and which movies to enrich.
"""

import argparse
import importlib
import os
import secrets
import sys
from typing import Sequence

PROG = "movie-enrich serve"
# The console's web stack, the `console` extra of setup.py: a cluster's workers install the package without it.
WEB_STACK = ("starlette", "uvicorn", "jinja2")
INSTALL_HINT = "pip install 'movie-enrichment[console]'"
# The server's own choices about every run; a run enriches the database in place, so these make no sense here.
_REFUSED = ("output", "watch", "dry_run", "progress_file", "report", "failures", "titles", "pins")


class ServeError(Exception):
    """A bad `serve` option; the message is one line."""


def missing_web_stack() -> str | None:
    """The first module of the web stack that cannot be imported, or None when the console can run."""
    for name in WEB_STACK:
        try:
            importlib.import_module(name)
        except ImportError:
            return name
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="The admin console: launch, watch, review and fix enrichment from a web page. "
        "Every other option is a pipeline option (movie-enrich --help) and applies to every run it launches.")
    parser.add_argument("--input", required=True, help="the movie database (enriched in place by each run)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this "
                        "machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    parser.add_argument("--token", default=None, help="the access token (default: a new random one, printed "
                        "in the address at start); or the MOVIE_ENRICH_CONSOLE_TOKEN environment variable")
    return parser


def configure(argv: Sequence[str]):
    """(Console, token, host, port) from the command line, or ServeError with one line."""
    from movie_enrichment import api
    from movie_enrichment.console.runs import Console, RunOptionError, option_dict

    class _Parser(argparse.ArgumentParser):
        def error(self, message):
            raise ServeError(message)

    parser = _Parser(prog=PROG, add_help=False)
    for action in _parser()._actions:  # noqa: SLF001 - the same options, raising instead of exiting
        if action.option_strings and action.dest != "help":
            parser._add_action(action)  # noqa: SLF001
    o, rest = parser.parse_known_args(list(argv))
    try:
        settings = option_dict(rest)
    except RunOptionError as error:
        raise ServeError(str(error)) from None
    for name in settings:
        if name in _REFUSED:
            raise ServeError(f"--{name} is chosen per run (or not at all) by the console, not by serve")
    from movie_enrichment.io import keyfile
    try:
        # A key file is read by each run (a new key in it serves the next run); checked here, at start.
        source = keyfile.choose(settings.pop("tmdb_api_key", None), settings.pop("tmdb_api_key_file", None))
        source.read()
    except keyfile.KeyFileError as error:
        raise ServeError(str(error)) from None
    if not os.path.isfile(o.input):
        raise ServeError(f"--input {o.input}: no such file (serve works on a local database file)")
    console = Console(o.input, settings, source.key, key_file=os.path.abspath(source.path) if source.path else None)
    try:
        console.check({})  # the command line's checks of the settings, before serving
    except api.OptionError as error:
        raise ServeError(str(error)) from None
    token = o.token or os.environ.get("MOVIE_ENRICH_CONSOLE_TOKEN") or secrets.token_urlsafe(24)
    return console, token, o.host, o.port


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        _parser().print_help(sys.stdout)
        return 0
    missing = missing_web_stack()
    if missing:
        print(f"{PROG}: error: the console needs its web stack ({missing} is not installed): {INSTALL_HINT}",
              file=sys.stderr)
        return 1
    try:
        console, token, host, port = configure(argv)
    except ServeError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    import socket

    import uvicorn

    from movie_enrichment.console.app import create_app

    # The socket is bound here so that the address printed is the one served (also with --port 0).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # connections made as soon as the address is printed wait for the server
    except OSError as error:
        print(f"{PROG}: error: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
        return 1
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"movie-enrich console for {console.database}\n    http://{shown}:{bound}/?token={token}", flush=True)
    # No access log: addresses may carry the token; the TMDB key is never in anything served or logged.
    config = uvicorn.Config(create_app(console, token), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())

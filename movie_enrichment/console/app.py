"""The console's web application: server-rendered pages (Jinja2) and the JSON API under /api/ that they use.

Every request needs the token: `?token=` once (then a cookie), or `Authorization: Bearer TOKEN`. Pages poll the
API for live figures; nothing here blocks the event loop on a run or on the database.
"""

import asyncio
import contextlib
import hmac
import html
import os
import urllib.parse

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from movie_enrichment.console import film, identify, review
from movie_enrichment.console.runs import Console, RunOptionError

_HERE = os.path.dirname(os.path.abspath(__file__))
COOKIE = "movie_enrich_console"
_templates = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(_HERE, "templates")), autoescape=True))


class TokenGate:
    """ASGI middleware: every request shows the token, or is answered 401.

    `?token=` on a page sets an HttpOnly, SameSite=Strict cookie and redirects to the same address without it,
    so the token leaves the address bar and the history; scripts send `Authorization: Bearer TOKEN`.
    """

    def __init__(self, app, token: str):
        self.app = app
        self._token = token.encode()

    def _valid(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self._token)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        query = request.query_params.get("token")
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if header[:7].lower() == "bearer " else None
        if self._valid(query) and request.method == "GET" and not scope["path"].startswith("/api/"):
            rest = urllib.parse.urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            response = RedirectResponse(scope["path"] + ("?" + rest if rest else ""), status_code=303)
            response.set_cookie(COOKIE, query, httponly=True, samesite="strict", path="/")
            return await response(scope, receive, send)
        if self._valid(query) or self._valid(bearer) or self._valid(request.cookies.get(COOKIE)):
            return await self.app(scope, receive, send)
        message = "a missing or wrong token: open the address movie-enrich serve printed (with ?token=...)"
        if scope["path"].startswith("/api/"):
            response = JSONResponse({"error": message}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        else:
            response = HTMLResponse(f"<!doctype html><title>401 - movie-enrich</title><h1>401</h1><p>{message}</p>",
                                    status_code=401)
        await response(scope, receive, send)


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request):
    try:
        return await request.json()
    except ValueError:
        raise RunOptionError("the body is not JSON") from None


async def _review(console: Console) -> review.ReviewIndex:
    """The review list's index, made (when the file changed: a second for 50,000 films) off the event loop."""
    return await asyncio.to_thread(console.review)


async def _with_posters(console: Console, entries: list[dict]) -> list[dict]:
    """A page's review entries, their candidates' posters on the image host the console's TMDB names (the
    bundled server's own); the stored URLs when it cannot say."""
    if not identify.wants_posters(entries):
        return entries
    return identify.with_posters(entries, await asyncio.to_thread(console.tmdb.image_root))


FILES_URL = "/film/files/"


async def _film(console: Console, key: str | None) -> dict:
    """One film of the database as the film page shows it (film.FilmError when there is none), its TMDB images
    on the console's image host, its stored files served from --download_images' folder when it is local."""
    found = await film.ask(console.database, film.check_key(key))
    root = await asyncio.to_thread(console.tmdb.image_root) if found.get("record") else None
    return film.shape(found, root, FILES_URL if film.files_folder(console.settings) else None)


def create_app(console: Console, token: str) -> Starlette:
    """The application serving `console`'s database, behind `token`."""

    def page(request: Request, name: str, **context) -> Response:
        active = console.active()
        return _templates.TemplateResponse(request, name, {
            "database": console.database, "active": active.to_dict() if active else None,
            "queued": len(console.queue), "nav": name, **context})

    # -- pages -------------------------------------------------------------------------------------------
    async def overview(request: Request) -> Response:
        return page(request, "overview.html", counts=await console.counts(), history=console.history()[:5],
                    review=len(await _review(console)), failures=len(console.failures()))

    async def launch_page(request: Request) -> Response:
        from movie_enrichment.transforms.selection import REPROCESS_MODES
        return page(request, "launch.html", modes=REPROCESS_MODES)

    async def runs_page(request: Request) -> Response:
        session = console.runs()
        seen = {r["id"] for r in session}
        return page(request, "runs.html", runs=session + [r for r in console.history() if r.get("id") not in seen])

    async def run_page(request: Request) -> Response:
        run = console.find(request.path_params["id"])
        if run is None:
            return HTMLResponse("<h1>404</h1><p>no such run</p>", status_code=404)
        return page(request, "run.html", run=run)

    async def review_page(request: Request) -> Response:
        index, pins = await _review(console), console.pins()
        try:
            status, q, limit, offset = review.paging(request.query_params)
        except ValueError as error:
            return HTMLResponse(f"<h1>400</h1><p>{html.escape(str(error))}</p>", status_code=400)
        shown = index.page(status, q, limit, offset)
        entries = await _with_posters(console, shown.entries)

        def link(start: int) -> str:
            return "/review?" + urllib.parse.urlencode(
                {k: v for k, v in (("status", status), ("q", q), ("limit", limit), ("offset", start))
                 if v and not (k == "limit" and v == review.DEFAULT_LIMIT)})

        # The pins still to run: a pinned movie leaves the review list once a run has matched it.
        return page(request, "review.html", entries=entries, total=shown.total, listed=len(index),
                    counts=index.counts, status=status, q=q or "", offset=offset,
                    previous=link(max(offset - limit, 0)) if offset > 0 else None,
                    next=link(offset + limit) if offset + limit < shown.total else None,
                    pins=pins, to_run=[key for key in pins if key in index.keys])

    async def failures_page(request: Request) -> Response:
        return page(request, "failures.html", failures=console.failures())

    async def film_page(request: Request) -> Response:
        key = request.query_params.get("key")
        if not key:
            return page(request, "film.html", film=None, key="", error=None)
        try:
            shown = await _film(console, key)
        except film.FilmError as error:
            return page(request, "film.html", film=None, key=key, error=str(error))
        return page(request, "film.html", film=shown, key=key, error=None)

    async def film_file(request: Request) -> Response:
        """A file --download_images stored (the folder is the server's setting), never one outside it."""
        folder = film.files_folder(console.settings)
        if folder is None:
            return HTMLResponse("<h1>404</h1><p>the server stores no images (--download_images)</p>", 404)
        path = os.path.realpath(os.path.join(folder, request.path_params["path"]))
        if os.path.commonpath([path, os.path.realpath(folder)]) != os.path.realpath(folder) or not os.path.isfile(path):
            return HTMLResponse("<h1>404</h1><p>no such image</p>", status_code=404)
        return FileResponse(path)

    # -- API ---------------------------------------------------------------------------------------------
    async def api_database(request: Request) -> Response:
        active = console.active()
        return JSONResponse({**await console.counts(), "review": len(await _review(console)),
                             "failures": len(console.failures()), "pins": len(console.pins()),
                             "active": active.to_dict() if active else None, "queued": list(console.queue),
                             "last_runs": console.history()[:5]})

    async def api_runs(request: Request) -> Response:
        return JSONResponse({"runs": console.runs(), "history": console.history()})

    async def api_submit(request: Request) -> Response:
        try:
            entry = await console.submit(await _json_body(request))
        except RunOptionError as error:
            return _error(str(error))
        return JSONResponse({"id": entry.id, "state": entry.current_state()}, status_code=201)

    async def api_run(request: Request) -> Response:
        run = console.find(request.path_params["id"])
        return JSONResponse(run) if run is not None else _error("no such run", 404)

    async def api_cancel(request: Request) -> Response:
        entry_id = request.path_params["id"]
        if entry_id not in console.entries:
            return _error("no such run (or it ended before this server started)", 404)
        cancelled = console.cancel(entry_id)
        return JSONResponse({"id": entry_id, "cancelling": cancelled,
                             "state": console.entries[entry_id].current_state()})

    async def api_review(request: Request) -> Response:
        try:
            status, q, limit, offset = review.paging(request.query_params)
        except ValueError as error:
            return _error(str(error))
        index = await _review(console)
        shown = index.page(status, q, limit, offset)
        return JSONResponse({"total": shown.total, "entries": await _with_posters(console, shown.entries),
                             "pins": console.pins(), "counts": index.counts, "limit": limit, "offset": offset})

    async def api_identify(request: Request) -> Response:
        """TMDB's films for a title (and year), searched by this server with its key, for the identify box."""
        try:
            title, year = identify.check_query(request.query_params)
            results = await asyncio.to_thread(console.tmdb.search, title, year)
        except identify.IdentifyError as error:
            return _error(str(error), error.status)
        return JSONResponse({"query": title, "year": year, "results": results})

    async def api_film(request: Request) -> Response:
        try:
            return JSONResponse(await _film(console, request.query_params.get("key")))
        except film.FilmError as error:
            return _error(str(error), error.status)

    async def api_failures(request: Request) -> Response:
        return JSONResponse({"failures": console.failures()})

    async def api_pins(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"pins": console.pins()})
        try:
            body = await _json_body(request)
            if not isinstance(body, dict):
                raise RunOptionError("a pin is a JSON object {\"key\": ..., \"tmdb_id\": ...}")
            pins = console.add_pin(body.get("key"), body.get("tmdb_id"))
        except RunOptionError as error:
            return _error(str(error))
        return JSONResponse({"pins": pins}, status_code=201)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        console.start()
        try:
            yield
        finally:
            await console.stop()

    routes = [
        Route("/", overview), Route("/launch", launch_page), Route("/runs", runs_page),
        Route("/runs/{id}", run_page), Route("/review", review_page), Route("/failures", failures_page),
        Route("/api/database", api_database), Route("/api/runs", api_runs, methods=["GET"]),
        Route("/api/runs", api_submit, methods=["POST"]), Route("/api/runs/{id}", api_run),
        Route("/api/runs/{id}/cancel", api_cancel, methods=["POST"]), Route("/api/review", api_review),
        Route("/api/failures", api_failures), Route("/api/pins", api_pins, methods=["GET", "POST"]),
        Route("/api/identify", api_identify), Route("/film", film_page), Route("/api/film", api_film),
        Route(FILES_URL + "{path:path}", film_file),
        Mount("/static", StaticFiles(directory=os.path.join(_HERE, "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    return TokenGate(app, token)

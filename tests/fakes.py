"""A fake TMDB client for the DoFn and pipeline tests: answers from two films, keeps its own calls and counts."""

import copy

from movie_enrichment.io.tmdb import ClientStats, TmdbAuthError, TmdbError

DETAILS = {
    539: {"id": 539, "title": "Psycho", "original_title": "Psycho", "release_date": "1960-06-22",
          "imdb_id": "tt0054215", "popularity": 30.0, "poster_path": "/p539.jpg", "backdrop_path": "/b539.jpg",
          "genres": [{"id": 27, "name": "Horror"}], "runtime": 109,
          "credits": {"cast": [{"name": "Anthony Perkins", "character": "Norman Bates", "order": 0}],
                      "crew": [{"name": "Alfred Hitchcock", "job": "Director"}]},
          "images": {"posters": [{"file_path": "/p539.jpg"}, {"file_path": "/alt539.jpg"}], "backdrops": []}},
    11252: {"id": 11252, "title": "Psycho", "original_title": "Psycho", "release_date": "1998-12-04",
            "imdb_id": "tt0155975", "popularity": 40.0, "poster_path": "/p11252.jpg", "backdrop_path": None,
            "credits": {"cast": [], "crew": [{"name": "Gus Van Sant", "job": "Director"}]},
            "images": {"posters": [], "backdrops": []}},
}


def search_result(details):
    return {k: details[k] for k in ("id", "title", "original_title", "release_date", "popularity")}


class FakeClient:
    """Answers from DETAILS; records its own calls (a test that reads them hands the DoFn this very instance);
    can be told to fail."""

    def __init__(self, settings, fail_search=False, auth_error=False):
        self.settings = settings
        self.calls: list[tuple] = []
        self.stats = ClientStats()
        self.fail_search = fail_search
        self.auth_error = auth_error
        self.opened = False

    def open(self):
        self.opened = True

    def close(self):
        self.opened = False

    def _call(self, name, *args):
        self.calls.append((name,) + args)
        self.stats.requests += 1
        if self.auth_error:
            raise TmdbAuthError("TMDB rejected the API key (HTTP 401)")

    def search_movie(self, query, year=None, shrink=None):
        self._call("search", query)
        if self.fail_search:
            raise TmdbError("HTTP 503 from search/movie after retries: api_key=secret-key-123")
        return [search_result(d) for d in DETAILS.values() if d["title"].lower() == query.lower()]

    def find_by_imdb(self, imdb_id):
        self._call("find", imdb_id)
        return [search_result(d) for d in DETAILS.values() if d["imdb_id"] == imdb_id]

    def movie_details(self, tmdb_id, append=(), shrink=None):
        self._call("details", tmdb_id, tuple(append))
        body = copy.deepcopy(DETAILS.get(tmdb_id))
        if body is not None:
            for part in ("credits", "images"):
                if part not in append:
                    body.pop(part, None)
        return body

    def configuration(self):
        self._call("configuration")
        return {"images": {"secure_base_url": "https://image.tmdb.org/t/p/"}}

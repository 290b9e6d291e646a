"""The console's review list in pages: the index over `<database>.review.jsonl`, the `/api/review` and `/review`
query parameters (status, q, limit, offset), ambiguous first, candidates linked to TMDB; and, in a real browser,
a list of 50,000 films served a page at a time."""

import re
import urllib.parse

import orjson
import pytest
from starlette.testclient import TestClient
from test_console import KEY, TOKEN, _shot, browser, start_console, tmdb  # noqa: F401 - fixtures used by name

from movie_enrichment.console import identify, review
from movie_enrichment.console.app import create_app
from movie_enrichment.console.runs import Console
from movie_enrichment.io.tmdb import TmdbError, TmdbSettings
from movie_enrichment.transforms import extract
from movie_enrichment.transforms.shared import review_entries


def _entry(i: int, status: str = "not_found", title: str | None = None) -> dict:
    return {"key": f"Film {i:05d}", "status": status, "reason": "no title close enough", "title": title or f"Film {i}",
            "year": 1990 + i % 30, "searched": [f"Film {i}"],
            "candidates": [{"tmdb_id": 1000 + i, "title": "Emma", "year": 1996, "directors": ["Douglas McGrath"],
                            "poster": None, "score": 0.8, "why_not": "two films score alike"},
                           {"tmdb_id": 2000 + i, "title": "Emma", "year": 1996, "directors": ["Diarmuid Lawrence"],
                            "poster": None, "score": 0.79, "why_not": "two films score alike"}]}


def _write(path, entries) -> None:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))


@pytest.fixture
def listed(tmp_path):
    """A database whose review list has 120 not-found films, 3 ambiguous ones among them, and a damaged line."""
    db = tmp_path / "movies.json"
    db.write_text("{}")
    entries = [_entry(i, "ambiguous" if i in (7, 60, 110) else "not_found") for i in range(120)]
    entries[42]["title"] = "Heat"
    entries[43]["title"] = "The HEAT wave"
    _write(tmp_path / "movies.json.review.jsonl", entries)
    with open(tmp_path / "movies.json.review.jsonl", "ab") as handle:
        handle.write(b'{"key": "cut sho')
    return db


@pytest.fixture
def client(listed):
    console = Console(str(listed), {}, None)
    return TestClient(create_app(console, TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})


def test_the_index_puts_ambiguous_first_keeps_file_order_and_skips_damaged_lines(listed):
    index = review.ReviewIndex(str(listed) + ".review.jsonl")
    assert len(index) == 120 and index.counts == {"ambiguous": 3, "not_found": 117}
    keys = [e["key"] for e in index.page(limit=500).entries]
    assert keys[:4] == ["Film 00007", "Film 00060", "Film 00110", "Film 00000"]
    assert len(keys) == 120 and len(set(keys)) == 120
    assert index.page(offset=118, limit=50).entries[-1]["key"] == "Film 00119"
    assert index.page(offset=500).entries == [] and index.page(offset=500).total == 120


def test_a_missing_review_list_is_empty(tmp_path):
    assert len(review.ReviewIndex(str(tmp_path / "none.jsonl"))) == 0
    assert review.ReviewIndex(None).page() == review.Page(0, [])


def test_api_review_pages_filters_and_searches(client):
    first = client.get("/api/review").json()
    assert first["total"] == 120 and len(first["entries"]) == 50 and first["pins"] == {}
    assert first["entries"][0]["status"] == "ambiguous"
    second = client.get("/api/review?limit=50&offset=50").json()
    assert {e["key"] for e in first["entries"]}.isdisjoint(e["key"] for e in second["entries"])
    ambiguous = client.get("/api/review?status=ambiguous").json()
    assert ambiguous["total"] == 3 and {e["status"] for e in ambiguous["entries"]} == {"ambiguous"}
    heat = client.get("/api/review?q=heat").json()
    assert heat["total"] == 2 and [e["title"] for e in heat["entries"]] == ["Heat", "The HEAT wave"]
    assert client.get("/api/review?q=film 0011").json()["total"] == 10  # the key is searched too
    assert client.get("/api/review?status=ambiguous&q=heat").json()["total"] == 0
    assert len(client.get("/api/review?limit=100000").json()["entries"]) == 120  # at most MAX_LIMIT
    for bad in ("limit=0", "limit=ten", "offset=-1"):
        answer = client.get(f"/api/review?{bad}")
        assert answer.status_code == 400 and "\n" not in answer.json()["error"], bad


def test_candidates_link_to_their_tmdb_page_and_show_year_and_director(client):
    entry = client.get("/api/review?q=film 00001").json()["entries"][0]
    assert [c["tmdb_url"] for c in entry["candidates"]] == [
        "https://www.themoviedb.org/movie/1001", "https://www.themoviedb.org/movie/2001"]
    page = client.get("/review?q=film 00001").text
    assert 'href="https://www.themoviedb.org/movie/1001"' in page
    assert "Douglas McGrath" in page and "Diarmuid Lawrence" in page and "(1996)" in page


def test_the_review_page_shows_one_page_with_links_and_the_total(client):
    page = client.get("/review").text
    assert page.count('<section class="review"') == 50
    assert re.search(r'<span id="total">120</span>', page)
    assert 'id="previous"' not in page
    following = urllib.parse.unquote(re.search(r'id="next" href="([^"]+)"', page).group(1)).replace("&amp;", "&")
    assert following == "/review?offset=50"
    last = client.get("/review?offset=100").text
    assert last.count('<section class="review"') == 20 and 'id="next"' not in last
    assert 'id="previous" href="/review?offset=50"' in last
    filtered = client.get("/review?status=ambiguous&q=film").text
    assert filtered.count('<section class="review"') == 3 and 'value="film"' in filtered
    assert client.get("/review?offset=x").status_code == 400
    assert "No entry matches." in client.get("/review?q=nothing like it").text
    # Each entry's key opens its film page.
    first = re.search(r'<section class="review" data-key="([^"]+)">\s*<h2><a class="film" href="([^"]+)">', page)
    assert first and urllib.parse.parse_qs(urllib.parse.urlsplit(first.group(2).replace("&amp;", "&")).query) == {
        "key": [first.group(1)]}


def test_the_index_is_made_again_when_the_file_changes(client, listed):
    assert client.get("/api/review").json()["total"] == 120
    _write(listed.parent / "movies.json.review.jsonl", [_entry(1)])
    assert client.get("/api/review").json()["total"] == 1
    assert '<span id="review-count">1</span> to review' in client.get("/").text


# -- in a real browser --------------------------------------------------------------------------------------
@pytest.fixture
def big_console(tmp_path, tmdb):  # noqa: F811 - the fixture imported above
    """The real server on a database whose review list has 50,000 films (written directly: synthetic)."""
    running = start_console(tmp_path, tmdb)
    entries = [_entry(i, "ambiguous" if i % 1000 == 999 else "not_found") for i in range(50_000)]
    entries[31_337]["title"] = "Emma"
    _write(running.db.parent / "movies.json.review.jsonl", entries)
    yield running
    running.process.terminate()
    running.process.wait(20)


def test_in_the_browser_a_review_list_of_50000_is_served_in_pages(big_console, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 30, poll_frequency=0.2)
    sections = "section.review"
    assert len(big_console.http.get("/review").content) < 200_000
    browser.get(f"{big_console.url}/review?token={TOKEN}")
    assert browser.find_element(By.ID, "listed").text == "50,000"
    assert browser.find_element(By.ID, "total").text == "50,000"
    rows = browser.find_elements(By.CSS_SELECTOR, sections)
    assert len(rows) == 50
    assert rows[0].get_attribute("data-key") == "Film 00999"  # the ambiguous ones first
    first_keys = {row.get_attribute("data-key") for row in rows}

    browser.find_element(By.ID, "next").click()
    wait.until(lambda b: "offset=50" in b.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, sections)
    assert len(rows) == 50 and first_keys.isdisjoint(row.get_attribute("data-key") for row in rows)
    assert browser.find_element(By.ID, "shown").text.startswith("51-100 of 50,000")
    browser.find_element(By.ID, "previous").click()
    wait.until(lambda b: "offset" not in b.current_url)

    Select(browser.find_element(By.NAME, "status")).select_by_value("ambiguous")
    browser.find_element(By.CSS_SELECTOR, "#review-filter button").click()
    wait.until(lambda b: "status=ambiguous" in b.current_url)
    assert browser.find_element(By.ID, "total").text == "50"
    assert {row.find_element(By.CSS_SELECTOR, ".state").text
            for row in browser.find_elements(By.CSS_SELECTOR, sections)} == {"ambiguous"}

    Select(browser.find_element(By.NAME, "status")).select_by_value("")
    search = browser.find_element(By.NAME, "q")
    search.send_keys("emma")
    search.submit()
    wait.until(lambda b: "q=emma" in b.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, sections)
    assert browser.find_element(By.ID, "total").text == "1"
    assert [row.get_attribute("data-key") for row in rows] == ["Film 31337"]
    links = [a.get_attribute("href") for a in rows[0].find_elements(By.CSS_SELECTOR, "a.tmdb")]
    assert links == ["https://www.themoviedb.org/movie/32337", "https://www.themoviedb.org/movie/33337"]
    assert "Douglas McGrath" in rows[0].text and "Diarmuid Lawrence" in rows[0].text


# -- identify: TMDB searched by the server ------------------------------------------------------------------
@pytest.fixture
def identify_db(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # the machine's rate budget file, this test's
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    monkeypatch.delenv("TMDB_API_KEY_FILE", raising=False)
    db = tmp_path / "movies.json"
    db.write_text("{}")
    return db


def _client(db, settings: dict, key: str | None) -> TestClient:
    return TestClient(create_app(Console(str(db), settings, key), TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})


def test_identify_searches_tmdb_through_the_server_and_never_shows_the_key(identify_db, tmdb):  # noqa: F811
    with _client(identify_db, {"tmdb_base_url": tmdb.url, "no_http_cache": True}, KEY) as client:
        answer = client.get("/api/identify?q=Emma&year=1996")
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert {r["tmdb_id"] for r in results} == {900050, 900051}
    root = tmdb.url[:-len("/3")] + "/t/p/"  # the bundled server names itself as its image host
    for r in results:
        assert r["title"] == "Emma" and r["year"] == 1996 and r["original_title"] is None
        assert r["tmdb_url"] == f"https://www.themoviedb.org/movie/{r['tmdb_id']}"
        assert r["poster"].startswith(root + "w185/") and r["poster"].endswith(".jpg")
        assert "directed by" in r["overview"] and len(r["overview"]) <= identify.OVERVIEW_CHARS + 1
    assert KEY not in answer.text and "api_key" not in answer.text
    assert tmdb.counts()["by_endpoint"]["search/movie"] == 1


def test_identify_answers_come_from_the_http_cache_the_runs_use(identify_db, tmdb, tmp_path):  # noqa: F811
    settings = {"tmdb_base_url": tmdb.url, "http_cache": str(tmp_path / "cache.sqlite")}
    with _client(identify_db, settings, KEY) as client:
        first = client.get("/api/identify?q=Emma").json()
        assert client.get("/api/identify?q=Emma").json() == first
    assert {r["tmdb_id"] for r in first["results"]} >= {900050, 900051, 900052}
    assert tmdb.counts()["by_endpoint"]["search/movie"] == 1  # the second from the cache, as a run's would be


@pytest.mark.parametrize("query, wanted", [
    ("", "q: type a title"), ("q=%20%20", "q: type a title"), ("q=Emma&year=96", "year='96'"),
    ("q=Emma&year=next", "year='next'"), ("q=" + "x" * 201, "at most 200 characters"),
])
def test_a_bad_identify_query_is_a_one_line_400(identify_db, tmdb, query, wanted):  # noqa: F811
    with _client(identify_db, {"tmdb_base_url": tmdb.url, "no_http_cache": True}, KEY) as client:
        answer = client.get("/api/identify?" + query)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert wanted in error and "\n" not in error
    assert tmdb.counts()["total"] == 0


def test_identify_without_a_key_or_with_a_refused_one_says_so_in_one_line(identify_db, tmdb):  # noqa: F811
    with _client(identify_db, {"tmdb_base_url": tmdb.url, "no_http_cache": True}, None) as client:
        missing = client.get("/api/identify?q=Emma")
    assert missing.status_code == 503 and "no TMDB API key" in missing.json()["error"]
    assert "\n" not in missing.json()["error"]
    with _client(identify_db, {"tmdb_base_url": tmdb.url, "no_http_cache": True}, "wrong-key-123456") as client:
        refused = client.get("/api/identify?q=Emma")
    assert refused.status_code == 502 and "rejected the API key" in refused.json()["error"]
    assert "wrong-key-123456" not in refused.text


def test_review_posters_follow_the_image_host_of_the_consoles_tmdb(identify_db, tmdb):  # noqa: F811
    entry = _entry(1, "ambiguous")
    entry["candidates"][0].update(poster="https://image.tmdb.org/t/p/w185/UlwI7yXClMkV78DdpulVzwVYbv9.jpg",
                                  poster_path="/UlwI7yXClMkV78DdpulVzwVYbv9.jpg")
    _write(identify_db.parent / "movies.json.review.jsonl", [entry])
    root = tmdb.url[:-len("/3")] + "/t/p/"
    with _client(identify_db, {"tmdb_base_url": tmdb.url, "no_http_cache": True}, KEY) as client:
        shown = client.get("/api/review").json()["entries"][0]["candidates"]
        page = client.get("/review").text
    assert shown[0]["poster"] == root + "w185/UlwI7yXClMkV78DdpulVzwVYbv9.jpg" and shown[1]["poster"] is None
    assert f'src="{root}w185/UlwI7yXClMkV78DdpulVzwVYbv9.jpg"' in page
    assert tmdb.counts()["by_endpoint"]["configuration"] == 1  # asked once, then kept
    with _client(identify_db, {"tmdb_base_url": tmdb.url, "no_http_cache": True}, None) as client:
        stored = client.get("/api/review").json()["entries"][0]["candidates"][0]["poster"]
    assert stored == "https://image.tmdb.org/t/p/w185/UlwI7yXClMkV78DdpulVzwVYbv9.jpg"  # no key: as stored


@pytest.mark.parametrize("base, api_root, root", [
    ("https://image.tmdb.org/t/p/", "https://api.themoviedb.org/3", "https://image.tmdb.org/t/p/"),
    ("https://cdn.example.org/t/p", "http://127.0.0.1:9/3", "https://cdn.example.org/t/p/"),
    ("http://127.0.0.1:8000/t/p/", "http://127.0.0.1:8000/3", "http://127.0.0.1:8000/t/p/"),
    ("http://127.0.0.1:8001/t/p/", "http://127.0.0.1:8000/3", "https://image.tmdb.org/t/p/"),  # another host
    ("http://evil.example/t/p/", "https://api.themoviedb.org/3", "https://image.tmdb.org/t/p/"),
    ("javascript:alert(1)//", "http://127.0.0.1:8000/3", "https://image.tmdb.org/t/p/"),
])
def test_the_image_root_is_https_or_the_api_servers_own(base, api_root, root):
    assert extract.image_root({"images": {"secure_base_url": base}}, api_root) == root


def test_the_image_root_is_asked_again_a_minute_after_it_failed_then_kept():
    now, failing, asked = [0.0], [True], []

    class Client:
        def __init__(self, settings, observers=None):
            self.settings = settings

        def open(self):
            pass

        def close(self):
            pass

        def configuration(self):
            asked.append(now[0])
            if failing[0]:
                raise TmdbError("ConnectTimeoutError: TMDB unreachable")
            return {"images": {"secure_base_url": "https://img.example/t/p/"}}

    settings = TmdbSettings(api_key="k" * 32, base_url="http://127.0.0.1:9/3")
    asker = identify.TmdbAsker(lambda: settings, clock=lambda: now[0], client_factory=Client)
    assert asker.image_root() is None and asked == [0.0]
    now[0] = 59.0
    assert asker.image_root() is None and asked == [0.0]  # not asked again within the minute
    now[0], failing[0] = 61.0, False
    assert asker.image_root() == "https://img.example/t/p/" and asked == [0.0, 61.0]
    now[0] = 5000.0
    assert asker.image_root() == "https://img.example/t/p/" and asked == [0.0, 61.0]


@pytest.fixture
def run_console(tmp_path, tmdb):  # noqa: F811 - the fixture imported above
    running = start_console(tmp_path, tmdb)
    yield running
    running.process.terminate()
    running.process.wait(20)
    assert KEY not in (tmp_path / "serve.log").read_text()


def test_in_the_browser_posters_load_and_identify_pins_a_search_result_in_one_click(run_console, tmdb,  # noqa: F811
                                                                                      browser):  # noqa: F811
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from movie_enrichment.console.runs import pins_supported
    if not pins_supported():
        pytest.skip("this command line writes no review list and takes no --pins")
    run = run_console.http.post("/api/runs", json={"enrich": "metadata"}).json()
    assert run_console.wait(run["id"])["state"] == "succeeded"
    wait = WebDriverWait(browser, 30, poll_frequency=0.2,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    loaded = "return arguments[0].complete && arguments[0].naturalWidth"
    root = tmdb.url[:-len("/3")] + "/t/p/"

    # The candidates' posters come from the bundled server, and load.
    browser.get(f"{run_console.url}/review?q=Nightfall&token={TOKEN}")
    posters = browser.find_elements(By.CSS_SELECTOR, "section.review[data-key='Nightfall'] .candidate img")
    assert len(posters) == 2 and all(p.get_attribute("src").startswith(root + "w185/") for p in posters)
    wait.until(lambda b: all((b.execute_script(loaded, p) or 0) > 0 for p in posters))

    # A film not found under its title: searched by another title and pinned to a result in one click.
    browser.get(f"{run_console.url}/review?q=Unknown Film")
    section = browser.find_element(By.CSS_SELECTOR, "section.review[data-key='Unknown Film']")
    assert section.find_elements(By.CSS_SELECTOR, ".candidate") == []
    section.find_element(By.CSS_SELECTOR, "details.identify summary").click()
    form = section.find_element(By.CSS_SELECTOR, "form.identify-form")
    assert form.find_element(By.NAME, "q").get_attribute("value") == "Unknown Film"  # the entry's own title
    for name, value in (("q", "Emma"), ("year", "1996")):
        form.find_element(By.NAME, name).clear()
        form.find_element(By.NAME, name).send_keys(value)
    form.find_element(By.TAG_NAME, "button").click()
    wait.until(lambda b: len(section.find_elements(By.CSS_SELECTOR, ".identify-results figure")) == 2)
    found = section.find_elements(By.CSS_SELECTOR, ".identify-results figure")
    assert "Douglas McGrath" in found[0].text + found[1].text and "(1996)" in found[0].text
    assert {a.get_attribute("href") for a in section.find_elements(By.CSS_SELECTOR, ".identify-results a.tmdb")} == {
        "https://www.themoviedb.org/movie/900050", "https://www.themoviedb.org/movie/900051"}
    wait.until(lambda b: all((b.execute_script(loaded, img) or 0) > 0
                             for img in section.find_elements(By.CSS_SELECTOR, ".identify-results img")))
    assert KEY not in browser.page_source
    _shot(browser, "identify")
    section.find_element(By.CSS_SELECTOR, ".identify-results button.pin-result[data-id='900051']").click()
    wait.until(lambda b: "pinned to tmdb:900051" in b.find_element(
        By.CSS_SELECTOR, "section.review[data-key='Unknown Film']").text)
    pins = (run_console.db.parent / "movies.json.pins.csv").read_text()
    assert pins.splitlines() == ["key,tmdb_id", "Unknown Film,900051"]

    # No search: the error, in one line, in the page.
    section = browser.find_element(By.CSS_SELECTOR, "section.review[data-key='Unknown Film']")
    section.find_element(By.CSS_SELECTOR, "details.identify summary").click()
    form = section.find_element(By.CSS_SELECTOR, "form.identify-form")
    form.find_element(By.NAME, "year").clear()
    form.find_element(By.NAME, "year").send_keys("soon")
    form.find_element(By.TAG_NAME, "button").click()
    wait.until(lambda b: "year='soon'" in section.find_element(By.CSS_SELECTOR, ".identify-status").text)


def test_removed_films_and_shared_matches_are_offered_like_the_other_entries(tmp_path):
    db = tmp_path / "movies.json"
    db.write_text("{}")
    removed = {"key": "Psycho", "status": "removed", "reason": "TMDB no longer has movie 539; not found again",
               "title": "Psycho", "year": 1960, "searched": ["Psycho"], "candidates": []}
    _write(tmp_path / "movies.json.review.jsonl", [_entry(1), removed, *review_entries(949, ["Heat", "Heat [1995]"])])
    client = TestClient(create_app(Console(str(db), {}, None), TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})

    page = client.get("/review").text
    assert "shared (2)" in page and "removed (1)" in page
    shared = client.get("/review", params={"status": "shared"}).text
    assert shared.count('class="review"') == 2 and "TMDB 949" in shared
    assert 'href="/review?status=shared&amp;q=Heat+%5B1995%5D">Heat [1995]</a>' in shared
    assert 'class="pin-typed" data-key="Heat [1995]"' in shared, "each record of the pair can be pinned"
    gone = client.get("/api/review", params={"status": "removed"}).json()
    assert [e["key"] for e in gone["entries"]] == ["Psycho"]

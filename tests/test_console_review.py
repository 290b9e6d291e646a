"""The console's review list in pages: the index over `<database>.review.jsonl`, the `/api/review` and `/review`
query parameters (status, q, limit, offset), ambiguous first, candidates linked to TMDB; and, in a real browser,
a list of 50,000 films served a page at a time."""

import re
import urllib.parse

import orjson
import pytest
from starlette.testclient import TestClient
from test_console import TOKEN, browser, start_console, tmdb  # noqa: F401 - fixtures used by name

from movie_enrichment.console import review
from movie_enrichment.console.app import create_app
from movie_enrichment.console.runs import Console


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

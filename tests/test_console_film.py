"""The console's film page (/film?key=..., GET /api/film): a record's TMDB texts with where each came from, its
certification, trailer, collection, keywords, links elsewhere and images with their languages and stored files
(issues 24 and 26); and the launch form's languages, countries and key field."""

import orjson
import pytest
from starlette.testclient import TestClient
from test_console import KEY, TOKEN, _shot, browser, start_console, tmdb  # noqa: F401 - fixtures used by name

from movie_enrichment.console import film
from movie_enrichment.console.app import create_app
from movie_enrichment.console.runs import Console, RunOptionError, check_run_options

PSYCHO = {
    "title": "Psycho", "year": "1998",
    "images": {"poster": "https://image.tmdb.org/t/p/w500/aJv.jpg", "poster_language": "en",
               "backdrop": "https://image.tmdb.org/t/p/w1280/ET1.jpg", "backdrop_language": None,
               "logo": "https://image.tmdb.org/t/p/w500/mCl.png", "logo_language": "de",
               "poster_file": "w500/aJv.jpg", "poster_width": 500, "poster_height": 750,
               "poster_blurhash": "LBO*sG}KfQ}K{^o0fQo0n#fPfQfP"},
    "tmdb": {"id": 11252, "title": "[DE] Psycho", "original_title": "Psycho", "year": 1998,
             "overview": "A remake.", "tagline": None,
             "text_languages": {"title": "de-DE", "overview": "en-US", "tagline": None},
             "certification": {"country": "DE", "rating": "12"},
             "trailer": {"site": "YouTube", "key": "-BfQ", "url": "https://www.youtube.com/watch?v=-BfQ",
                         "language": "en"},
             "collection": {"id": 100285, "name": "Psycho Collection",
                            "poster": "https://image.tmdb.org/t/p/w500/D6s.jpg", "backdrop": None},
             "keywords": ["remake", "motel"],
             "external_ids": {"imdb_id": "tt0155975", "wikidata_id": "Q1426599", "facebook_id": None}},
    "enrichment": {"metadata": {"status": "ok"}, "images": {"status": "ok"}},
}


def test_the_film_shows_each_text_with_its_language_and_the_certification_as_country_and_rating():
    shown = film.shape({"key": "Psycho (1998)", "name": "Psycho (1998)", "record": PSYCHO},
                       root="http://127.0.0.1:9/t/p/", files_url="/film/files/")
    assert [(t["field"], t["value"], t["language"]) for t in shown["texts"]] == [
        ("title", "[DE] Psycho", "de-DE"), ("overview", "A remake.", "en-US"), ("tagline", None, None)]
    assert shown["certification"] == "DE 12"
    assert shown["trailer"]["url"] == "https://www.youtube.com/watch?v=-BfQ"
    assert shown["collection"] == {"id": 100285, "name": "Psycho Collection",
                                   "poster": "http://127.0.0.1:9/t/p/w500/D6s.jpg"}  # on the console's image host
    assert shown["keywords"] == ["remake", "motel"]
    assert shown["links"] == [
        {"name": "imdb", "id": "tt0155975", "url": "https://www.imdb.com/title/tt0155975/"},
        {"name": "wikidata", "id": "Q1426599", "url": "https://www.wikidata.org/wiki/Q1426599"}]
    images = {i["kind"]: i for i in shown["images"]}
    assert [i["kind"] for i in shown["images"]] == ["poster", "backdrop", "logo"]
    assert (images["poster"]["language"], images["backdrop"]["language"], images["logo"]["language"]) == (
        "en", "textless", "de")
    assert images["poster"]["file_url"] == "/film/files/w500/aJv.jpg" and images["poster"]["width"] == 500
    assert images["backdrop"]["file"] is None and images["backdrop"]["url"] == "http://127.0.0.1:9/t/p/w1280/ET1.jpg"


def test_a_record_enriched_before_issue_24_shows_what_it_has():
    old = {"tmdb": {"id": 5, "title": "Heat"}, "images": {"poster": "https://image.tmdb.org/t/p/w500/h.jpg"}}
    shown = film.shape({"key": "Heat", "name": "Heat", "record": old})
    assert shown["texts"] == [{"field": "title", "value": "Heat", "language": None, "told": False}]
    assert shown["certification"] is None and shown["trailer"] is None and shown["collection"] is None
    assert shown["links"] == [] and shown["images"][0]["language"] is None


@pytest.fixture
def client(tmp_path):
    db = tmp_path / "movies.json"
    db.write_bytes(orjson.dumps({"Psycho (1998)": PSYCHO, "Heat": {"title": "Heat"}}))
    images = tmp_path / "img" / "w500"
    images.mkdir(parents=True)
    (images / "aJv.jpg").write_bytes(b"\xff\xd8stored poster")
    (tmp_path / "secret.txt").write_text("not an image")
    console = Console(str(db), {"download_images": str(tmp_path / "img")}, None)
    return TestClient(create_app(console, TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})


def test_api_film_answers_the_record_by_key_or_name_ignoring_case_and_404_else(client):
    shown = client.get("/api/film", params={"key": "psycho (1998)"}).json()
    assert shown["key"] == "Psycho (1998)" and shown["certification"] == "DE 12"
    missing = client.get("/api/film", params={"key": "Nothing"})
    assert missing.status_code == 404 and missing.json() == {"error": "no movie 'Nothing' in the database"}
    assert client.get("/api/film").status_code == 400


def test_the_film_page_shows_the_fields_and_serves_the_stored_files_only(client):
    page = client.get("/film", params={"key": "Psycho (1998)"}).text
    for text in ("de-DE", "en-US", "none of the chain", "DE 12", "https://www.youtube.com/watch?v=-BfQ",
                 "Psycho Collection", "remake, motel", "https://www.imdb.com/title/tt0155975/",
                 "https://www.wikidata.org/wiki/Q1426599", "textless", 'src="/film/files/w500/aJv.jpg"',
                 "LBO*sG}KfQ}K{^o0fQo0n#fPfQfP"):
        assert text in page, text
    assert client.get("/film/files/w500/aJv.jpg").content == b"\xff\xd8stored poster"
    assert client.get("/film/files/../secret.txt").status_code == 404
    assert client.get("/film/files/%2E%2E/secret.txt").status_code == 404
    assert "no movie" in client.get("/film", params={"key": "Nothing"}).text
    assert 'action="/film"' in client.get("/").text  # the database page leads to it


def test_an_array_file_s_film_is_found_by_its_name(tmp_path):
    db = tmp_path / "movies.json"
    db.write_bytes(orjson.dumps([{"title": "Heat", "year": 1995}, {"title": "Brazil", "year": 1985}]))
    assert film.read(str(db), "Brazil (1985)")["key"] == "#1"
    assert film.read(str(db), "#0")["name"] == "Heat (1995)"


def test_the_launch_form_s_list_options_pass_as_comma_separated_strings_and_lists_are_refused():
    options = {"language": "de-DE,en-US", "certification_countries": "DE,US", "image_languages": "de,null,en",
               "key_field": "title+year"}
    assert check_run_options(options) == options
    with pytest.raises(RunOptionError, match="--language takes one value"):
        check_run_options({"language": ["de-DE", "en-US"]})
    with pytest.raises(RunOptionError, match="--download_images is a setting of the server"):
        check_run_options({"download_images": "/tmp/img"})


# -- in a real browser --------------------------------------------------------------------------------------
@pytest.fixture
def images_console(tmp_path, tmdb):  # noqa: F811 - the fixture imported above
    running = start_console(tmp_path, tmdb, "--download_images", str(tmp_path / "img"))
    yield running
    running.process.terminate()
    running.process.wait(20)
    assert KEY not in (tmp_path / "serve.log").read_text()


@pytest.mark.e2e
def test_in_the_browser_a_run_launched_from_the_form_in_german_shows_its_film(images_console, browser):  # noqa: F811
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 180, poll_frequency=0.2,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    browser.get(f"{images_console.url}/launch?token={TOKEN}")
    for name, value in (("language", "de-DE,en-US"), ("certification_countries", "DE,US"),
                        ("image_languages", "de,null,en")):
        browser.find_element(By.NAME, name).send_keys(value)
    browser.find_element(By.ID, "launch").click()
    wait.until(lambda b: "/runs/" in b.current_url)
    run_id = browser.current_url.rsplit("/", 1)[1]
    run = images_console.wait(run_id)
    assert run["state"] == "succeeded", run
    assert run["options"] == {"enrich": "metadata,images", "reprocess": "missing", "language": "de-DE,en-US",
                              "certification_countries": "DE,US", "image_languages": "de,null,en"}
    data = orjson.loads(images_console.db.read_bytes())
    key, record = next((k, r) for k, r in data.items() if (r.get("tmdb") or {}).get("collection")
                       and (r.get("tmdb") or {}).get("certification") and (r.get("tmdb") or {}).get("trailer")
                       and (r.get("images") or {}).get("poster_file"))
    tmdb_part, images = record["tmdb"], record["images"]

    browser.get(f"{images_console.url}/")
    browser.find_element(By.CSS_SELECTOR, "#film-form input[name=key]").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#film-form button").click()
    wait.until(lambda b: b.find_elements(By.ID, "film"))
    for field, language in tmdb_part["text_languages"].items():
        row = browser.find_element(By.CSS_SELECTOR, f"#film-texts tr[data-field={field}]")
        assert row.find_element(By.CSS_SELECTOR, ".lang").text == (language or "none of the chain")
    rating = tmdb_part["certification"]
    assert browser.find_element(By.ID, "film-certification").text == f"{rating['country']} {rating['rating']}"
    assert browser.find_element(By.CSS_SELECTOR, "#film-trailer a").get_attribute("href") == tmdb_part["trailer"]["url"]
    assert tmdb_part["collection"]["name"] in browser.find_element(By.ID, "film-collection").text
    assert browser.find_element(By.ID, "film-keywords").text == (", ".join(tmdb_part["keywords"]) or "none")
    imdb = tmdb_part["external_ids"]["imdb_id"]
    if imdb:
        assert browser.find_element(By.CSS_SELECTOR, "#film-links a[data-name=imdb]").get_attribute(
            "href") == f"https://www.imdb.com/title/{imdb}/"
    poster = browser.find_element(By.CSS_SELECTOR, "figure[data-kind=poster]")
    assert poster.find_element(By.CSS_SELECTOR, "code.file").text == images["poster_file"]
    language = images["poster_language"]
    assert poster.find_element(By.CSS_SELECTOR, ".lang").text == ("textless" if language is None else language)
    shown = browser.find_elements(By.CSS_SELECTOR, "#film-images img, #film-collection img")
    loaded = "return arguments[0].complete && arguments[0].naturalWidth"
    # The stored files from the console, the collection's poster from the bundled server: all load.
    wait.until(lambda b: shown and all((b.execute_script(loaded, i) or 0) > 0 for i in shown))
    _shot(browser, "film")

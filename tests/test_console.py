"""The admin console (`movie-enrich serve`) as a person and a script use it: the real server in its own process,
the local TMDB server, the JSON API over HTTP, and the pages in headless Chromium (Debian's, through Selenium
and chromedriver; scripts/install_browser.sh installs them, and ME_REQUIRE_BROWSER=1 makes their absence fail)."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

import httpx
import orjson
import pytest
from conftest import DATA

from movie_enrichment.testing import corpus
from movie_enrichment.testing.tmdb_server import TmdbServer

KEY = "console-secret-tmdb-key"
TOKEN = "t0ken-for-tests"
# The README's screenshots: ME_SCREENSHOTS=docs/console ./run_tests.sh -k browser takes them again; otherwise
# they go to a temporary folder, so that a test run leaves the work tree as it was.
SCREENSHOTS = pathlib.Path(os.environ.get("ME_SCREENSHOTS") or tempfile.mkdtemp(prefix="console-screenshots-"))
REVIEW_MOVIES = {
    "Nightfall": {"Title": "Nightfall", "Year": 2017},
    "Gladiator (1992)": {"Title": "Gladiator", "Release Date": "May 05 1970"},
    "Unknown Film": {"Title": "Unknown Film", "Year": 2001},
}


@pytest.fixture
def tmdb():
    with TmdbServer(catalog=corpus.full_catalog(), api_key=KEY) as server:
        yield server


class Console:
    def __init__(self, process, url, db):
        self.process, self.url, self.db = process, url, db
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)

    def wait(self, run_id, timeout=180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.http.get(f"/api/runs/{run_id}").json()
            if run["state"] in ("succeeded", "failed", "cancelled"):
                return run
            time.sleep(0.3)
        raise AssertionError(f"run {run_id} did not end in {timeout} s")


def start_console(tmp_path, tmdb, *extra, key_in_env: bool = True) -> Console:
    db = tmp_path / "db" / "movies.json"
    db.parent.mkdir()
    movies = orjson.loads((DATA / "sample_movies.json").read_bytes())
    db.write_bytes(orjson.dumps({**movies, **REVIEW_MOVIES}))
    env = {k: v for k, v in os.environ.items() if k not in ("TMDB_API_KEY", "TMDB_API_KEY_FILE")}
    env.update(TMDB_API_KEY=KEY, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    if not key_in_env:
        del env["TMDB_API_KEY"]
    log = open(tmp_path / "serve.log", "w+b")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([sys.executable, "-m", "movie_enrichment", "serve", "--input", str(db), "--port", "0",
                                "--token", TOKEN, "--tmdb_base_url", tmdb.url, "--no_http_cache",
                                "--max_requests_per_second", "150", *extra],
                               stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = (tmp_path / "serve.log").read_text()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=", text)
        if found:
            return Console(process, found.group(1), db)
        if process.poll() is not None:
            raise AssertionError(f"serve ended: {text}")
        time.sleep(0.1)
    process.kill()
    raise AssertionError("serve printed no address")


@pytest.fixture
def console(tmp_path, tmdb):
    running = start_console(tmp_path, tmdb)
    yield running
    running.process.terminate()
    running.process.wait(20)
    log = (tmp_path / "serve.log").read_text()
    assert KEY not in log


def test_every_request_needs_the_token(console):
    anonymous = httpx.Client(base_url=console.url, follow_redirects=False)
    assert anonymous.get("/api/database").status_code == 401
    assert anonymous.get("/api/database", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert anonymous.get("/").status_code == 401
    assert anonymous.get("/static/console.js").status_code == 401
    first = anonymous.get(f"/review?token={TOKEN}")
    assert first.status_code == 303 and first.headers["location"] == "/review"
    assert "httponly" in first.headers["set-cookie"].lower() and "samesite=strict" in first.headers["set-cookie"].lower()
    assert anonymous.get("/review").status_code == 200  # the cookie now
    assert console.http.get("/api/database").status_code == 200


def test_api_launches_a_run_reports_it_and_refuses_what_is_the_servers(console):
    counts = console.http.get("/api/database").json()
    assert counts["movies"] == 203 and counts["enrichers"]["metadata"] == {"not_enriched": 203}
    refused = console.http.post("/api/runs", json={"tmdb_base_url": "http://example.org/3"})
    assert refused.status_code == 400 and "--tmdb_base_url is a setting of the server" in refused.json()["error"]
    assert console.http.post("/api/runs", json={"tmdb_api_key": "x"}).status_code == 400
    bad = console.http.post("/api/runs", json={"reprocess": "sometimes"})
    assert bad.status_code == 400
    assert "invalid choice: 'sometimes'" in bad.json()["error"] and "\n" not in bad.json()["error"]
    assert console.http.post("/api/runs", json={"stale_after": "-1"}).status_code == 400
    first = console.http.post("/api/runs", json={"enrich": "metadata"})
    second = console.http.post("/api/runs", json={"reprocess": "failed"})
    assert first.status_code == 201 and second.status_code == 201
    assert console.http.get(f"/api/runs/{second.json()['id']}").json()["state"] == "queued"
    done = console.wait(first.json()["id"])
    assert done["state"] == "succeeded", done
    assert done["report"]["enrichers"]["metadata"]["ok"] >= 150
    assert done["progress"]["percent"] == 100
    # One id everywhere: the console's run id is the run's own, in its report and its progress file.
    assert done["run_id"] == done["report"]["run_id"] == done["progress"]["run_id"] == first.json()["id"]
    assert console.wait(second.json()["id"])["state"] == "succeeded"
    counts = console.http.get("/api/database").json()
    deadline = time.monotonic() + 60
    while counts.get("stale") and time.monotonic() < deadline:  # the old counts while the new ones are made
        time.sleep(0.2)
        counts = console.http.get("/api/database").json()
    assert counts["enrichers"]["metadata"].get("ok", 0) == done["report"]["enrichers"]["metadata"]["ok"]
    history = console.http.get("/api/runs").json()["history"]
    assert [r["id"] for r in history[:2]] == [second.json()["id"], first.json()["id"]]
    for path in ("/api/database", "/api/runs", f"/api/runs/{first.json()['id']}", "/api/review", "/", "/runs",
                 f"/runs/{first.json()['id']}", "/review", "/failures", "/launch"):
        assert KEY not in console.http.get(path).text, path


@pytest.mark.e2e
def test_runs_read_the_key_from_the_file_serve_was_given_and_nothing_shows_it(tmp_path, tmdb):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    key_file = secrets / "tmdb_key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o644)
    refused = subprocess.run([sys.executable, "-m", "movie_enrichment", "serve", "--input", str(DATA / "sample_movies.json"),
                              "--tmdb_api_key_file", str(key_file)], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and refused.stderr == (
        f"movie-enrich serve: error: --tmdb_api_key_file {key_file}: readable by group and others (mode 0644), "
        f"which gives the key away: run chmod 600 {key_file}\n")
    key_file.chmod(0o600)
    console = start_console(tmp_path, tmdb, "--tmdb_api_key_file", str(key_file), key_in_env=False)
    try:
        run = console.http.post("/api/runs", json={"enrich": "metadata", "titles": ["Alien", "Heat"]})
        assert run.status_code == 201, run.text
        done = console.wait(run.json()["id"])
        assert done["state"] == "succeeded", done
        for path in ("/api/database", "/api/runs", f"/api/runs/{done['id']}", "/", "/runs", f"/runs/{done['id']}",
                     "/launch"):
            page = console.http.get(path).text
            assert KEY not in page and str(key_file) not in page, path
        # The identify box searches with the same key, read from the file again for each search.
        found = console.http.get("/api/identify", params={"q": "Heat", "year": "1995"})
        assert found.status_code == 200 and [r["title"] for r in found.json()["results"]][:1] == ["Heat"]
        key_file.write_text("another-key-0123456789\n")
        refused = console.http.get("/api/identify", params={"q": "Heat", "year": "1995"})
        assert refused.status_code == 502 and "rejected the API key" in refused.json()["error"]
        for answer in (found, refused):
            assert KEY not in answer.text and "another-key" not in answer.text and str(key_file) not in answer.text
    finally:
        console.process.terminate()
        console.process.wait(20)
    assert KEY not in (tmp_path / "serve.log").read_text()


def test_a_queued_run_can_be_cancelled_and_a_running_one_stops(console):
    first = console.http.post("/api/runs", json={}).json()["id"]
    second = console.http.post("/api/runs", json={"enrich": "images"}).json()["id"]
    assert console.http.post(f"/api/runs/{second}/cancel").json()["state"] == "cancelled"
    deadline = time.monotonic() + 60
    while console.http.get(f"/api/runs/{first}").json()["state"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.1)
    console.http.post(f"/api/runs/{first}/cancel")
    assert console.wait(first)["state"] in ("cancelled", "succeeded")
    assert console.http.get(f"/api/runs/{second}").json()["state"] == "cancelled"


def test_pins_are_checked(console):
    assert console.http.post("/api/pins", json={"key": "Nightfall", "tmdb_id": "nope"}).status_code == 400
    assert console.http.post("/api/pins", json={"tmdb_id": 98}).status_code == 400
    made = console.http.post("/api/pins", json={"key": "Nightfall", "tmdb_id": 910006})
    assert made.status_code == 201 and made.json()["pins"] == {"Nightfall": "tmdb:910006"}
    assert (console.db.parent / "movies.json.pins.csv").read_text() == "key,tmdb_id\nNightfall,910006\n"


def test_pins_are_written_atomically_and_read_back_after_a_change(console):
    for tmdb_id in (910006, 98):
        assert console.http.post("/api/pins", json={"key": "Nightfall", "tmdb_id": tmdb_id}).status_code == 201
    assert console.http.get("/api/pins").json()["pins"] == {"Nightfall": "tmdb:98"}
    assert not [name for name in os.listdir(console.db.parent) if ".tmp" in name], "no temporary file left"


@pytest.mark.parametrize("missing", ["starlette", "uvicorn", "jinja2"])
def test_serve_without_the_console_extra_says_in_one_line_what_to_install(missing, monkeypatch, capsys, tmp_path):
    from movie_enrichment import cli
    db = tmp_path / "movies.json"
    db.write_text("{}")
    monkeypatch.setitem(sys.modules, missing, None)  # `import missing` raises ImportError, as when not installed
    status = cli.main(["serve", "--input", str(db)])
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert err == (f"movie-enrich serve: error: the console needs its web stack ({missing} is not installed): "
                   "pip install 'movie-enrichment[console]'\n")


# -- in a real browser --------------------------------------------------------------------------------------
def _browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        message = "headless Chromium is missing: scripts/install_browser.sh installs chromium and chromium-driver"
        if os.environ.get("ME_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="console-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1200,900",
                 # The browser reaches nothing but this machine (posters point to TMDB's image host).
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    return browser, profile


@pytest.fixture
def browser():
    browser, profile = _browser()
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _shot(browser, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def test_in_the_browser_launch_watch_review_pin_and_run_the_pins(console, browser):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # Pages reload after a pin: an element looked up just before may be gone, so the waits look again.
    wait = WebDriverWait(browser, 180, poll_frequency=0.2,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    browser.get(f"{console.url}/?token=wrong")
    assert "401" in browser.title and "wrong token" in browser.page_source
    browser.get(f"{console.url}/?token={TOKEN}")
    assert browser.current_url == f"{console.url}/"  # the token left the address for a cookie
    assert browser.find_element(By.ID, "movies").text == "203"
    browser.get(f"{console.url}/launch")
    browser.find_element(By.CSS_SELECTOR, "input[name=reprocess][value=missing]").click()
    _shot(browser, "launch")
    browser.find_element(By.ID, "launch").click()
    wait.until(lambda b: "/runs/" in b.current_url)
    seen = set()

    def bar_full(b):
        seen.add(b.find_element(By.ID, "percent").text)
        return b.find_element(By.ID, "state").text in ("succeeded", "failed", "cancelled")

    wait.until(lambda b: b.find_element(By.ID, "state").text == "running" and _shot(b, "run-live") is None)
    run_id = browser.current_url.rsplit("/", 1)[1]
    # The header's badge follows the run (it was drawn once, and read "queued" to the end).
    wait.until(lambda b: b.find_element(By.ID, "active-run").text in (f"run {run_id} running",
                                                                      f"run {run_id} succeeded"))
    wait.until(bar_full)
    assert browser.find_element(By.ID, "state").text == "succeeded"
    wait.until(lambda b: b.find_element(By.ID, "active-run").text == f"run {run_id} succeeded")
    assert browser.find_element(By.ID, "percent").text == "100%"
    assert browser.find_element(By.ID, "bar").get_attribute("style") == "width: 100%;"
    assert '"movies_looked_up"' in browser.find_element(By.ID, "report").text
    assert len(seen) >= 1
    _shot(browser, "run-done")

    browser.get(f"{console.url}/")
    # The counts follow the database: no "being recounted" beside stale figures once the recount is in.
    wait.until(lambda b: not b.find_element(By.ID, "stale").is_displayed()
               and b.find_element(By.CSS_SELECTOR, "td[data-status='metadata-ok']").text != "0")
    assert browser.find_element(By.CSS_SELECTOR, "td[data-status='metadata-ok']").text == str(
        console.http.get(f"/api/runs/{run_id}").json()["report"]["enrichers"]["metadata"]["ok"])
    _shot(browser, "database")
    from movie_enrichment.console.runs import pins_supported
    if not pins_supported():
        pytest.skip("this command line writes no review list and takes no --pins: the review part cannot run")
    browser.get(f"{console.url}/review")
    section = browser.find_element(By.CSS_SELECTOR, "section.review[data-key='Gladiator (1992)']")
    assert "not_found" in section.text or "ambiguous" in section.text
    section.find_element(By.CSS_SELECTOR, "button.pin[data-id='910001']").click()
    wait.until(lambda b: "pinned to tmdb:910001" in b.find_element(
        By.CSS_SELECTOR, "section.review[data-key='Gladiator (1992)']").text)
    typed = browser.find_element(By.CSS_SELECTOR, "form.pin-typed[data-key='Nightfall']")
    typed.find_element(By.NAME, "tmdb_id").send_keys("910006")
    typed.find_element(By.TAG_NAME, "button").click()
    wait.until(lambda b: b.find_element(By.ID, "run-pins").text == "Run the pins (2)")
    _shot(browser, "review")
    wait.until(lambda b: "pinned to tmdb:910006" in b.find_element(
        By.CSS_SELECTOR, "section.review[data-key='Nightfall']").text)
    browser.find_element(By.ID, "run-pins").click()
    wait.until(lambda b: "/runs/" in b.current_url)
    wait.until(lambda b: b.find_element(By.ID, "state").text in ("succeeded", "failed", "cancelled"))
    assert browser.find_element(By.ID, "state").text == "succeeded"
    data = json.loads(console.db.read_bytes())
    assert data["Gladiator (1992)"]["tmdb"]["id"] == 910001
    assert data["Nightfall"]["tmdb"]["id"] == 910006
    browser.get(f"{console.url}/review")
    assert browser.find_elements(By.CSS_SELECTOR, "section.review[data-key='Gladiator (1992)']") == []
    assert browser.find_elements(By.ID, "run-pins") == []  # no pin left to run

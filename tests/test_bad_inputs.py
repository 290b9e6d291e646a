"""The bad-input corpus (tests/bad_inputs/, outcomes in EXPECTED.json) through the real command.

A fatal input must stop the run before any request with one line on stderr that names the problem (and where,
when known), no traceback, and no file changed. A bad record must not stop the run: it is kept with its fields,
marked `invalid` with a reason when it is an object, and left exactly as it is when it is not.

EXPECTED.json maps each corpus file to {"outcome": "fatal", "message": <part of the error line>} or to
{"outcome": "ok" | "record_invalid", "keys": {<key>: <expected status, or "unchanged" for a non-object>}}, plus
optional checks ("bom", "originals", "huge_field", "names") and a "note". An entry with a "bug" is expected to fail
(strict xfail) until that bug is fixed. Four path cases that cannot be corpus files are added here.

Every case runs once, in this process (`run_cli`), against its own local TMDB server (module fixture `runs`); the
tests then look at the results.
"""

import dataclasses
import json
import pathlib
import shutil

import orjson
import pytest
from conftest import API_KEY, Completed, run_cli, tree

from movie_enrichment.testing import synthetic
from movie_enrichment.testing.tmdb_server import TmdbServer

CORPUS = pathlib.Path(__file__).resolve().parent / "bad_inputs"
EXPECTED: dict = orjson.loads((CORPUS / "EXPECTED.json").read_bytes())
OWN = ("tmdb", "images", "enrichment")
BOM = b"\xef\xbb\xbf"

pytestmark = pytest.mark.slow  # every test looks at the module fixture's 28 runs

# Paths that cannot be files in a corpus (what each must say is in PATH_MESSAGES).
PATH_CASES = ("input is a directory", "input is missing", "output folder is missing", "output is a directory")


def _catalog() -> list[dict]:
    """The synthetic films the corpus names, plus a film whose title is the number 1917."""
    films = synthetic.catalog(20)
    numbered = dict(films[0], id=799917, imdb_id="tt8579674", title="1917", original_title="1917",
                    release_date="2019-12-25", external_ids={"imdb_id": "tt8579674"})
    return films + [numbered]


CATALOG = _catalog()


def error_lines(stderr: str) -> list[str]:
    return stderr.strip().splitlines()


@dataclasses.dataclass
class Run:
    name: str
    folder: pathlib.Path
    input: pathlib.Path
    output: pathlib.Path
    where: str  # a path the error line must name
    done: Completed
    before: dict
    after: dict
    requests: int
    searches: int


def _prepare(name: str, root: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path, list, str]:
    """Lays out one case's folder: db/<input>, db/backups/old.json; returns input, output, extra args, where."""
    folder = root / name.replace(" ", "_")
    db = folder / "db"
    (db / "backups").mkdir(parents=True)
    (db / "backups" / "old.json").write_bytes(b"{}")
    if name in EXPECTED:
        path = db / name
        shutil.copyfile(CORPUS / name, path)
        return path, path, [], str(path)
    good = db / "movies.json"
    good.write_bytes(synthetic.database(2))
    if name == "input is a directory":
        path = db / "folder.json"
        path.mkdir()
        return path, path, [], str(path)
    if name == "input is missing":
        path = db / "missing.json"
        return path, path, [], str(path)
    if name == "output folder is missing":
        output = folder / "nowhere" / "movies.json"
        return good, output, ["--output", output], str(folder / "nowhere")
    if name == "output is a directory":
        output = db / "out.json"
        output.mkdir()
        return good, output, ["--output", output], str(output)
    raise KeyError(name)


def _run_case(name: str, root: pathlib.Path) -> Run:
    input_path, output, extra, where = _prepare(name, root)
    folder = root / name.replace(" ", "_")
    before = tree(folder)
    with TmdbServer(catalog=CATALOG, api_key=API_KEY) as server:
        args = ["--input", input_path, *extra, "--tmdb_base_url", server.url, "--no_http_cache", "--progress", "off"]
        done = run_cli(args, folder)
        counts = server.counts()
    searches = counts["by_endpoint"].get("search/movie", 0) + counts["by_endpoint"].get("find", 0)
    return Run(name, folder, input_path, output, where, done, before, tree(folder), counts["total"], searches)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("bad-inputs")
    return {name: _run_case(name, root) for name in [*EXPECTED, *PATH_CASES]}


def _param(name: str) -> pytest.param:
    spec = EXPECTED.get(name, {})
    marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {spec['bug']}")] if "bug" in spec else []
    return pytest.param(name, marks=marks, id=name.replace(" ", "_"))


def _cases(*outcomes: str) -> list:
    return [_param(n) for n, spec in EXPECTED.items() if spec["outcome"] in outcomes]


FATAL = _cases("fatal") + [_param(n) for n in PATH_CASES]
PATH_MESSAGES = {
    "input is a directory": "input is a directory, not a file",
    "input is missing": "input file not found",
    "output folder is missing": "output folder does not exist",
    "output is a directory": "output is a directory, not a file",
}


def test_the_corpus_is_complete_and_described():
    files = sorted(p.name for p in CORPUS.iterdir() if p.is_file() and p.name != "EXPECTED.json")
    assert files == sorted(EXPECTED), "every corpus file has an expected outcome, and every outcome a file"
    assert len(EXPECTED) + len(PATH_CASES) >= 17
    for name, spec in EXPECTED.items():
        assert spec["outcome"] in ("fatal", "record_invalid", "ok"), name
        assert ("message" in spec) == (spec["outcome"] == "fatal"), name
        assert ("keys" in spec) == (spec["outcome"] != "fatal"), name
    assert len((CORPUS / "huge_record.json").read_bytes()) > 5 * 1024 * 1024


@pytest.mark.parametrize("name", FATAL)
def test_a_fatal_input_stops_in_one_line_before_any_request_and_touches_nothing(runs, name):
    run = runs[name]
    assert run.done.returncode == 1, (run.done.returncode, run.done.stderr)
    assert "Traceback" not in run.done.stderr, run.done.stderr
    lines = error_lines(run.done.stderr)
    assert len(lines) == 1 and lines[0].startswith("movie-enrich: error: "), run.done.stderr
    assert run.done.stderr.endswith("\n") and run.done.stderr.count("\n") == 1, "exactly one line"
    assert run.requests == 0, "a fatal input costs no request"
    # Nothing beside the input either: no lock file, no holder record, no progress file, no spool folder.
    assert run.after == run.before, "no file created, changed or removed"
    assert run.done.stdout == ""


@pytest.mark.parametrize("name", FATAL)
def test_a_fatal_error_names_the_problem_and_where(runs, name):
    run = runs[name]
    lines = error_lines(run.done.stderr) or [""]
    message = EXPECTED[name]["message"] if name in EXPECTED else PATH_MESSAGES[name]
    assert message in lines[-1], run.done.stderr  # JSON errors include "at line L, column C" in the message
    assert run.where in lines[-1], "the line names the path"


@pytest.mark.parametrize("name", [n for n, s in EXPECTED.items() if "names" in s])
def test_a_non_json_number_literal_is_named(runs, name):
    line = (error_lines(runs[name].done.stderr) or [""])[-1]
    assert EXPECTED[name]["names"] in line, line


def _records(path: pathlib.Path, data: bytes) -> list[tuple[str, object]]:
    """(key, record) as the tool keys them: object keys, or the position (#0, #1, ...) in an array or JSON Lines."""
    data = data.removeprefix(BOM)
    if path.suffix == ".jsonl":
        return [(f"#{i}", orjson.loads(line)) for i, line in enumerate(data.splitlines()) if line.strip()]
    value = orjson.loads(data)
    return list(value.items()) if isinstance(value, dict) else [(f"#{i}", r) for i, r in enumerate(value)]


def same(a, b) -> bool:
    """Equal values, types and key order (True is not 1); the stdlib, since orjson stops at 254 levels."""
    return json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


def _mine(record):
    return {k: v for k, v in record.items() if k not in OWN} if isinstance(record, dict) else record


@pytest.mark.parametrize("name", _cases("ok", "record_invalid"))
def test_bad_records_are_kept_and_marked_and_the_run_goes_on(runs, name):
    run, spec = runs[name], EXPECTED[name]
    assert run.done.returncode == 0, run.done.stderr
    if "warning" in spec:  # one line that says what the run did about the input
        assert run.done.stderr.startswith("movie-enrich: warning: ") and run.done.stderr.count("\n") == 1
        assert spec["warning"] in run.done.stderr, run.done.stderr
    else:
        assert run.done.stderr == "", "a run with bad records says nothing on stderr"
    original = (CORPUS / name).read_bytes()
    written = run.output.read_bytes()
    before, after = _records(run.input, original), _records(run.output, written)

    assert [k for k, _ in after] == [k for k, _ in before] == list(spec["keys"]), "every key kept, in order"
    assert written.startswith(BOM) == original.startswith(BOM) == spec.get("bom", False)
    for (key, old), (_, new) in zip(before, after):
        status = spec["keys"][key]
        if status == "unchanged":
            assert same(new, old), f"{key!r}: a record that is not an object is kept as is"
            continue
        assert isinstance(new, dict), key
        assert same(_mine(new), old), f"{key!r}: every original field kept, in order"
        outcome = new["enrichment"]["metadata"]
        assert outcome["status"] == status, (key, outcome)
        assert new["enrichment"]["images"]["status"] == status, key
        if status == "invalid":
            assert isinstance(outcome["error"], str) and "title" in outcome["error"], (key, outcome)
            assert "\n" not in outcome["error"]
        elif status == "ok":
            assert isinstance(new["tmdb"]["id"], int) and outcome["error"] is None, key
    for key, fields in spec.get("originals", {}).items():
        assert _mine(dict(after)[key]) == fields, key
    if "huge_field" in spec:
        key, field = spec["huge_field"]
        assert dict(after)[key][field] == dict(before)[key][field]
        assert orjson.dumps(dict(before)[key][field]) in written, "the 5 MB string is written byte for byte"
    if not spec["keys"]:
        assert run.requests == 0


def test_duplicate_keys_keep_the_last_record_once(runs):
    """orjson (like json) keeps the last value of a repeated key: document it and check it is written once."""
    source = (CORPUS / "duplicate_keys.json").read_bytes()
    assert source.count(b'"dup":') == 2
    written = runs["duplicate_keys.json"].output.read_bytes()
    assert written.count(b'"dup":') == 1
    record = orjson.loads(written)["dup"]
    assert record["version"] == 2 and record["tmdb"]["id"] == CATALOG[1]["id"]


def test_invalid_records_cost_no_search(runs):
    """bad_titles.json has seven invalid records and two films to look up (one titled 1917): two searches."""
    assert runs["bad_titles.json"].searches == 2
    assert runs["non_object_records.json"].searches == 2

"""The README tells the truth: its picture of the pipeline names only steps that the real graph has, its exit
statuses are the command's, and its schedule examples run as written."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import filelock
import orjson
import pytest
from conftest import API_KEY, DATA, load

from movie_enrichment.io.tmdb import TmdbSettings
from movie_enrichment.pipelines.config import RunConfig
from movie_enrichment.pipelines.enrich_pipeline import build_pipeline
from movie_enrichment.pipelines.errors import EXIT_STATUSES
from movie_enrichment.transforms.selection import Selector

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_graph_steps() -> set[str]:
    text = README.read_text()
    section = text[text.index("## How it works"):]
    block = section[section.index("```") + 3:]
    block = block[:block.index("```")]
    block = re.sub(r"\(.*?\)", " ", block, flags=re.S)  # notes in brackets, e.g. "(CoGroupByKey, ...)"
    return set(re.findall(r"\b[A-Z][A-Za-z]+\b", block))


def _graph_labels(tmp_path) -> set[str]:
    config = RunConfig(input=str(tmp_path / "movies.json"), output=str(tmp_path / "movies.json"),
                       backup_dir=str(tmp_path / "backups"), failures=str(tmp_path / "failures.jsonl"),
                       checkpoint_dir=str(tmp_path / "checkpoints"), settings=TmdbSettings(api_key="unused"),
                       selector=Selector())
    p = beam.Pipeline()
    build_pipeline(p, config)
    labels: set[str] = set()

    class Collect(beam.pipeline.PipelineVisitor):
        def enter_composite_transform(self, node):
            self.visit_transform(node)

        def visit_transform(self, node):
            labels.update(node.full_label.split("/"))

    p.visit(Collect())
    return labels


def test_every_step_the_readme_draws_is_in_the_graph(tmp_path):
    steps = _readme_graph_steps()
    assert {"ReadMovies", "SelectMovies", "MatchTmdb", "WriteDatabase"} <= steps, steps
    missing = steps - _graph_labels(tmp_path)
    assert not missing, f"README.md draws steps the pipeline does not have: {sorted(missing)}"


def _section(heading: str) -> str:
    text = README.read_text()
    start = text.index(heading + "\n")
    level = heading.split(" ")[0]
    # up to the next heading of its level or above ("# " lines are comments in the code blocks)
    ends = [text.find(f"\n{'#' * n} ", start + 1) for n in range(2, len(level) + 1)]
    return text[start:min([end for end in ends if end > 0], default=len(text))]


def _block(section: str, language: str) -> str:
    start = section.index(f"```{language}\n") + len(language) + 4
    return section[start:section.index("```", start)]


def test_the_exit_status_table_lists_every_status_the_command_returns():
    codes = [int(code) for code in re.findall(r"^\| (\d+) \|", _section("### Exit statuses"), flags=re.M)]
    assert codes == [code for code, _ in EXIT_STATUSES]


README_BINARY, README_FOLDER, README_KEY = "/opt/movie_enrichment/.venv/bin/movie-enrich", "/srv/movies", \
    "/etc/movie-enrich.key"


def _cron_command(line: str) -> str:
    """What cron hands to /bin/sh: the five time fields dropped; an unescaped % would end the command there
    (what follows is its standard input), an escaped one loses its backslash."""
    command = line.split(None, 5)[5]
    assert not re.search(r"(?<!\\)%", command), "a bare % in a crontab cuts the command"
    return command.replace("\\%", "%")


def _exec_start(unit: str) -> list[str]:
    """The words systemd runs: %% is a percent sign, any other % a specifier."""
    line = next(line for line in unit.splitlines() if line.startswith("ExecStart="))[len("ExecStart="):]
    assert "%" not in line.replace("%%", ""), "a bare % in a unit file is a specifier"
    return shlex.split(line.replace("%%", "%"))


@pytest.mark.e2e  # through /bin/sh, as cron and systemd run it
def test_the_schedule_examples_run_as_written(tmp_path, tmdb_server):
    """The cron line and the service's command, with only the paths and the server's URL replaced, run through
    cron's and systemd's quoting: the key from a chmod 600 file, nothing printed (so nothing mailed) when a run
    ends with 0, and the exit status printed when it does not."""
    section = _section("## Running it on a schedule")
    assert f"install -m 600 -o movies /dev/null {README_KEY}" in _block(section, "bash")
    cron_line = _block(section, "cron").strip()
    assert len(cron_line.splitlines()) == 1
    command = _cron_command(cron_line)
    service = _exec_start(_block(section, "ini"))
    assert service[0] == README_BINARY and "--tmdb_api_key_file" in service and "--tmdb_api_key" not in service
    assert shlex.split(command)[:len(service)] == service, "cron and systemd run the same command"

    folder, home = tmp_path / "srv", tmp_path / "home"
    folder.mkdir()
    home.mkdir()
    db = folder / "movies.json"
    db.write_bytes(orjson.dumps(dict(list(load(DATA / "sample_movies.json").items())[:20])))
    key = tmp_path / "movie-enrich.key"
    key.write_text(API_KEY + "\n")
    key.chmod(0o600)
    here = {README_FOLDER: str(folder), README_KEY: str(key)}
    python = f"{shlex.quote(sys.executable)} -m movie_enrichment"
    url = f" --tmdb_base_url {tmdb_server.url}"
    command = command.replace(README_BINARY, python).replace(f"--input {README_FOLDER}/movies.json",
                                                             f"--input {README_FOLDER}/movies.json{url}")
    for theirs, ours in here.items():
        command = command.replace(theirs, ours)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "SHELL": "/bin/sh", "LOGNAME": "movies",
           **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}

    cron = subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=300)
    assert (cron.returncode, cron.stdout, cron.stderr) == (0, "", ""), "cron mails nothing"
    log = (folder / "enrich.log").read_text()
    assert "metadata" in log and str(db) in log and "error" not in log, log
    assert all(r.get("enrichment") for r in load(db).values())

    key.write_text("not-the-key\n")  # a rejected key: a fatal problem, status 1, which cron mails
    db.write_bytes(orjson.dumps({**load(db), **dict(list(load(DATA / "sample_movies.json").items())[20:21])}))
    cron = subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=300)
    assert cron.stdout == "movie-enrich exit 1\n"
    assert "TMDB rejected the API key" in (folder / "enrich.log").read_text()

    key.write_text(API_KEY + "\n")
    with filelock.FileLock(str(db) + ".run.lock", timeout=0):  # last night's run still going: exit 3, no mail
        cron = subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=300)
    assert (cron.returncode, cron.stdout, cron.stderr) == (0, "", "")
    assert "another run" in (folder / "enrich.log").read_text()

    words = [here.get(word, word.replace(README_FOLDER, str(folder))) for word in service[1:]]
    at = words.index("--input") + 2
    words[at:at] = ["--tmdb_base_url", tmdb_server.url]
    systemd_env = {**env, "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"}
    systemd = subprocess.run([sys.executable, "-m", "movie_enrichment", *words], env=systemd_env, cwd="/",
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert systemd.returncode == 0, systemd.stderr
    assert len(load(db)) == 21 and all(r.get("enrichment") for r in load(db).values()), "the new movie too"


@pytest.mark.e2e  # the section's commands, through bash, with a real server process
def test_the_try_it_on_your_own_file_section_runs_as_written(tmp_path):
    """The section's block runs as written, with only its folder (/tmp/) moved into the test's and the commands
    given as this interpreter's: the bundled server starts, the copy is enriched (a film the catalogue lacks is
    not_found, one it has is ok), the user's own file is untouched, and the server is stopped."""
    section = _section("## Try it on your own file")
    block = _block(section, "bash")
    assert "--port 0" in block and "test-api-key" in block and "cp movies.json" in block
    films = [{"title": "Heat", "year": 1995}, {"title": "No Such Film At All", "year": 1901}]
    own = tmp_path / "movies.json"
    own.write_bytes(b"[\n" + b",\n".join(orjson.dumps(film) for film in films) + b"\n]\n")
    before = own.read_bytes()
    python = shlex.quote(sys.executable)
    script = (block.replace("/tmp/", f"{tmp_path}/")
              .replace(". .venv/bin/activate", ":")
              .replace("python -m movie_enrichment.testing", f"{python} -m movie_enrichment.testing")
              .replace("movie-enrich --input", f"{python} -m movie_enrichment --input"))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}
    done = subprocess.run(["bash", "-e", "-c", "trap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + script], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dry run: 2 records" in done.stdout and "nothing was requested or written" in done.stdout
    assert own.read_bytes() == before, "the user's own file is not touched"
    enriched = orjson.loads((tmp_path / "movies-try.json").read_bytes())
    assert [movie["enrichment"]["metadata"]["status"] for movie in enriched] == ["ok", "not_found"]
    assert enriched[0]["tmdb"]["title"] == "Heat"
    assert "test-api-key" not in done.stdout + done.stderr

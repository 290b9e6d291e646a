"""The package's layers import one way: io <- transforms <- pipelines <- api <- console; testing stands apart.

A reader should know from a module's folder what it may touch; this test keeps that true as code moves.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "movie_enrichment"
# The rank of each room; a module may import rooms of its own rank or lower, never higher.
RANKS = {"model": 0, "io": 1, "transforms": 2, "pipelines": 3, "api": 4, "console": 5, "cli": 6}


def _room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "movie_enrichment" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: pathlib.Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, node.module + "." + alias.name) for alias in node.names]
    return found


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        room = relative.parts[0].removesuffix(".py")
        if room in ("__init__", "__main__"):
            continue  # the package's front door re-exports from every room
        yield path, room


def test_the_layout_has_the_rooms_it_claims():
    rooms = {room for _, room in _modules()}
    assert {"io", "transforms", "pipelines", "testing"} <= rooms


@pytest.mark.parametrize("path,room", list(_modules()), ids=lambda v: str(v) if isinstance(v, str) else None)
def test_imports_run_one_way(path, room):
    wrong = []
    for line, name in _imports(path):
        target = _room(name)
        if target is None or target == room:
            continue
        if target == "testing":
            if room != "testing":
                wrong.append(f"{path.name}:{line} imports {name}: production code must not use testing/")
            continue
        if room == "testing":
            continue  # the local server and fixtures may use any room
        if room not in RANKS:
            wrong.append(f"{path.name}:{line}: room {room!r} has no rank in tests/test_layout.py")
            continue
        if RANKS.get(target, -1) > RANKS[room]:
            wrong.append(f"{path.name}:{line} ({room}) imports {name} ({target}), a higher layer")
    assert not wrong, "\n".join(wrong)


def _private_api_uses(source: str, filename: str = "<source>") -> list[str]:
    """Where a module reaches into api.py's own (underscore) names: `api._x`, `movie_enrichment.api._x`,
    `from movie_enrichment.api import _x`."""
    tree = ast.parse(source, filename)
    aliases = set()  # local names bound to the api module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == "movie_enrichment":
                aliases |= {a.asname or a.name for a in node.names if a.name == "api"}
            elif node.module == "movie_enrichment.api":
                found += [(node.lineno, f"imports {a.name}") for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Import):
            aliases |= {a.asname for a in node.names if a.name == "movie_enrichment.api" and a.asname}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id in aliases) or ast.unparse(owner) == "movie_enrichment.api":
                found.append((node.lineno, f"uses api.{node.attr}"))
    return [f"{filename}:{line} {what}" for line, what in sorted(found)]


def test_the_private_api_scan_finds_each_way_in():
    source = ("from movie_enrichment import api\nimport movie_enrichment.api\nimport movie_enrichment.api as a\n"
              "from movie_enrichment.api import _argv, launch\n"
              "api._checked([], None)\nmovie_enrichment.api._x\na._y\napi.launch\napi.Run.state\n")
    assert _private_api_uses(source) == ["<source>:4 imports _argv", "<source>:5 uses api._checked",
                                         "<source>:6 uses api._x", "<source>:7 uses api._y"]


def test_no_module_uses_the_underscore_names_of_api():
    """api.py's public surface (launch, check_options, attach, Run, OptionError...) is all other modules use, so
    its private helpers can change without breaking the console or the command line."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != PACKAGE / "api.py":
            wrong += _private_api_uses(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    assert not wrong, "\n".join(wrong)


def test_every_module_says_in_its_first_line_what_it_owns():
    """A reader opening any file learns from its first docstring line what that file is for."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        first = (doc or "").split("\n", 1)[0].strip()
        if not first:
            wrong.append(f"{path.relative_to(PACKAGE)}: {first or 'no docstring'!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("room", ["io"])
def test_no_module_of_the_io_room_mixes_things_past_400_lines(room):
    """The io room was split (io/database, io/sink, io/tmdb: one thing per file); a file that grows past ~400 lines
    has taken on a second thing."""
    long = [f"{path.relative_to(PACKAGE)}: {n} lines" for path in sorted((PACKAGE / room).rglob("*.py"))
            if (n := path.read_text(encoding="utf-8").count("\n")) > 400]
    assert not long, "\n".join(long)

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

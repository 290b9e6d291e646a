"""The console's child processes: a module of ours run apart (`python -m ...`), its answer one JSON object on
standard output, so that the server's process never parses the database."""

import asyncio
import sys

import orjson


async def answer(module: str, *args: str) -> tuple[dict | None, int | None]:
    """What `python -m module args` printed (a JSON object, or None when it printed none) and its exit status."""
    child = await asyncio.create_subprocess_exec(sys.executable, "-m", module, *args,
                                                 stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await child.communicate()
    try:
        value = orjson.loads(out)
    except orjson.JSONDecodeError:
        value = None
    return (value if isinstance(value, dict) else None), child.returncode

"""Some scenarios' parts of a rendered report put into an existing RESULTS.md, the rest of that file kept.

When the saved results do not hold every scenario of the mode (a `--only` run on a machine that has not kept
the last full run's results under bench/out/), rendering them whole would drop the other scenarios from the
report. Instead each scenario run replaces, in the existing file, its own parts: its `## ` section (added among
the others in the suite's order when the file has none), its rows of the Targets table, its bullet under "What bounds the
results"; and the lines that say when it ran ("- S5 from `bench/run.sh --only S5` on ...") join the machine's
list. Everything else, the header's date and code line included, stays as it was.
"""

from __future__ import annotations

import re

# The start of each scenario's section heading, as bench/RESULTS.md.tmpl writes it.
HEADINGS = {"S1": "## S1:", "S2": "## S2:", "S3": "## S3:", "S4": "## S4:", "R": "## Requests per movie",
            "C": "## C:", "S5": "## S5:", "M": "## M:", "L": "## L:",
            "D": "## D:"}
# The start of the first cell of each scenario's rows in the Targets table.
TARGETS = {"R": "Requests per movie"}
MACHINE = "## Machine and versions"
FINDINGS = "### What bounds the results"
RUN_AGAIN = re.compile(r"^- [\w, ]+ from `bench/run\.sh --only ")


def _blocks(text: str) -> list[list[str]]:
    """The lines of the document cut at each `## ` heading (the first block is what comes before any)."""
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line.startswith("## "):
            blocks.append([])
        blocks[-1].append(line)
    return blocks


def _find(blocks: list[list[str]], heading: str) -> int | None:
    return next((i for i, block in enumerate(blocks) if block and block[0].startswith(heading)), None)


def _replace_lines(old: list[str], new: list[str], wanted: str, anchor: str, before: tuple[str, ...],
                   continuation: str | None = None) -> list[str]:
    """`old` with its lines that start with `wanted` (and the lines after each that start with `continuation`)
    replaced by `new`'s, where the first of them was; else before the first line that starts with one of
    `before` (a later scenario's), else after the last line that starts with `anchor` (else nowhere)."""
    def pick(lines: list[str]) -> tuple[list[str], list[str], int | None]:
        kept, taken, at, inside = [], [], None, False
        for line in lines:
            inside = line.startswith(wanted) or (inside and continuation is not None and line.startswith(continuation))
            if inside:
                at = len(kept) if at is None else at
                taken.append(line)
            else:
                kept.append(line)
        return kept, taken, at
    kept, _, at = pick(old)
    _, fresh, _ = pick(new)
    if at is None:
        at = next((i for i, line in enumerate(kept) if before and line.startswith(before)), None)
    if at is None:
        anchors = [i for i, line in enumerate(kept) if line.startswith(anchor)]
        if not anchors:
            return kept
        at = anchors[-1] + 1
    return kept[:at] + fresh + kept[at:]


def _subsection(block: list[str], heading: str) -> tuple[int, int]:
    """Where the `### heading` part of a block begins and ends (an empty range at the end if it has none)."""
    start = next((i for i, line in enumerate(block) if line == heading), len(block))
    end = next((i for i in range(start + 1, len(block)) if block[i].startswith("### ")), len(block))
    return start, end


def splice(old: str, new: str, scenarios: list[str]) -> str:
    """`old` with the parts of `scenarios` taken from `new` (both whole rendered reports)."""
    olds, news = _blocks(old.rstrip("\n")), _blocks(new.rstrip("\n"))
    order = list(HEADINGS)
    for name in scenarios:
        later = order[order.index(name) + 1:]
        i, j = _find(olds, "## Targets"), _find(news, "## Targets")
        if i is not None and j is not None:
            olds[i] = _replace_lines(olds[i], news[j], "| " + _target(name), "|",
                                     tuple("| " + _target(n) for n in later))
            (a, b), (c, d) = _subsection(olds[i], FINDINGS), _subsection(news[j], FINDINGS)
            olds[i][a:b] = _replace_lines(olds[i][a:b], news[j][c:d], f"- **{name}**", "- **",
                                          tuple(f"- **{n}**" for n in later), "  ")
        j = _find(news, HEADINGS[name])
        if j is None:
            continue
        i = _find(olds, HEADINGS[name])
        if i is not None:
            olds[i] = news[j]
        else:
            at = next((k for k, block in enumerate(olds) if block and block[0].startswith(
                tuple(HEADINGS[n] for n in later) + ("## The peers",))), len(olds))
            olds.insert(at, news[j])
    i, j = _find(olds, MACHINE), _find(news, MACHINE)
    if i is not None and j is not None:
        # The old lines saying when these scenarios ran give way to the new ones, after the list's last line.
        kept = [line for line in olds[i] if not (RUN_AGAIN.match(line) and set(_ran(line)) <= set(scenarios))]
        at = max((k for k, line in enumerate(kept) if line.startswith("- ")), default=len(kept) - 1) + 1
        olds[i] = kept[:at] + [line for line in news[j] if RUN_AGAIN.match(line)] + kept[at:]
    return "\n".join(line for block in olds for line in block).rstrip("\n") + "\n"


def _target(name: str) -> str:
    return TARGETS.get(name, name + " ")


def _ran(line: str) -> list[str]:
    """The scenarios that a line saying when they ran names."""
    return line[2:line.index(" from `")].split(", ")

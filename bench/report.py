"""RESULTS.md from a run's results: the figures, tables and verdicts are computed here; the prose around them
is bench/RESULTS.md.tmpl, whose named sections are filled in with string.Template."""

from __future__ import annotations

import functools
import re
import string
from pathlib import Path
from typing import Any

from bench import breadth, catalogue, download_images, measure, shared_key
from bench.scenarios import BEAM_WORKERS, CONCURRENCY, PEERS, PIPELINE, Row

TEMPLATE = Path(__file__).with_name("RESULTS.md.tmpl")


# --- the template -----------------------------------------------------------------------------------------

@functools.cache
def _sections(path: Path = TEMPLATE) -> dict[str, string.Template]:
    """The template's sections by name: from an "@@ name" line to the next, trailing blank lines left out."""
    blocks = re.split(r"^@@ ", path.read_text(encoding="utf-8"), flags=re.M)[1:]
    return {name.strip(): string.Template(body.rstrip("\n"))
            for name, _, body in (block.partition("\n") for block in blocks)}


def prose(section: str, /, **values: Any) -> str:
    """One section of the template with its values filled in (a value missing is an error, not a blank)."""
    return _sections()[section].substitute(values)


def _lines(section: str, /, **values: Any) -> list[str]:
    return prose(section, **values).split("\n")


def _block(lines: list[str]) -> str:
    return "\n".join(lines)


# --- figures and tables -----------------------------------------------------------------------------------

def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f}"


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.0f} kB"


def _s(x: float | None) -> str:
    return "—" if x is None else (f"{x:,.1f}" if x < 100 else f"{x:,.0f}")


def _wall_cell(row: Row) -> str:
    if row.extrapolated_wall is not None:
        return f"**≈{_s(row.extrapolated_wall)} (extrapolated)**"
    return _s(row.wall)


def _measured_cell(row: Row) -> str:
    return f"{_s(row.wall)} for {row.done}" if row.extrapolated_wall is not None else _s(row.wall)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table, as the report's sections take it."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return _block(lines)


def _cpu_per_request(a: Row, b: Row) -> str:
    return f"CPU per request {1000 * a.cpu / a.requests:.2f} ms vs {1000 * b.cpu / b.requests:.2f} ms"


def _peer_rows(rows: list[Row], base: Row | None) -> list[list[Any]]:
    table = []
    for r in rows:
        speed = f"{base.best_wall / r.best_wall:.1f}x" if base and r.best_wall and base.returncode == 0 else "—"
        table.append([f"`{r.name}`", r.done if r.done == r.movies else f"{r.done} of {r.movies}", _wall_cell(r),
                      _measured_cell(r), speed, _s(r.cpu), _mib(r.peak_rss), r.requests, f"{r.per_movie:.2f}",
                      r.throttled, _s(r.server_cpu), f"{r.load:.1f}", _output_cell(r)])
    return table


def _output_cell(r: Row) -> str:
    """The output check, and for a run kept as the median of interleaved rounds, the rounds' wall times."""
    if r.output_check and r.note.startswith("median"):
        return f"{r.output_check}; {r.note}"
    return r.output_check or r.note


PEER_HEADERS = ["run", "movies", "wall s (full job)", "measured wall s", "vs load_once", "CPU s", "peak RSS MiB (tree)",
                "requests", "req/movie", "429s", "server CPU s", "load avg", "output"]


def _find(rows: list[Row], name: str) -> Row | None:
    return next((r for r in rows if r.name == name and r.returncode == 0), None)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**MISSED**")


def targets(results: dict) -> list[list[str]]:
    out = []
    s1 = results.get("S1")
    if s1:
        pipe, loop = _find(s1["rows"], PIPELINE), _find(s1["rows"], "load_once")
        if pipe and loop:
            speed = loop.best_wall / pipe.wall
            out.append(["S1 pipeline ≥ 20x faster than the load-once loop",
                        f"{speed:.1f}x ({_s(pipe.wall)} s vs {_s(loop.best_wall)} s"
                        + (" extrapolated" if loop.extrapolated_wall else "") + ")", _verdict(speed >= 20)])
            bare = _find(s1["rows"], PIPELINE + " --no_http_cache")
            if bare:
                cost = pipe.wall / bare.wall - 1
                out.append(["S1 the HTTP cache's cost: defaults within 10% of `--no_http_cache`",
                            f"{100 * cost:+.1f}% wall ({_s(pipe.wall)} s vs {_s(bare.wall)} s); "
                            + _cpu_per_request(pipe, bare),
                            _verdict(cost <= 0.10)])
            pool = _find(s1["rows"], "thread_pool")
            if pool and pool.returncode == 0:
                out.append([f"S1 pipeline (defaults) no slower than thread_pool at {CONCURRENCY} in flight, CPU per "
                            "request too",
                            f"{_s(pipe.wall)} s vs {_s(pool.wall)} s; " + _cpu_per_request(pipe, pool),
                            _verdict(pipe.wall <= pool.wall and pipe.cpu <= pool.cpu)])
            measured_peers = [r for r in s1["rows"] if r.name.split(" ")[0] in PEERS and r.returncode == 0]
            best = min(measured_peers, key=lambda r: r.best_wall, default=None)
            if best:
                out.append(["S1 pipeline no slower than the best peer",
                            f"pipeline {_s(pipe.wall)} s, best peer `{best.name}` {_s(best.best_wall)} s",
                            _verdict(pipe.wall <= best.best_wall)])
    s2 = results.get("S2")
    if s2:
        pipe = _find(s2["rows"], PIPELINE)
        if pipe:
            t = throughput(pipe, s2["cfg"]["rate"])
            out.append(["S2 useful (2xx) throughput ≥ 95% of the 40 req/s limit",
                        f"{t['window_pct']:.1f}% while requesting ({t['window_rps']:.1f}/s); "
                        f"{t['e2e_pct']:.1f}% over the whole run incl. start-up", _verdict(t["window_pct"] >= 95)])
            out.append(["S2 the same over the whole run, start-up and tail included, ≥ 95%",
                        f"{t['e2e_pct']:.1f}% ({t['e2e_rps']:.1f}/s); first request at {_s(t['first_request_at'])} s",
                        _verdict(t["e2e_pct"] >= 95)])
            out.append(["S2 429 answers < 1% of requests", f"{t['pct_429']:.2f}% ({pipe.throttled} of {pipe.requests})",
                        _verdict(t["pct_429"] < 1)])
    s3 = results.get("S3")
    if s3:
        pipe, loop = _find(s3["rows"], PIPELINE), _find(s3["rows"], "load_once")
        if pipe and loop:
            ratio = pipe.wall / loop.wall
            out.append(["S3 pipeline wall ≤ 3x the load-once loop", f"{ratio:.2f}x ({_s(pipe.wall)} s vs {_s(loop.wall)} s)",
                        _verdict(ratio <= 3)])
            mem = pipe.peak_rss / loop.peak_rss
            out.append(["S3 pipeline peak RSS ≤ 2x the load-once loop",
                        f"{mem:.2f}x ({_mib(pipe.peak_rss)} MiB vs {_mib(loop.peak_rss)} MiB)", _verdict(mem <= 2)])
    s4 = results.get("S4")
    if s4 and s4.get("rows"):
        pipes = [r for r in s4["rows"] if r.name == PIPELINE and r.opens]
        once = all(r.opens["db_read"] == 1 and r.opens["db_write"] == 1 for r in pipes)
        desc = ", ".join(f"N={r.movies}: database {r.opens['db_read']} read + {r.opens['db_write']} write "
                         f"(backup: {r.opens['backup_read']} read + {r.opens['backup_write']} write)" for r in pipes)
        out.append(["S4 pipeline reads the input once and writes it once, whatever N", desc, _verdict(once and bool(pipes))])
    r = results.get("R")
    if r:
        no_id = _find([x for x in r["rows"] if x.scenario == "R-no-id"], PIPELINE)
        known = _find([x for x in r["rows"] if x.scenario == "R-known-id"], PIPELINE)
        if no_id:
            out.append(["Requests per movie, no known id ≤ 2.0",
                        f"{no_id.per_movie:.3f} (+{no_id.by_endpoint.get('configuration', 0)} /configuration per run; "
                        f"{no_id.requests / no_id.done:.3f} with it)", _verdict(no_id.per_movie <= 2.0)])
        if known:
            out.append(["Requests per movie, known TMDB id = 1.0",
                        f"{known.per_movie:.3f} (+{known.by_endpoint.get('configuration', 0)} /configuration per run; "
                        f"{known.requests / known.done:.3f} with it)", _verdict(abs(known.per_movie - 1.0) < 1e-9)])
    c = results.get("C")
    if c:
        out += [[target, figure, _verdict(met)] for target, figure, met in catalogue.targets(c["curve"])]
    s5 = results.get("S5")
    if s5:
        out += [[target, figure, _verdict(met)] for target, figure, met in shared_key.targets(s5)]
    if results.get("L"):
        out += [[target, figure, _verdict(met)] for target, figure, met in breadth.targets(results["L"])]
    if results.get("D"):
        out += [[target, figure, _verdict(met)] for target, figure, met in download_images.targets(results["D"])]
    m = results.get("M")
    if m and len(m["rows"]) == 2:
        matched, unmatched = m["rows"]
        met = None if matched.returncode or unmatched.returncode else unmatched.peak_rss <= matched.peak_rss
        out.append([f"M {m['cfg']['size']:,} new films, most unmatched: peak RSS no higher than all matched",
                    f"{_mib(unmatched.peak_rss)} MiB vs {_mib(matched.peak_rss)} MiB "
                    f"({unmatched.peak_rss / matched.peak_rss:.2f}x)", _verdict(met)])
    return out



# Probes renamed since results were saved: the old name, the current one (bench/probe.py).
RENAMED = {"metadata: EnrichMetadataFn": "metadata: MetadataEnricher", "images: EnrichImagesFn": "images: ImagesEnricher"}


def _marks(prof: dict | None) -> dict[str, tuple]:
    return {RENAMED.get(name, name): (calls, first, last, inside)
            for name, calls, first, last, inside in (prof or {}).get("timeline", [])}


def _steady_rate(row: Row) -> float | None:
    """The median of the 2xx/s in successive 10 s windows, the first and last left out."""
    rates = [float(x) for x in _rate_series(row).split(", ") if x][1:-1]
    return sorted(rates)[len(rates) // 2] if rates else None



# --- what bounds each result ------------------------------------------------------------------------------

def findings(results: dict) -> list[str]:
    """What bounds each scenario, in figures taken from this run (the explanations are the harness's reading)."""
    out: list[str] = []
    s1 = results.get("S1")
    if s1:
        cfg, rows = s1["cfg"], s1["rows"]
        pipe, loop, pool = _find(rows, PIPELINE), _find(rows, "load_once"), _find(rows, "thread_pool")
        more = next((r for r in rows if r.name.startswith(PIPELINE + " ") and r.returncode == 0), None)
        if pipe and loop:
            ideal = cfg["size"] * 2 * cfg["latency"] / 1000 / CONCURRENCY
            text = prose("finding_s1", speed=f"{loop.best_wall / pipe.wall:.1f}", concurrency=CONCURRENCY,
                         size=f"{cfg['size']:,}", latency=cfg["latency"], ideal=f"{ideal:.1f}",
                         ratio=f"{loop.best_wall / ideal:.1f}", loop_wall=_s(loop.best_wall),
                         need=f"{loop.best_wall / 20:.1f}")
            text += prose("finding_s1_out_of_reach" if loop.best_wall / ideal < 20 else "finding_s1_room")
            if more:
                text += prose("finding_s1_more", flags=more.name[len(PIPELINE) + 1:], wall=_s(more.wall),
                              speed=f"{loop.best_wall / more.wall:.1f}")
            if pool:
                text += prose("finding_s1_pool", pool_wall=_s(pool.wall), pool_cpu=_s(pool.cpu), wall=_s(pipe.wall),
                              cpu=_s(pipe.cpu))
            out.append(text)
            marks = _marks(s1.get("profile"))
            lookup = marks.get("lookup: LookupTmdbFn (per batch, HTTP)")
            end = marks.get("process exit (probe end)")
            images = marks.get("images: ImagesEnricher")
            if lookup and end:
                rate = pipe.requests / (lookup[2] - lookup[1]) if lookup[2] > lookup[1] else float("nan")
                line = prose("finding_s1_profiled", before=f"{lookup[1]:.1f}", span=f"{lookup[2] - lookup[1]:.1f}",
                             rate=f"{rate:.0f}", ideal_rate=f"{CONCURRENCY / (cfg['latency'] / 1000):.0f}",
                             after=f"{end[2] - lookup[2]:.1f}")
                if images and images[1] >= lookup[2] - 0.05:
                    line += prose("finding_s1_stages", images_start=f"{images[1]:.1f}", lookup_end=f"{lookup[2]:.1f}")
                out.append(line + ".")
    s2 = results.get("S2")
    if s2:
        rows, rate = s2["rows"], s2["cfg"]["rate"]
        pipe = _find(rows, PIPELINE)
        if pipe:
            t = throughput(pipe, rate)
            text = prose("finding_s2", window_pct=f"{t['window_pct']:.1f}", pct_429=f"{t['pct_429']:.1f}",
                         throttled=pipe.throttled, requests=pipe.requests)
            for other in rows:
                if other is not pipe and other.returncode == 0:
                    o = throughput(other, rate)
                    text += prose("finding_s2_other", name=other.name, pct_429=f"{o['pct_429']:.1f}",
                                  window_pct=f"{o['window_pct']:.1f}")
            steady = _steady_rate(pipe)
            if steady:
                text += prose("finding_s2_steady", steady=f"{steady:.1f}")
            if t["first_request_at"] is not None:
                text += prose("finding_s2_startup", first=f"{t['first_request_at']:.1f}")
            out.append(text)
    s3 = results.get("S3")
    if s3:
        rows = s3["rows"]
        pipe, loop = _find(rows, PIPELINE), _find(rows, "load_once")
        prof = s3.get("profile") or {}
        if pipe and loop:
            top = sorted(phases(prof.get("timeline") or []), key=lambda p: -p[1])[:5]
            text = prose("finding_s3", wall_ratio=f"{pipe.wall / loop.wall:.2f}",
                         mem_ratio=f"{pipe.peak_rss / loop.peak_rss:.2f}", requests=loop.requests,
                         loop_wall=_s(loop.wall), prof_wall=_s(prof.get("wall")),
                         segments="; ".join(f"{label} {d:.1f} s" for label, d in top))
            spy = prof.get("py_spy") or {}
            cats = dict(spy.get("categories") or [])
            if cats:
                def cpu(name: str) -> str:
                    return f"{cats.get(name, 0) / spy['rate']:.1f}"
                text += prose("finding_s3_cpu", cpu=f"{spy['cpu_seconds']:.1f}",
                              runner=cpu("Beam: runner, bundles, gRPC data plane"),
                              coders=cpu("Beam: element coders (shuffles, side inputs)"),
                              read_parse=cpu("read: parse the database (orjson)"),
                              sink_parse=cpu("sink: parse the snapshot again"),
                              serialize=cpu("sink: serialize (orjson)"),
                              write=cpu("sink: backup copy + atomic write + fsync"),
                              http=cpu("lookup: HTTP client (requests/urllib3)"))
            if "parse: parse_snapshot #2" in _marks(prof):
                text += prose("finding_s3_parsed_twice", db_size=_size(s3["data"]["db_bytes"]))
            rss = prof.get("rss") or []
            if rss:
                peak_t, peak_v = max(rss, key=lambda p: p[1])
                during = [label for label, a, b in segments(prof.get("timeline") or []) if a - 0.05 <= peak_t <= b + 0.05]
                text += prose("finding_s3_memory", peak=_mib(peak_v), peak_t=f"{peak_t:.1f}",
                              during="; ".join(during) or "none probed",
                              series=", ".join(_mib(v) for _, v in _every(rss, 1.0)), loop_peak=_mib(loop.peak_rss))
            out.append(text)
    s4 = results.get("S4")
    if s4 and s4.get("rows"):
        pipes = [r for r in s4["rows"] if r.name == PIPELINE and r.opens]
        if pipes:
            parts = "; ".join(
                prose("finding_s4_part", movies=r.movies, db_read=r.opens["db_read"], db_write=r.opens["db_write"],
                      backup_read=r.opens["backup_read"], backup_write=r.opens["backup_write"],
                      checkpoints=r.opens["checkpoint_write"], fsync_reopen=r.opens["fsync_reopen"]) for r in pipes)
            loops = [r for r in s4["rows"] if r.name == "n_plus_one" and r.opens]
            measured = prose("finding_s4_measured", ns=", ".join(str(r.done) for r in loops)) if loops else ""
            out.append(prose("finding_s4", parts=parts, measured=measured))
    return out




def throughput(row: Row, limit: float) -> dict:
    """2xx per second over the whole run, and over the window in which requests were being answered."""
    ok = row.ok2xx
    first = next((t for t, s in row.timeline if s.get("total", 0) > 0), None)
    last = next((t for t, s in row.timeline if s.get("total", 0) >= row.requests), None)
    window = (last - first) if first is not None and last is not None and last > first else row.wall
    # The polls are 0.1 s apart: each end of the window is known to 0.1 s; widen it by one poll to stay conservative.
    window += measure.POLL_SECONDS
    return {"e2e_rps": ok / row.wall, "e2e_pct": 100 * ok / row.wall / limit,
            "window": window, "window_rps": ok / window, "window_pct": 100 * ok / window / limit,
            # The server's own clock where it was read (the same monotonic clock as the harness), else the polls'.
            "first_request_at": row.first_request if row.first_request is not None else first,
            "pct_429": 100 * row.throttled / row.requests if row.requests else 0.0}


def _rate_series(row: Row, step: float = 10.0) -> str:
    if not row.timeline:
        return ""
    points, next_t, last_total, last_t = [], step, 0, 0.0
    for t, s in row.timeline:
        if t >= next_t:
            ok = sum(v for k, v in s.get("by_status", {}).items() if k.startswith("2"))
            points.append(f"{(ok - last_total) / (t - last_t):.1f}")
            last_total, last_t, next_t = ok, t, next_t + step
    return ", ".join(points)


# --- the document -----------------------------------------------------------------------------------------

def render(results: dict, mode: str, started: str, elapsed: float, merged: list[dict] = ()) -> str:
    """The document. `merged`: the later runs of some scenarios (`--only`) put over the run that started at
    `started`, each as {"scenarios", "started", "elapsed"}."""
    mach, ver = results["machine"], results["versions"]
    lines = _lines("header", flag="" if mode == "full" else " --" + mode, started=started, mode=mode,
                   minutes=f"{elapsed / 60:.1f}", nproc=mach["nproc"], cpu=mach["cpu"], ram=mach["ram"], os=mach["os"],
                   versions=", ".join(f"{k} {v}" for k, v in ver.items()))
    for later in merged:
        lines += _lines("merged", scenarios=", ".join(later["scenarios"]), only=",".join(later["scenarios"]),
                        started=later["started"], minutes=f"{later['elapsed'] / 60:.1f}")
    codes: dict[str, list[str]] = {}
    for name, result in results.items():
        if isinstance(result, dict):
            for row in result.get("rows", []):
                codes.setdefault(row.code, []).append(row.scenario)
            if result.get("code"):  # a scenario without rows (S5) says its code once
                codes.setdefault(result["code"], []).append(name)
    if len(codes) == 1:
        lines += _lines("code_same", code=next(iter(codes)))
    elif codes:
        lines += _lines("code_changed", by_version="; ".join(f"{code}: {', '.join(dict.fromkeys(sc))}"
                                                             for code, sc in codes.items()))
    lines += [""]
    lines += _lines("targets", table=_table(["target", "figure", "verdict"], targets(results)))
    found = findings(results)
    if found:
        lines += [""] + _lines("findings", findings=_block(found))
    if results.get("S1") or results.get("C"):
        lines += [""] + _lines("tried")
    lines += [""] + _lines("legend") + [""]

    if "S1" in results:
        s1 = results["S1"]
        cfg = s1["cfg"]
        base = _find(s1["rows"], "load_once")
        ideal = cfg["size"] * 2 * cfg["latency"] / 1000 / CONCURRENCY
        lines += _lines("s1", size=f"{cfg['size']:,}", latency=cfg["latency"], concurrency=CONCURRENCY,
                        beam_workers=BEAM_WORKERS, db_size=_size(s1["data"]["db_bytes"]),
                        table=_table(PEER_HEADERS, _peer_rows(s1["rows"], base)),
                        latency_total=f"{cfg['size'] * 2 * cfg['latency'] / 1000:.0f}", ideal=f"{ideal:.1f}",
                        ratio=f"{(base.best_wall / ideal if base else float('nan')):.1f}") + [""]
        if s1.get("profile"):
            lines += _profile_section("S1", s1["profile"])
    if "S2" in results:
        s2 = results["S2"]
        cfg = s2["cfg"]
        table = []
        for r in s2["rows"]:
            t = throughput(r, cfg["rate"])
            table.append([f"`{r.name}`", _s(r.wall), r.requests, r.ok2xx, f"{r.throttled} ({t['pct_429']:.2f}%)",
                          f"{t['window_rps']:.2f} ({t['window_pct']:.1f}%)", f"{t['e2e_rps']:.2f} ({t['e2e_pct']:.1f}%)",
                          _s(t["first_request_at"]), _mib(r.peak_rss), r.output_check or r.note])
        table = _table(["run", "wall s", "requests", "2xx", "429s", "2xx/s while requesting (% of limit)",
                        "2xx/s over whole run (% of limit)", "first request at s", "peak RSS MiB", "output"], table)
        lines += _lines("s2", size=f"{cfg['size']:,}", latency=cfg["latency"], rate=cfg["rate"], table=table,
                        series=_block([f"- `{r.name}`: {_rate_series(r)}" for r in s2["rows"]])) + [""]
    if "S3" in results:
        s3 = results["S3"]
        cfg = s3["cfg"]
        lines += _lines("s3", size=f"{cfg['size']:,}", db_size=_size(s3["data"]["db_bytes"]),
                        pending=f"{cfg['pending']:,}", pct=f"{100 * cfg['pending'] / cfg['size']:.0f}",
                        table=_table(PEER_HEADERS, _peer_rows(s3["rows"], _find(s3["rows"], "load_once")))) + [""]
        if s3.get("profile"):
            lines += _profile_section("S3", s3["profile"])
    if "S4" in results:
        lines += _s4_section(results["S4"])
    if "R" in results:
        rr = results["R"]
        table = [[r.scenario, f"`{r.name}`", r.done, r.requests, r.by_endpoint.get("configuration", 0),
                  r.by_endpoint.get("search/movie", 0), r.by_endpoint.get("movie", 0), r.by_endpoint.get("find", 0),
                  f"{r.per_movie:.3f}", r.output_check or r.note] for r in rr["rows"]]
        lines += _lines("requests", size=f"{rr['cfg']['size']:,}", table=_table(
            ["database", "run", "movies", "requests", "configuration", "search/movie", "movie (details)", "find",
             "req/movie", "output"], table)) + [""]
    if "C" in results:
        c = results["C"]
        lines += _lines("catalogue", sizes=" and ".join(f"{n:,}" for n in c["cfg"]["sizes"]),
                        noise=f"{c['cfg']['noise']:,}", table=_block(catalogue.section(c["curve"]))) + [""]
    if "S5" in results:
        lines += s5_section(results["S5"]) + [""]
    if "M" in results:
        lines += memory_section(results["M"]) + [""]
    if "L" in results:
        lines += _lines("breadth", code=results["L"]["code"], table=breadth.table(results["L"])) + [""]
    if "D" in results:
        lines += _lines("downloads", code=results["D"]["code"], table=download_images.table(results["D"])) + [""]
    lines += _lines("peers")
    return "\n".join(lines) + "\n"


def s5_section(s5: dict) -> list[str]:
    """S5's section: its own date, load and code, since an `--only S5` run is often merged into an older report."""
    cfg, cases = s5["cfg"], s5["cases"]
    loads = [x for case in cases for x in (case["load"], case["load_after"])]
    return _lines("s5", runs=cfg["runs"], movies=f"{cfg['movies']:,}", rate=f"{cfg['rate']:g}",
                  started=cases[0]["started"] if cases else "—", code=s5["code"],
                  load=f"{min(loads):.1f}-{max(loads):.1f}" if loads else "—", table=shared_key.table(s5))


def memory_section(m: dict) -> list[str]:
    """M's section: the same database run all matched, then mostly unmatched, with its date, load and code."""
    cfg, rows = m["cfg"], m["rows"]
    table = [[f"`{r.name}`", f"{r.done:,}", f"{r.by_endpoint.get('movie', 0):,}", _s(r.wall), _mib(r.peak_rss),
              f"{m['review_bytes'].get(r.name, 0) / 1e6:.1f}", r.requests, f"{r.load:.1f}", r.note or "ok"]
             for r in rows]
    return _lines("memory", size=f"{cfg['size']:,}", every=cfg["found_one_in"], db_size=_size(m["data"]["db_bytes"]),
                  code=rows[0].code if rows else "—", table=_table(
                      ["run", "films", "found (details fetched)", "wall s", "peak RSS MiB", "review list MB",
                       "requests", "load at start", "note"], table))


def _profile_section(scenario: str, prof: dict) -> list[str]:
    lines = _lines("profile", scenario=scenario, wall=_s(prof["wall"])) + [""]
    lines += _phase_table(prof)
    if prof.get("timeline"):
        rss = prof.get("rss") or []

        def peak_in(a: float, b: float) -> str:
            inside = [v for t, v in rss if a - 0.05 <= t <= b + 0.05]
            return _mib(max(inside)) if inside else "—"
        table = _table(["step", "calls", "first start", "last end", "span", "inside", "peak RSS MiB in span"],
                       [[n, c, f"{a:.2f}", f"{b:.2f}", f"{b - a:.2f}", f"{i:.2f}", peak_in(a, b)]
                        for n, c, a, b, i in prof["timeline"]])
        lines += _lines("profile_timeline", table=table, peak=_mib(prof.get("peak_rss", 0)),
                        series=", ".join(_mib(v) for t, v in _every(rss, 1.0))) + [""]
    spy = prof.get("py_spy")
    if spy:
        total = spy["busy_samples"] or 1
        categories = _table(["category", "CPU s", "share"],
                            [[c, f"{n / spy['rate']:.2f}", f"{100 * n / total:.0f}%"] for c, n in spy["categories"]])
        functions = _table(["function", "CPU s"], [[f"`{f}`", f"{n / spy['rate']:.2f}"] for f, n in spy["top_functions"]])
        lines += _lines("profile_cpu", cpu=f"{spy['cpu_seconds']:.1f}", categories=categories,
                        functions=functions) + [""]
    return lines




_PHASES = [
    # (label, start of the segment, end of the segment), as probe names with ".start" or ".end"
    ("start-up: interpreter, imports, graph, runner, until the read begins", None, "read: file bytes.start"),
    ("read the file", "read: file bytes.start", "read: file bytes.end"),
    ("parse it (parse_snapshot #1)", "parse: parse_snapshot #1.start", "parse: parse_snapshot #1.end"),
    ("emit the records and select the ones to enrich", "parse: parse_snapshot #1.end",
     "select: SelectMoviesFn (per record).end"),
    ("from the selection to the first lookup (shuffle, batching)", "select: SelectMoviesFn (per record).end",
     "lookup: LookupTmdbFn (per batch, HTTP).start"),
    ("lookups (HTTP), first to last batch", "lookup: LookupTmdbFn (per batch, HTTP).start",
     "lookup: LookupTmdbFn (per batch, HTTP).end"),
    ("after the last lookup, until the enrichers are done", "lookup: LookupTmdbFn (per batch, HTTP).end",
     "images: ImagesEnricher.end"),
    ("from the enrichers to merge_parts", "images: ImagesEnricher.end", "merge: merge_parts.start"),
    ("merge_parts", "merge: merge_parts.start", "merge: merge_parts.end"),
    ("until the sink starts (patches and snapshot delivered to it)", "merge: merge_parts.end",
     "sink: _WriteDatabaseFn (whole).start"),
    ("sink: take the patches (side input) into a dict", "sink: _WriteDatabaseFn (whole).start",
     "parse: parse_snapshot #2.start"),
    ("sink: parse the snapshot again (parse_snapshot #2)", "parse: parse_snapshot #2.start",
     "parse: parse_snapshot #2.end"),
    ("sink: check the keys", "parse: parse_snapshot #2.end", "sink: serialize.start"),
    ("sink: apply the patches and serialize", "sink: serialize.start", "sink: serialize.end"),
    ("sink: look at the file again, back up the version replaced", "sink: serialize.end",
     "sink: backup of the version replaced.end"),
    ("sink: swap or rename the new file in", "sink: swap or rename the new file in.start",
     "sink: swap or rename the new file in.end"),
    ("after the sink: runner shutdown, checkpoints cleared, report, exit", "sink: _WriteDatabaseFn (whole).end",
     "process exit (probe end).end"),
]


def segments(timeline: list) -> list[tuple[str, float, float]]:
    """Consecutive segments of the run as (label, start, end), from the probe timeline (a segment whose probes are
    missing is left out)."""
    marks: dict[str, float] = {}
    for name, _calls, first, last, _inside in timeline:
        name = RENAMED.get(name, name)
        marks[name + ".start"], marks[name + ".end"] = first, last
    result = []
    for label, start, end in _PHASES:
        a = 0.0 if start is None else marks.get(start)
        b = marks.get(end)
        if a is not None and b is not None:
            result.append((label, a, max(a, b)))
    return result


def phases(timeline: list) -> list[tuple[str, float]]:
    return [(label, b - a) for label, a, b in segments(timeline)]


def _phase_table(prof: dict) -> list[str]:
    rows = phases(prof.get("timeline") or [])
    if not rows:
        return []
    total = sum(d for _, d in rows) or 1.0
    table = _table(["segment", "s", "share"], [[label, f"{d:.2f}", f"{100 * d / total:.0f}%"] for label, d in rows])
    return _lines("profile_phases", table=table) + [""]


def _every(series: list[tuple[float, int]], step: float) -> list[tuple[float, int]]:
    picked, next_t = [], 0.0
    for t, v in series:
        if t >= next_t:
            picked.append((t, v))
            next_t += step
    return picked


def _s4_section(s4: dict) -> list[str]:
    if s4.get("skipped"):
        return _lines("s4_skipped", reason=s4["skipped"]) + [""]
    table = []
    for r in s4["rows"]:
        o = r.opens or {}
        table.append([r.movies, f"`{r.name}`", r.done, o.get("db_read", "—"), o.get("db_write", "—"),
                      f"{o.get('backup_read', 0)} + {o.get('backup_write', 0)}", o.get("checkpoint_write", 0),
                      o.get("checkpoint_read", 0), o.get("fsync_reopen", 0), o.get("directory", 0), _measured_cell(r),
                      r.output_check or r.note])
    fit = s4.get("fit")
    if fit:
        (a_r, b_r), (a_w, b_w) = fit["fit"]["db_read"], fit["fit"]["db_write"]
        for n in s4["cfg"]["ns"]:
            if not any(r.name == "n_plus_one" and r.done == n for r in s4["rows"]):
                table.append([n, "`n_plus_one`", n, f"**≈{a_r + b_r * n:.0f} (extrapolated)**",
                              f"**≈{a_w + b_w * n:.0f} (extrapolated)**", "0 + 0", 0, 0, 0, 0, "—",
                              prose("s4_n_plus_one_line", n1=fit["points"][0], n2=fit["points"][1], a_r=f"{a_r:.0f}",
                                    b_r=f"{b_r:.0f}", a_w=f"{a_w:.0f}", b_w=f"{b_w:.0f}")])
    table.sort(key=lambda row: (row[0], str(row[1])))
    return _lines("s4", size=f"{s4['cfg']['size']:,}", table=_table(
        ["N", "run", "movies done", "db read", "db write", "backup read + write", "checkpoints written",
         "checkpoints read", "fsync reopen", "dirs", "wall s (strace)", "output"], table)) + [""]

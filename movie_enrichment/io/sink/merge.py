"""This run's patches put onto a version of the database that another writer saved meanwhile (`merge_onto`)."""

import dataclasses
from typing import Any

from movie_enrichment.io import database
from movie_enrichment.io.sink.patches import Digest, Patches, unpack_patch


@dataclasses.dataclass
class CommitCounts:
    """What the commit did with this run's patches where another writer had changed the file meanwhile."""

    changes: int = 0  # times the file was found changed by another writer, and this run's patches re-applied
    merged: int = 0  # patches applied onto a version another writer had changed
    dropped: int = 0  # patches whose record the other writer deleted: it stays deleted
    skipped: int = 0  # patches whose record's match inputs changed meanwhile: no patch, selected next run


def merge_onto(snapshot: database.Snapshot, items: list[tuple[str, Any]], patches: Patches,
               digest: Digest, counts: CommitCounts, changed: set[str]) -> list[tuple[str, Any]]:
    """This run's patches applied onto a version of the database that another writer changed.

    Every record, field and key order of that version is kept; a patch only sets its own fields. A patch is
    dropped when its record is gone, and skipped when the record's match inputs (digest) are no longer those
    that were looked up. In an array or JSON Lines file, where a key is a position, a patch whose position now
    holds another record goes to the one record elsewhere with the same match inputs, if there is exactly one.
    The keys of the records patched are added to `changed`.
    """
    positional = snapshot.format != database.FORMAT_OBJECT
    out = list(items)
    index = {key: i for i, (key, _) in enumerate(out)}
    used: set[int] = set()
    homeless: list[tuple[str, dict, str]] = []
    for key, patch in patches.items():
        fields, looked_up = unpack_patch(patch)
        i = index.get(key)
        record = out[i][1] if i is not None else None
        if isinstance(record, dict) and (looked_up is None or digest(key, record) == looked_up):
            out[i] = (key, {**record, **fields})
            used.add(i)
            changed.add(key)
            counts.merged += 1
        elif positional and looked_up is not None:
            homeless.append((key, fields, looked_up))
        elif i is None:
            counts.dropped += 1
        else:
            counts.skipped += 1
    if homeless:
        by_digest: dict[str, list[int]] = {}
        for i, (key, record) in enumerate(out):
            if i not in used and isinstance(record, dict):
                by_digest.setdefault(digest(key, record), []).append(i)
        for key, fields, looked_up in homeless:
            places = [i for i in by_digest.get(looked_up, ()) if i not in used]
            if len(places) == 1:
                i = places[0]
                out[i] = (out[i][0], {**out[i][1], **fields})
                used.add(i)
                changed.add(out[i][0])
                counts.merged += 1
            elif key in index:
                counts.skipped += 1
            else:
                counts.dropped += 1
    return out

"""Revisits: recent articles asked for again, and a new revision when their text changed.

``revisit_day`` refetches every article the published ``articles/`` partition of one
outlet-day holds, conditionally: the validators (``ETag`` → ``If-None-Match``,
``Last-Modified`` → ``If-Modified-Since``) come from the response the raw zone kept, so
an unchanged page costs a ``304`` and no parse. Only the pages whose body changed are
parsed; every other row is carried over as it is. The rows then go through the day's own
validation and publish (``pipeline.validate_step`` and ``pipeline.publish_step``: the GX
suites, the batch gate, ``_revise`` for the revision numbers and the ``revisions/`` zone,
the nothing-leaves check, atomic partition replacement, a manifest), so a changed body
replaces the row in its publication day's partition with ``modified_at`` and revision+1,
and the earlier row goes to ``revisions/``.

A page that now answers 404 or 410 (or fails otherwise) keeps its row and its last good
response (``kept_after`` in the raw zone, ``kept_previous`` in the manifest); a changed
page that no longer parses keeps its row too, and quarantine says why. Nothing leaves.

The day's raw partition is rewritten whole (publish replaces it): the revisit's answers
for the article URLs, the other records (quarantined pages, failures) as they were.

``revisit_configs`` revisits the outlets of a shard (the ``revisit`` DAG maps over
shards): for each, the days of its horizon (``revisit.days`` in its config, 7 by
default) that have a published partition. A day whose partition an ingest run replaced
while it was being revisited is left as the ingest published it (``busy``): the next
revisit takes it up.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from newslake import lake
from newslake.config import Outlet, load_outlet
from newslake.fetch import FetchResult, fetch_urls
from newslake.pipeline import RunSpec, parse_step, publish_step, validate_step
from newslake.raw import is_complete, read_whole_warc, write_warc
from newslake.record import CANDIDATE_FILE_SCHEMA, QUARANTINE_FILE_SCHEMA
from newslake.steps import Discovery, Parsed, RawChunk

log = logging.getLogger(__name__)

# The revisit's WARC of the whole day: named as a fetch chunk, so that publish takes it
# as one. The changed pages alone go to a second WARC, the only one parsed.
DAY_WARC = "00000.warc.gz"
CHANGED_WARC = "changed.warc.gz"
GONE = ("http_404", "http_410")


def horizon(outlet: Outlet, today: dt.date) -> list[dt.date]:
    """The days a revisit on ``today`` looks at: the ``revisit_days`` before it, newest
    first, none before the outlet's start."""
    days = (today - dt.timedelta(days=back) for back in range(1, outlet.revisit_days + 1))
    return [day for day in days if day >= outlet.start_date]


def _uri(spec: RunSpec, zone: str, name: str = lake.PARQUET_FILE) -> str:
    return lake.join(lake.partition_uri(spec.lake, zone, spec.outlet.id, spec.day), name)


def _stage(spec: RunSpec, *parts: str) -> str:
    return lake.join(spec.staging_uri, *parts)


def _fingerprint(spec: RunSpec) -> list[str]:
    """The day's run manifests: a publish by another run adds one."""
    return lake.list_manifest_uris(spec.lake, spec.outlet.id, spec.day, spec.storage)


def _earlier_raw(spec: RunSpec) -> list[FetchResult]:
    location = _uri(spec, "raw", lake.RAW_FILE)
    if not lake.exists(location, spec.storage):
        return []
    with lake.local_copy(location, spec.storage, suffix=".warc.gz") as local:
        return read_whole_warc(local, location)


def _write_warc(spec: RunSpec, results: list[FetchResult], *parts: str) -> str:
    target = _stage(spec, *parts)
    with tempfile.TemporaryDirectory(prefix="newslake-revisit-") as tmp:
        local = os.path.join(tmp, parts[-1])
        write_warc(local, results)
        lake.upload(local, target, spec.storage)
    return target


def _refetch(
    spec: RunSpec, urls: list[str], previous: dict[str, FetchResult]
) -> tuple[dict[str, FetchResult], list[FetchResult], Counter[str]]:
    """Each URL's answer as the raw zone will keep it, the changed pages, and counts."""
    answers: dict[str, FetchResult] = {}
    changed: list[FetchResult] = []
    counts: Counter[str] = Counter()
    for result in fetch_urls(urls, spec.outlet, previous=previous):
        earlier = previous.get(result.url)
        counts["requested"] += 1
        if result.error is not None:
            slug = result.error_slug or "error"
            if earlier is not None:
                answers[result.url] = earlier.kept_in_place_of(result)
                counts["taken_down" if slug in GONE else "failed_kept"] += 1
                counts[f"kept_previous:{slug}"] += 1
            else:  # no good response to keep: the failure itself is the knowledge
                answers[result.url] = result
                counts["failed"] += 1
                counts[f"fetch_error:{slug}"] += 1
        elif result.reused_from is not None:
            answers[result.url] = result
            counts["not_modified"] += 1
        elif earlier is not None and result.body == earlier.body:
            answers[result.url] = result  # a 200 with the same bytes: nothing to parse
            counts["unchanged"] += 1
        else:
            answers[result.url] = result
            changed.append(result)
            counts["changed"] += 1
    return answers, changed, counts


def _day_raw(earlier: list[FetchResult], answers: dict[str, FetchResult]) -> list[FetchResult]:
    """The raw partition's records with the revisit's answers in their place (once a URL),
    then the answers for URLs it did not hold."""
    out: list[FetchResult] = []
    done: set[str] = set()
    for record in earlier:
        if record.url in answers:
            if record.url not in done:
                out.append(answers[record.url])
                done.add(record.url)
        else:
            out.append(record)
    out += [r for url, r in answers.items() if url not in done]
    return out


def _as_candidates(table: pa.Table) -> pa.Table:
    """Published article rows in the candidates' schema (``failed_checks`` empty)."""
    if "failed_checks" not in table.column_names:
        table = table.append_column(
            "failed_checks", pa.nulls(table.num_rows, pa.list_(pa.string())))
    if "raw_ref" not in table.column_names:
        table = table.append_column("raw_ref", pa.nulls(table.num_rows, pa.string()))
    for field in QUARANTINE_FILE_SCHEMA:
        if field.name not in table.column_names:  # an older schema version's file
            table = table.append_column(field.name, pa.nulls(table.num_rows, field.type))
    return table.select(QUARANTINE_FILE_SCHEMA.names).cast(QUARANTINE_FILE_SCHEMA)


def _carried(
    spec: RunSpec, articles: pa.Table, replaced: set[str], reparsed: set[str],
    counts: Counter[str],
) -> Parsed:
    """Stage the rows the revisit keeps as they are (every article but the ``replaced``
    URLs, every quarantine row but an earlier note on a ``reparsed`` article URL: its
    parse now says again what it finds) as one parse chunk's output, for
    ``validate_step``."""
    keep = pc.invert(pc.is_in(articles.column("url"), pa.array(sorted(replaced), pa.string())))
    carried = articles.filter(keep)
    quarantine = QUARANTINE_FILE_SCHEMA.empty_table()
    if lake.exists(_uri(spec, "quarantine"), spec.storage):
        quarantine = lake.read_parquet(_uri(spec, "quarantine"), QUARANTINE_FILE_SCHEMA,
                                       spec.storage)
        notes = pa.array(sorted(reparsed), pa.string())
        quarantine = quarantine.filter(
            pc.invert(pc.fill_null(pc.is_in(quarantine.column("url"), notes), False)))
    parsed_path = _stage(spec, "parsed", "carried.parquet")
    quarantine_path = _stage(spec, "parsed", "carried.quarantine.parquet")
    lake.write_parquet(_as_candidates(carried), parsed_path, None, spec.storage)
    lake.write_parquet(quarantine, quarantine_path, None, spec.storage)
    parsers = Counter(carried.column("parser").to_pylist())
    kept = {k: n for k, n in counts.items() if k.startswith("kept_previous:")}
    errors = {k: n for k, n in counts.items() if k.startswith("fetch_error:")}
    return Parsed(
        rows=parsed_path, quarantine=quarantine_path,
        counts={
            "responses": counts["requested"] - counts["changed"],
            "kept_previous": sum(kept.values()),
            **kept,
            "fetch_failed": counts["failed"],
            **errors,
        },
        parsers=dict(parsers), out_of_window=[], seconds=0.0)


def revisit_day(spec: RunSpec) -> dict[str, Any]:
    """Revisit one outlet-day (see the module); its figures. A day without a published
    partition is skipped."""
    figures: dict[str, Any] = {"outlet": spec.outlet.id, "date": spec.day.isoformat()}
    if not lake.exists(_uri(spec, "articles"), spec.storage):
        return {**figures, "skipped": "not ingested"}
    before = _fingerprint(spec)
    lake.remove_tree(spec.staging_uri, spec.storage)
    try:
        return {**figures, **_revisit(spec, before)}
    finally:
        lake.remove_tree(spec.staging_uri, spec.storage)


def _requests(
    articles: pa.Table, earlier: list[FetchResult]
) -> tuple[dict[str, str], dict[str, FetchResult]]:
    """What to request for the day's articles: the URL the raw response that made each row
    was requested by (a row's ``url`` is the canonical one), with that response, less the
    note of an earlier failure, for its validators; a row without one: its ``url``. The
    requests by the rows' ``url`` (in order; two rows of one request are asked once)."""
    by_final: dict[str, FetchResult] = {}
    for record in earlier:
        if is_complete(record):
            by_final[record.final_url or record.url] = record
    targets: dict[str, str] = {}
    previous: dict[str, FetchResult] = {}
    for row in articles.select(["url", "fetched_url"]).to_pylist():
        source = by_final.get(row["fetched_url"])
        target = source.url if source is not None else row["url"]
        targets[row["url"]] = target
        if source is not None:
            previous[target] = source.as_previous()
    return targets, previous


def _replaced(parsed: Parsed, targets: dict[str, str], storage: lake.Storage) -> set[str]:
    """The URLs of the day's articles (``targets``: their requests by ``url``) that the
    changed pages' new rows replace: same ``url``, or requested by the same URL (a page
    whose canonical URL moved: its new row, under its new id, stands for the old one;
    validate records the alias)."""
    table = lake.read_parquet(parsed["rows"], CANDIDATE_FILE_SCHEMA, storage,
                              columns=["url", "requested_url"])
    urls = set(table.column("url").to_pylist())
    requested = set(table.column("requested_url").to_pylist())
    return {url for url, target in targets.items() if url in urls or target in requested}


def _revisit(spec: RunSpec, before: list[str]) -> dict[str, Any]:
    started = time.monotonic()
    articles = lake.read_parquet(_uri(spec, "articles"), storage=spec.storage)
    earlier = _earlier_raw(spec)
    targets, previous = _requests(articles, earlier)
    urls = list(dict.fromkeys(targets.values()))  # ordered, once each
    answers, changed, counts = _refetch(spec, urls, previous)
    day_warc = _write_warc(spec, _day_raw(earlier, answers), "raw", DAY_WARC)
    day_raw = RawChunk(warc=day_warc, raw_ref=lake.raw_ref(spec.outlet.id, spec.day),
                       dates=None, source=day_warc,
                       seconds=round(time.monotonic() - started, 3))
    # What the revisit asked for, as the manifest counts an ingest's discovery.
    discovery = Discovery(discovered=len(urls), listed=0, carried_forward=len(urls),
                          chunks=1, errors=[], counts={}, seconds=0.0)

    parsed: list[Parsed] = []
    replaced: set[str] = set()
    if changed:
        changed_warc = _write_warc(spec, changed, "changed", CHANGED_WARC)
        # Parsed like a fetch chunk: its rows name the day's raw file, which publish
        # makes of the whole day's WARC.
        parsed.append(parse_step(spec, RawChunk(
            warc=changed_warc, raw_ref=day_raw["raw_ref"], dates=None, source=changed_warc,
            seconds=0.0)))
        replaced = _replaced(parsed[0], targets, spec.storage)
    parsed.append(_carried(spec, articles, replaced, {r.url for r in changed}, counts))
    validated = validate_step(spec, parsed)
    outcome = {
        "articles": articles.num_rows,
        "requested": counts["requested"],
        "not_modified": counts["not_modified"],
        "unchanged": counts["unchanged"],
        "changed": counts["changed"],
        "reparsed_rows": len(replaced),
        "taken_down": counts["taken_down"],
        "failed_kept": counts["failed_kept"],
        "failed": counts["failed"],
    }
    if _fingerprint(spec) != before:
        log.warning("%s %s: another run published the day during its revisit; left as that "
                    "run published it", spec.outlet.id, spec.day)
        return {**outcome, "busy": True}
    manifest = publish_step(spec, validated, [day_raw], discovery,
                            extra={"kind": "revisit", "revisit": outcome})
    log.info("revisited %s %s: %s; %d new revisions", spec.outlet.id, spec.day, outcome,
             manifest["revised"])
    return {**outcome, "revised": manifest["revised"], "written": manifest["written"]}


def revisit_outlet(
    outlet: Outlet, lake_root: str, today: dt.date, run_id: str, storage: lake.Storage = None,
    *, deadline: float | None = None, clock: Callable[[], float] = time.monotonic,
) -> list[dict[str, Any]]:
    """Revisit the days of ``outlet``'s horizon as of ``today``, oldest first; one result
    a day (``error`` for a day that failed: the other days go on; ``deferred`` once the
    ``deadline`` of ``clock`` has passed)."""
    results = []
    for day in reversed(horizon(outlet, today)):
        if deadline is not None and clock() > deadline:
            results.append({"outlet": outlet.id, "date": day.isoformat(), "deferred": True})
            continue
        spec = RunSpec(outlet=outlet, day=day, run_id=run_id, lake=lake_root,
                       storage=dict(storage or {}))
        try:
            results.append(revisit_day(spec))
        except Exception as exc:  # one bad day must not stop the outlet's others
            log.exception("revisit of %s %s failed", outlet.id, day)
            results.append({"outlet": outlet.id, "date": day.isoformat(),
                            "error": f"{type(exc).__name__}: {exc}"})
    return results


def revisit_configs(
    paths: list[str], lake_root: str, today: dt.date, run_id: str,
    storage: lake.Storage = None, *, budget_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[dict[str, Any]]:
    """Revisit the outlets whose config files are ``paths`` (a shard), one after another
    (each outlet's politeness is its own; the shard's outlets do not share a host).
    A config that does not load is one ``error`` result; the others go on."""
    deadline = None if budget_s is None else clock() + budget_s
    results: list[dict[str, Any]] = []
    for path in sorted(paths):
        try:
            outlet = load_outlet(path)
        except Exception as exc:
            log.exception("revisit: %s does not load", path)
            results.append({"outlet": Path(path).stem, "error": f"{type(exc).__name__}: {exc}"})
            continue
        results += revisit_outlet(outlet, lake_root, today, run_id, storage,
                                  deadline=deadline, clock=clock)
    return results

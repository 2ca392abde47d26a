"""Property-based tests (hypothesis): URL canonicalisation, date normalisation, the
partition writer."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pyarrow.dataset as ds
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newslake import lake
from newslake.parse.dates import parse_datetime
from newslake.record import ARTICLE_FILE_SCHEMA, Article, rows_to_table
from newslake.urls import TRACKING_PARAM_RE, canonicalize_url

pytestmark = pytest.mark.timeout(120)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

labels = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1,
                 max_size=12).filter(lambda s: not s.startswith("-") and not s.endswith("-"))
segments = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=0, max_size=12)
param_names = st.one_of(st.sampled_from(["utm_source", "UTM_Medium", "fbclid", "gclid", "id",
                                         "page", "q", "mc_cid", "ref_src"]),
                        st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6))
params = st.lists(st.tuples(param_names, st.text("abc123", max_size=5)), max_size=5)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = ".".join(draw(st.lists(labels, min_size=2, max_size=4)))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/" + "/".join(draw(st.lists(segments, max_size=4)))
    query = "&".join(f"{k}={v}" for k, v in draw(params))
    fragment = draw(st.sampled_from(["", "#top", "#comments-3"]))
    return f"{scheme}://{host}{port}{path}{'?' + query if query else ''}{fragment}"


@SETTINGS
@given(urls())
def test_canonical_url_is_idempotent_and_clean(url: str) -> None:
    canonical = canonicalize_url(url)
    assert canonicalize_url(canonical) == canonical
    parts = urlsplit(canonical)
    assert parts.fragment == ""
    assert parts.hostname == (urlsplit(url).hostname or "").lower()
    assert parts.scheme in ("http", "https")
    kept = [k for k, _ in parse_qsl(parts.query, keep_blank_values=True)]
    assert not any(TRACKING_PARAM_RE.match(k) for k in kept)
    original = [k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)
                if not TRACKING_PARAM_RE.match(k)]
    assert kept == original, "other parameters keep their order"


@SETTINGS
@given(st.text(max_size=80))
def test_canonicalisation_of_any_text_never_crashes_unexpectedly(text: str) -> None:
    with contextlib.suppress(ValueError):  # documented: callers count such URLs as invalid
        canonicalize_url(text)


instants = st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2025, 12, 31),
                        timezones=st.sampled_from([dt.timezone(dt.timedelta(minutes=m))
                                                   for m in (-600, -300, 0, 60, 330, 540, 765)]))


@SETTINGS
@given(instants)
def test_dates_with_an_offset_normalise_to_the_same_instant_in_utc(value: dt.datetime) -> None:
    parsed = parse_datetime(value.isoformat())
    assert parsed is not None and parsed.tzinfo is not None
    assert parsed.utcoffset() == dt.timedelta(0)
    assert parsed == value


@SETTINGS
@given(instants, st.sampled_from(["America/New_York", "Europe/Kyiv", "Asia/Tokyo", "UTC"]))
def test_dates_without_an_offset_are_read_in_the_outlet_timezone(
    value: dt.datetime, zone: str
) -> None:
    from zoneinfo import ZoneInfo

    naive = value.replace(tzinfo=None, hour=12, minute=0)  # noon: never in a DST gap
    parsed = parse_datetime(naive.isoformat(), ZoneInfo(zone))
    assert parsed == naive.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


day_rows = st.lists(
    st.tuples(st.integers(0, 86_399), st.text("abcdefgh ", min_size=3, max_size=30)),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(st.lists(day_rows, min_size=1, max_size=4))
def test_partition_writer_keeps_exactly_the_last_write(versions: list) -> None:  # type: ignore[type-arg]
    day = dt.date(2025, 3, 17)
    start = dt.datetime(2025, 3, 17, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(lake.partition_uri(tmp, "articles", "prop", day))
        for k, rows in enumerate(versions):
            table = rows_to_table([
                Article(url=f"https://p.example/{k}/{i}", title=title, body=f"body {i}",
                        published_at=start + dt.timedelta(seconds=sec), outlet="prop",
                        fetched_url=f"https://p.example/{k}/{i}", fetched_at=start,
                        parser="generic@1", run_id=f"run-{k}").to_row()
                for i, (sec, title) in enumerate(rows)
            ], ARTICLE_FILE_SCHEMA)
            staged = Path(tmp) / "_staging" / str(k) / lake.PARQUET_FILE
            lake.write_parquet(table, staged)
            lake.publish_partition(tmp, "articles", "prop", day, str(staged))
        read = ds.dataset(f"{tmp}/articles", partitioning="hive").to_table()
        assert read.num_rows == len(versions[-1])
        assert set(read.column("run_id").to_pylist()) <= {f"run-{len(versions) - 1}"}
        times = read.column("published_at").to_pylist()
        assert times == sorted(times)
        assert len(list(target.iterdir())) == 1

"""The discovery source registry: every config type has its class, a new class plugs in by
one line, and the errors discovery raises are newslake's own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from newslake.config import DISCOVERY_TYPES, POLLED_TYPES, DiscoverySource, Outlet
from newslake.discover import discover
from newslake.discover.models import DayRun, Entry, PolledSource, Source, SourceError
from newslake.discover.registry import SOURCE_TYPES, source_class
from newslake.errors import DiscoveryError, FetchError, NewslakeError

pytestmark = pytest.mark.timeout(60)
DAY = dt.date(2024, 1, 15)


def _outlet(*sources: DiscoverySource) -> Outlet:
    return Outlet(id="reg", name="Registry", base_url="https://news.example/", language="en",
                  timezone="UTC", start_date=dt.date(2024, 1, 1), discovery=sources)


def test_the_registry_names_a_class_for_exactly_the_types_a_config_accepts() -> None:
    assert sorted(SOURCE_TYPES) == sorted(DISCOVERY_TYPES)
    classes = {name: source_class(name) for name in DISCOVERY_TYPES}
    assert all(issubclass(cls, Source) and cls.type == name for name, cls in classes.items())
    polled = sorted(name for name, cls in classes.items() if issubclass(cls, PolledSource))
    assert polled == sorted(POLLED_TYPES), "the frontier polls what the config lets poll"


class StaticSource(Source):
    """A source type the tests add: it lists the URLs in its ``url``, space-separated."""

    type = "static"

    def entries(self, run: DayRun) -> list[Entry]:
        return [Entry(url) for url in (self.config.url or "").split()]


@pytest.fixture
def static_type(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(SOURCE_TYPES, "static", f"{__name__}:StaticSource")
    yield
    source_class.cache_clear()


@pytest.mark.usefixtures("static_type")
def test_a_new_source_type_is_one_class_and_one_registry_line() -> None:
    listed = "https://news.example/b https://news.example/a https://elsewhere.example/c"
    outlet = _outlet(DiscoverySource(type="static", url=listed))
    found = discover(outlet, DAY)
    assert [u.url for u in found.urls] == ["https://news.example/a", "https://news.example/b"]
    assert {u.source for u in found.urls} == {"static"}
    assert found.counts["static"] == 2 and found.counts["off_site"] == 1


def test_a_type_without_a_class_fails_its_source_by_name() -> None:
    outlet = _outlet(DiscoverySource(type="gopher", url="https://news.example/x"))
    with pytest.raises(DiscoveryError, match=r"unknown_source_type \(https://news.example/x\)"):
        discover(outlet, DAY)


def test_every_source_failing_is_a_discovery_error_that_callers_of_fetch_errors_catch(
    tmp_path: Path,
) -> None:
    outlet = _outlet(DiscoverySource(type="warc", path=str(tmp_path / "none-*.warc.gz")))
    with pytest.raises(DiscoveryError, match="reg: every discovery source failed: warc no_warc"
                       ) as caught:
        discover(outlet, DAY)
    assert isinstance(caught.value, FetchError)
    assert issubclass(SourceError, NewslakeError)


def test_outlets_check_reports_a_discovery_that_found_nothing_to_read(tmp_path: Path) -> None:
    from newslake.onboard.check import dry_run

    outlet = _outlet(DiscoverySource(type="warc", path=str(tmp_path / "none-*.warc.gz")))
    report = dry_run(outlet, DAY)
    assert report.problem is not None
    assert report.problem.startswith("discovery failed: reg: every discovery source failed")

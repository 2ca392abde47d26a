"""trafilatura's jusText stoplist comes from the user's cache after the first process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from trafilatura import external

from newslake.parse import stoplist_cache

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """trafilatura and this module as a new process finds them, caching under tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(external, "JT_STOPLIST", None)
    stoplist_cache.load_stoplist.cache_clear()
    yield tmp_path
    stoplist_cache.load_stoplist.cache_clear()


def _built() -> frozenset[str]:
    return frozenset(external.jt_stoplist_init())


def test_the_first_process_builds_and_caches_the_stoplist_the_next_reads_it(
    fresh_process: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stoplist_cache.load_stoplist()
    path = stoplist_cache.cache_path()
    assert path.parent == fresh_process / "newslake"
    assert path.is_file()
    built = frozenset(external.JT_STOPLIST or ())
    assert len(built) > 100_000

    monkeypatch.setattr(external, "JT_STOPLIST", None)
    stoplist_cache.load_stoplist.cache_clear()

    def no_build() -> tuple[str]:
        raise AssertionError("built again although the cache holds it")

    monkeypatch.setattr(external, "jt_stoplist_init", no_build)
    stoplist_cache.load_stoplist()
    assert frozenset(external.JT_STOPLIST or ()) == built


def test_a_cut_cache_file_is_built_again(fresh_process: Path) -> None:
    path = stoplist_cache.cache_path()
    path.parent.mkdir(parents=True)
    path.write_text("154484\nder\ndie\ndas", encoding="utf-8")  # cut after three words
    stoplist_cache.load_stoplist()
    assert frozenset(external.JT_STOPLIST or ()) == _built()
    count, *words = path.read_text(encoding="utf-8").split("\n")
    assert int(count) == len(words) > 100_000


def test_an_unwritable_cache_builds_the_stoplist_in_the_process_and_warns(
    fresh_process: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_directory = fresh_process / "file"
    not_a_directory.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_directory))
    with caplog.at_level(logging.WARNING, logger=stoplist_cache.__name__):
        stoplist_cache.load_stoplist()
    assert frozenset(external.JT_STOPLIST or ()) == _built()
    assert "not cached" in caplog.text

"""Each expectation of the repo's suites has a row that breaks it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from newslake.config import parse_outlet
from newslake.record import Article, count_words
from newslake.validate import load_suite, validate_batch, validate_rows

OUTLET_SETTINGS: dict[str, Any] = {
    "id": "example", "name": "Example", "base_url": "https://example.org/",
    "language": "en", "timezone": "UTC", "start_date": "2024-01-01",
    "validation": {"min_words": 20, "max_quarantine_share": 0.3},
}
OUTLET = parse_outlet(OUTLET_SETTINGS)
FETCHED = dt.datetime(2025, 3, 18, 1, tzinfo=dt.UTC)


def _good_row(n: int) -> dict[str, Any]:
    return Article(
        url=f"https://example.org/news/{n}",
        title=f"A perfectly ordinary headline {n}",
        body="Words in a sentence that reads like news. " * 10,
        published_at=dt.datetime(2025, 3, 17, 10, tzinfo=dt.UTC),
        outlet="example", fetched_url=f"https://example.org/news/{n}", language="en",
        fetched_at=FETCHED, parser="generic@1", run_id="r",
    ).to_row()


BREAKERS: dict[str, dict[str, Any]] = {
    "article_id_not_null": {"article_id": None},
    "article_id_format": {"article_id": "not-a-hash"},
    "url_not_null": {"url": None},
    "url_shape": {"url": "javascript:alert(1)"},
    "fetched_url_not_null": {"fetched_url": None},
    "title_not_null": {"title": None},
    "title_length": {"title": "A"},
    "body_not_null": {"body": None},
    "min_words": {"word_count": 5},
    "published_at_not_null": {"published_at": None},
    "published_at_in_range": {"published_at": dt.datetime(2031, 1, 1, tzinfo=dt.UTC)},
    "language_matches_outlet": {"language": "de"},
    "content_hash_not_null": {"content_hash": None},
    "content_hash_format": {"content_hash": "abc"},
    "http_status_ok": {"http_status": 404},
    "fetched_at_not_null": {"fetched_at": None},
    "parser_not_null": {"parser": None},
    "authors_not_null": {"authors": None},
    "tags_not_null": {"tags": None},
    "modified_at_in_range": {"modified_at": dt.datetime(2031, 1, 1, tzinfo=dt.UTC)},
    "description_length": {"description": "x" * 6000},
    "section_length": {"section": "s" * 300},
    "image_url_shape": {"image_url": "javascript:alert(1)"},
    "is_paywalled_boolean": {"is_paywalled": "sometimes"},
    "parser_format": {"parser": "mystery-parser"},
    "published_at_source_known": {"published_at_source": "guess"},
    "run_id_not_null": {"run_id": None},
    "schema_version_known": {"schema_version": 99},
    "fetched_url_shape": {"fetched_url": "ftp://example.org/x"},
}


def test_every_row_check_has_a_breaker() -> None:
    names = {e["meta"]["check"] for e in load_suite("article_rows.json")["expectations"]}
    assert names == set(BREAKERS)


@pytest.mark.timeout(120)
def test_each_breaker_fails_exactly_its_check() -> None:
    rows = [_good_row(0)]
    for n, change in enumerate(BREAKERS.values(), start=1):
        rows.append({**_good_row(n), **change})
    frame = pd.DataFrame(rows)
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True)
    frame["fetched_at"] = pd.to_datetime(frame["fetched_at"], utc=True)
    frame["modified_at"] = pd.to_datetime(frame["modified_at"], utc=True)
    report = validate_rows(frame, OUTLET, published_max=FETCHED + dt.timedelta(days=1))
    assert 0 not in report.failed_rows, report.failed_rows.get(0)
    for n, name in enumerate(BREAKERS, start=1):
        assert name in report.failed_rows.get(n, []), (name, report.failed_rows.get(n))
    assert report.results["rows"]["success"] is False


GOOD_BATCH = {"candidates": 10, "duplicate_article_ids": 0, "quarantine_share": 0.1,
              "duplicate_share": 0.0, "written_vs_recent": 1.1}


@pytest.mark.timeout(120)
def test_batch_checks_name_the_failure() -> None:
    assert validate_batch(GOOD_BATCH, OUTLET).batch_failures == []
    bad = validate_batch({**GOOD_BATCH, "duplicate_article_ids": 2, "quarantine_share": 0.5,
                          "duplicate_share": 0.7, "written_vs_recent": 0.05}, OUTLET)
    assert bad.batch_failures == [
        "article_id_unique (duplicate_article_ids=2)",
        "quarantine_share (quarantine_share=0.5)",
        "duplicate_share (duplicate_share=0.7)",
        "row_count_vs_recent_days (written_vs_recent=0.05)",
    ]


@pytest.mark.timeout(120)
def test_unknown_recent_days_pass_and_a_check_can_be_made_to_warn() -> None:
    no_history = validate_batch({**GOOD_BATCH, "written_vs_recent": None}, OUTLET)
    assert no_history.batch_failures == [] and no_history.batch_warnings == []
    lenient = parse_outlet({
        "id": "example", "name": "Example", "base_url": "https://example.org/",
        "language": "en", "timezone": "UTC", "start_date": "2024-01-01",
        "validation": {"batch_checks": {"quarantine_share": "warn"}},
    })
    report = validate_batch({**GOOD_BATCH, "quarantine_share": 0.9}, lenient)
    assert report.batch_failures == []
    assert report.batch_warnings == ["quarantine_share (quarantine_share=0.9)"]


def test_batch_check_modes_are_checked() -> None:
    from newslake.errors import ConfigError

    base = {"id": "example", "name": "Example", "base_url": "https://example.org/",
            "language": "en", "timezone": "UTC", "start_date": "2024-01-01"}
    with pytest.raises(ConfigError, match="batch_checks.speed: unknown check"):
        parse_outlet({**base, "validation": {"batch_checks": {"speed": "warn"}}})
    with pytest.raises(ConfigError, match="'ignore' must be fail or warn"):
        parse_outlet({**base, "validation": {"batch_checks": {"row_count": "ignore"}}})


@pytest.mark.parametrize(("body", "words"), [
    ("Words in a sentence, 3 of them.", 7),
    ("Слова в предложении", 3),
    ("서울에서 기자회견이 열렸다", 3),  # Korean is written with spaces
    ("東京で記者会見が開かれた。", 12),  # one word a Han or kana character
    ("新华社北京4月24日电 Xinhua", 11),
    # Vowel signs, viramas, combining accents and joiners belong to their word.
    ("हिन्दी समाचार पत्र आज प्रकाशित हुआ", 6),
    ("ইংরেজি ভাষা", 2),
    ("cafe\u0301 nai\u0308ve", 2),
    ("من می\u200cخواهم بروم", 3),
    # Thai: runs between combining marks (18 words by a segmenter).
    ("นายกรัฐมนตรีเดินทางไปเยือนประเทศญี่ปุ่นเมื่อวันจันทร์ที่ผ่านมา เพื่อหารือเรื่องการค้าและการลงทุน", 19),
])
def test_word_count_counts_text_written_without_spaces(body: str, words: int) -> None:
    assert count_words(body) == words


def test_a_chinese_article_meets_min_words() -> None:
    """Counting ``\\w+`` runs alone made a 400-character Chinese article one "word" a
    sentence: 25 "words", under a usual ``min_words``, and the article went to quarantine."""
    outlet = parse_outlet({**OUTLET_SETTINGS, "language": "zh",
                           "validation": {"min_words": 150}})
    row = {**_good_row(1), "body": "国务院新闻办公室今天举行发布会。" * 25, "language": "zh"}
    row["word_count"] = count_words(row["body"])
    report = validate_rows(pd.DataFrame([row]), outlet, published_max=FETCHED)
    assert report.failed_rows == {}


@pytest.mark.timeout(120)
def test_a_check_that_cannot_run_fails_the_batch() -> None:
    """An outlet whose start_date is after the rows' latest allowed date makes
    ``published_at_in_range`` raise inside GX ("min_value cannot be greater than
    max_value"). GX 1.24 keeps the error under the failed metric's id, not under
    ``raised_exception``: read as "no row failed", every row was published unjudged."""
    from newslake.validate import BatchValidationError

    future = parse_outlet({**OUTLET_SETTINGS, "start_date": "2999-01-01"})
    frame = pd.DataFrame([_good_row(1), _good_row(2)])
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True)
    # A BatchValidationError: the task fails as for a failed gate, and the CLI says why.
    with pytest.raises(BatchValidationError, match="published_at_in_range could not run: "
                       "min_value cannot be greater than max_value"):
        validate_rows(frame, future, published_max=FETCHED + dt.timedelta(days=1))


@pytest.mark.timeout(120)
def test_a_share_over_too_few_pages_is_not_judged() -> None:
    small = {**GOOD_BATCH, "quarantine_share": 0.67, "fetch_failure_share": 0.9,
             "pages_judged": 3, "pages_requested": 9}
    report = validate_batch(small, OUTLET)
    assert report.batch_failures == []
    assert report.not_judged == [
        "quarantine_share (pages_judged=3 < min_batch_size 10)",
        "duplicate_share (pages_judged=3 < min_batch_size 10)",
        "fetch_failure_share (pages_requested=9 < min_batch_size 10)",
    ]
    judged = validate_batch({**small, "pages_judged": 10, "pages_requested": 10}, OUTLET)
    assert judged.batch_failures == ["quarantine_share (quarantine_share=0.67)",
                                     "fetch_failure_share (fetch_failure_share=0.9)"]

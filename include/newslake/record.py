"""The article record (the contract in docs/lake.md): the Python object and its Arrow schema."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import regex

# 2: ``published_at_source`` added (files of version 1 lack it: read as null).
SCHEMA_VERSION = 2
# Where ``published_at`` came from, for analysts to filter on: the page, by the parser's
# fallback chain (``newslake.parse.dates``), then, for a page without a date, the source
# that listed it (``newslake.source_dates``: a feed's pubDate, a news sitemap's
# publication date). The row suite's ``published_at_source_known`` checks the values.
PUBLISHED_AT_SOURCES = ("jsonld", "meta", "markup", "text", "url", "script", "htmldate",
                        "discovery:rss", "discovery:sitemap")

ARTICLE_SCHEMA = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("outlet", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("fetched_url", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("description", pa.string()),
        pa.field("authors", pa.list_(pa.string()), nullable=False),
        pa.field("published_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("published_at_source", pa.string()),
        pa.field("modified_at", pa.timestamp("us", tz="UTC")),
        pa.field("section", pa.string()),
        pa.field("tags", pa.list_(pa.string()), nullable=False),
        pa.field("language", pa.string()),
        pa.field("body", pa.string(), nullable=False),
        pa.field("word_count", pa.int32(), nullable=False),
        pa.field("image_url", pa.string()),
        pa.field("is_paywalled", pa.bool_()),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("http_status", pa.int16(), nullable=False),
        pa.field("fetched_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("parser", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("schema_version", pa.int16(), nullable=False),
        # 1 for the first text seen; +1 each time a rerun finds the body changed (the earlier
        # versions are in the revisions/ zone).
        pa.field("revision", pa.int16(), nullable=False),
    ]
)

# Quarantine: the same columns, all nullable, plus why and where the raw page is.
QUARANTINE_SCHEMA = pa.schema(
    [f.with_nullable(True) for f in ARTICLE_SCHEMA]
    + [pa.field("failed_checks", pa.list_(pa.string())), pa.field("raw_ref", pa.string())]
)

# aliases/: the article ids a day's articles had before their page named another canonical
# URL (the rename rule: docs/decisions.md). ``article_id``/``url`` are the article's now
# (a join key into articles/), ``old_article_id``/``old_url`` what it was published as.
ALIAS_SCHEMA = pa.schema(
    [
        pa.field("old_article_id", pa.string(), nullable=False),
        pa.field("old_url", pa.string(), nullable=False),
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("renamed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ]
)

ARTICLE_COLUMNS = tuple(ARTICLE_SCHEMA.names)
# ``regex``'s \w, unlike ``re``'s, takes in combining marks and joiners: the vowel signs
# of Hindi or Bengali, a decomposed "é", the ZWNJ inside Persian words. With ``re`` each of
# them split a word in two or more (a six-word Hindi sentence counted 15).
_WORD_RE = regex.compile(r"\w+")
# Thai, Lao, Myanmar, Khmer (and Tai Tham, Myanmar extension A), also written without
# spaces; ``re``'s \w splits them at each combining mark, which is kept as their count.
_MARK_SPLIT_SCRIPTS_RE = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff\u1a20-\u1aaf\uaa60-\uaa7f]+")
_MARK_SPLIT_RE = re.compile(r"\w+")
# Hiragana, Katakana, CJK ideographs (with extension A, compatibility, and the planes
# of extensions B and later)
_UNSPACED_RE = re.compile("[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                          "\uf900-\ufaff\U00020000-\U0003134f]")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_body(body: str) -> str:
    """Body as hashed: NFKC, whitespace collapsed, case kept."""
    return " ".join(unicodedata.normalize("NFKC", body).split())


def content_hash(body: str) -> str:
    return sha256_hex(normalise_body(body))


def count_words(body: str) -> int:
    r"""Unicode ``\w+`` runs (letters, digits and the marks that belong to them),
    except for scripts written without spaces: Chinese and Japanese count one word a
    character (Han ideographs and kana); Thai, Lao, Khmer and Burmese count the runs
    between their combining marks, a rough stand-in for words (no segmenter here)."""
    spaced, unspaced_chars = _UNSPACED_RE.subn(" ", body)
    mark_runs = sum(len(_MARK_SPLIT_RE.findall(run))
                    for run in _MARK_SPLIT_SCRIPTS_RE.findall(spaced))
    spaced = _MARK_SPLIT_SCRIPTS_RE.sub(" ", spaced)
    return unspaced_chars + mark_runs + len(_WORD_RE.findall(spaced))


@dataclass
class Article:
    """One article, field for field the row of ``articles/``.

    ``parse_article`` fills what the page says; the pipeline fills the fetch and run
    fields (``fetched_url``, ``http_status``, ``fetched_at``, ``run_id``).
    ``published_at`` is aware, in the offset the page wrote (the day as the page names
    it); the row stores it in UTC.
    """

    url: str
    title: str
    body: str
    published_at: dt.datetime | None
    published_at_source: str | None = None
    outlet: str = ""
    fetched_url: str = ""
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    modified_at: dt.datetime | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    image_url: str | None = None
    is_paywalled: bool | None = None
    http_status: int = 200
    fetched_at: dt.datetime | None = None
    parser: str = ""
    run_id: str = ""
    schema_version: int = SCHEMA_VERSION
    revision: int = 1

    @property
    def article_id(self) -> str:
        return sha256_hex(self.url)

    @property
    def word_count(self) -> int:
        return count_words(self.body)

    @property
    def content_hash(self) -> str:
        return content_hash(self.body)

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["article_id"] = self.article_id
        row["word_count"] = self.word_count
        row["content_hash"] = self.content_hash
        if self.published_at is not None:  # the page's own offset in, UTC out
            row["published_at"] = self.published_at.astimezone(dt.UTC)
        return {name: row.get(name) for name in ARTICLE_COLUMNS}

# What a Parquet file holds: the partition column ``outlet`` lives in the path only.
PARTITION_COLUMNS = ("outlet",)
ARTICLE_FILE_SCHEMA = pa.schema([f for f in ARTICLE_SCHEMA if f.name not in PARTITION_COLUMNS])
QUARANTINE_FILE_SCHEMA = pa.schema(
    [f for f in QUARANTINE_SCHEMA if f.name not in PARTITION_COLUMNS]
)
# A parse chunk's staged rows (never published): the quarantine columns plus the URL that
# was requested for the page (its ``fetched_url`` is where a redirect ended), by which a
# rerun recognises a published article whose canonical URL moved.
CANDIDATE_FILE_SCHEMA = QUARANTINE_FILE_SCHEMA.append(pa.field("requested_url", pa.string()))


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows (dicts with the record's names) as a table of exactly ``schema``."""
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)

"""Outlet configs: one YAML file per outlet, read into typed, frozen objects.

The format is the contract in docs/outlets.md (every key and its default). Unknown keys
and wrong types raise ``ConfigError`` naming the file and the key, so a typo never
silently disables a rule. String values may use ``${VAR}`` or ``${VAR:-default}``: the
demo outlets point at the loopback newsroom through ``NEWSLAKE_DEMO_URL``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

from newslake.addresses import AddressPolicy, address_policy
from newslake.errors import ConfigError

OUTLET_ID_RE = re.compile(r"^[a-z0-9_]+$")
_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
DISCOVERY_TYPES = ("rss", "sitemap", "archive", "warc")
# An ingest run owns its day's partition and replaces it whole, so it must run exactly once
# a day: more often, each run would replace the day with what it saw so far; less often,
# the days between runs would never be ingested. Daily at a fixed UTC time, then.
DAILY_PRESETS = {"@daily": "0 0 * * *", "@midnight": "0 0 * * *"}
_DAILY_CRON_RE = re.compile(r"^([0-9]|[1-5][0-9]) ([0-9]|1[0-9]|2[0-3]) \* \* \*$")
_MORE_THAN_DAILY_PRESETS = ("@hourly", "@continuous")
# The sources the frontier polls (newslake.frontier): they list what is new, and roll over.
POLLED_TYPES = ("rss", "sitemap")


@dataclass(frozen=True)
class DiscoverySource:
    type: str
    url: str | None = None
    url_template: str | None = None
    link_selector: str | None = None
    # warc: local WARC files (a glob; may hold {date:%Y-%m-%d}) to ingest instead of the web
    path: str | None = None
    # rss/sitemap: minutes between frontier polls to start from (None: the default, 30;
    # 0: never polled). The interval then adapts per source (newslake.frontier).
    poll_every: int | None = None


# Where the headline and the byline may come from (``parse.title_source``,
# ``parse.byline_source``); ``auto`` is the parser's generic order (newslake.parse.fields,
# newslake.parse.authors). A named source that gives nothing on a page falls back to it.
TITLE_SOURCES = ("auto", "jsonld", "og", "twitter", "h1", "title")
BYLINE_SOURCES = ("auto", "jsonld", "meta", "markup")


@dataclass(frozen=True)
class ParseRules:
    body_selector: str | None = None
    drop_selectors: tuple[str, ...] = ()
    drop_paragraphs: tuple[str, ...] = ()
    version: int = 1
    title_source: str = "auto"
    byline_source: str = "auto"

    @property
    def drop_patterns(self) -> list[re.Pattern[str]]:
        """``drop_paragraphs`` compiled (``re`` caches compiled patterns)."""
        return [re.compile(p) for p in self.drop_paragraphs]

    @property
    def has_rules(self) -> bool:
        return bool(self.body_selector or self.drop_selectors or self.drop_paragraphs)


@dataclass(frozen=True)
class Politeness:
    requests_per_second: float = 1.0
    concurrency: int = 2
    obey_robots: bool = True
    # Non-public addresses are refused unless an outlet lists the networks or host names it
    # may reach ([127.0.0.1/32]: the demo, tests) or sets true; link-local and metadata
    # addresses only when a network inside them is listed (``newslake.addresses``).
    allow_private_addresses: bool | tuple[str, ...] = False
    timeout_seconds: float = 20.0
    max_bytes: int = 10 * 1024 * 1024

    @property
    def address_policy(self) -> AddressPolicy:
        """``allow_private_addresses`` as the policy the fetcher's connections apply."""
        return address_policy(self.allow_private_addresses)


# Extraction drift checks (newslake.drift) and their default tolerances: how far a day's
# share may move from the baseline's before the check fires (at least; a small day gets
# more room: 4 standard errors of its share).
DRIFT_TOLERANCES = {
    "drift_field_coverage": 0.25, "drift_date_source": 0.25, "drift_parser_path": 0.25,
    "drift_body_length": 0.4, "drift_boilerplate": 0.25, "drift_language": 0.2,
}


@dataclass(frozen=True)
class Drift:
    """``validation.drift``: the baseline is the median of the profiles of the outlet's
    last ``baseline_days`` days (their latest published runs) with ``min_rows`` rows or
    more; with fewer than ``min_baseline_days`` such days, or a day of fewer than
    ``min_rows`` rows, nothing is judged."""

    baseline_days: int = 7
    min_baseline_days: int = 3
    min_rows: int = 5
    # check name without "drift_" -> tolerance (a share, 0..1)
    tolerances: tuple[tuple[str, float], ...] = ()

    def tolerance(self, check: str) -> float:
        return dict(self.tolerances).get(check.removeprefix("drift_"), DRIFT_TOLERANCES[check])


@dataclass(frozen=True)
class Validation:
    min_words: int = 80
    # Batch gates: above this share of quarantined rows among the pages fetched (parse
    # and validation refusals), or under this many candidate rows, the validate task
    # fails (a layout change usually shows up this way first).
    max_quarantine_share: float = 0.5
    min_rows: int = 0
    # Above this share of requests that failed (HTTP 4xx/5xx, network errors; robots.txt
    # skips are no request and not counted) the batch fails: the site or discovery broke.
    max_fetch_failure_share: float = 0.5
    # A share check is judged only over at least this many pages (1 of 3 is no trend).
    min_batch_size: int = 10
    # Above this share of duplicate rows (same URL or same text) the batch is suspect.
    max_duplicate_share: float = 0.5
    # Written rows against the median of the last RECENT_DAYS days' (when 3+ are known):
    # a day under a fifth of its usual size is usually a broken discovery or parser.
    min_recent_ratio: float = 0.2
    # Batch check name -> "fail" (the task fails; the default) or "warn" (logged, kept in
    # the manifest, the partition is published).
    batch_checks: tuple[tuple[str, str], ...] = ()
    drift: Drift = field(default_factory=Drift)

    def mode(self, check: str) -> str:
        return dict(self.batch_checks).get(check, "fail")


# Corrections and updates mostly come within days; a week of conditional requests is
# cheap (a 304 each). More than MAX_REVISIT_DAYS would refetch months every day.
DEFAULT_REVISIT_DAYS = 7
MAX_REVISIT_DAYS = 90


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    base_url: str
    language: str
    timezone: str
    start_date: dt.date
    schedule: str = "@daily"
    discovery: tuple[DiscoverySource, ...] = ()
    parse: ParseRules = field(default_factory=ParseRules)
    politeness: Politeness = field(default_factory=Politeness)
    validation: Validation = field(default_factory=Validation)
    requires_internet: bool = False
    demo: bool = False
    source_path: str = ""
    # The revisit DAG refetches (conditionally) the articles of the last this many days
    # and publishes a new revision of those that changed; 0: never revisited.
    revisit_days: int = DEFAULT_REVISIT_DAYS

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def cron(self) -> str:
        """The ingest schedule as a cron expression (``parse_outlet`` accepts daily ones only)."""
        return DAILY_PRESETS.get(self.schedule, self.schedule)



# An outlet config has a few dozen values; YAML aliases can make a tiny file expand to
# billions of nodes ("billion laughs"), so the walk gives up long before that.
MAX_CONFIG_NODES = 10_000


def _count_nodes(value: Any, budget: list[int], path: str) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise ConfigError(f"{path}: more than {MAX_CONFIG_NODES} values (YAML alias bomb?)")
    if isinstance(value, dict):
        value = list(value.values())
    for child in value if isinstance(value, list) else ():
        _count_nodes(child, budget, path)


def _expand_env(value: Any) -> Any:
    if isinstance(value, str):
        return _ENV_RE.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    return value


class _Reader:
    """Reads one mapping with exact error messages: `<file>: <key>: <problem>`."""

    def __init__(self, path: str, data: Any, prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: {prefix or 'top level'}: expected a mapping")
        self.path, self.data, self.prefix = path, data, prefix
        self.seen: set[str] = set()

    def _err(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}{key}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., ) -> Any:
        self.seen.add(key)
        if key not in self.data or self.data[key] is None:
            if default is ...:
                raise self._err(key, "is required")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int subclass: never accept True where a number is meant.
        if isinstance(value, bool) and bool not in kinds:
            raise self._err(key, f"expected {_kind_name(kind)}, got {value!r}")
        # 1e9 (read as a float) where a count is meant: the integer it spells.
        if (isinstance(value, float) and int in kinds and float not in kinds
                and math.isfinite(value) and value.is_integer()):
            value = int(value)
        if not isinstance(value, kind):
            raise self._err(key, f"expected {_kind_name(kind)}, got {type(value).__name__}")
        return value

    def positive(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        """A number that must be finite and > 0 (no ``.inf``, ``.nan``, 0 or negatives)."""
        value = self.get(key, kind, default)
        if not (math.isfinite(value) and value > 0):
            raise self._err(key, f"must be > 0 and finite, got {value!r}")
        return value

    def share(self, key: str, default: float) -> float:
        """A share: a number in [0, 1]."""
        value = float(self.get(key, (int, float), default))
        if not 0.0 <= value <= 1.0:  # NaN fails this too
            raise self._err(key, f"must be a share between 0 and 1, got {value!r}")
        return value

    def sub(self, key: str) -> _Reader:
        self.seen.add(key)
        return _Reader(self.path, self.data.get(key) or {}, f"{self.prefix}{key}.")

    def finish(self) -> None:
        unknown = sorted(set(map(str, self.data)) - self.seen)
        if unknown:
            raise self._err(unknown[0], "unknown key")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _str_list(r: _Reader, key: str) -> tuple[str, ...]:
    values = r.get(key, list, [])
    if not all(isinstance(v, str) for v in values):
        raise r._err(key, "expected a list of strings")
    return tuple(values)


def _address_setting(r: _Reader, key: str) -> bool | tuple[str, ...]:
    """``true``, ``false`` or a list of networks and host names, each checked."""
    raw = r.data.get(key)
    if raw is not None and not isinstance(raw, bool | list):
        hint = f": write [{raw}]" if isinstance(raw, str) else ""
        raise r._err(key, f"expected true, false or a list, got {raw!r}{hint}")
    value = r.get(key, (bool, list), False)
    setting = value if isinstance(value, bool) else tuple(value)
    try:
        address_policy(setting)
    except ValueError as exc:
        raise r._err(key, str(exc)) from exc
    return setting


def _choice(r: _Reader, key: str, choices: tuple[str, ...]) -> str:
    value = r.get(key, str, choices[0])
    if value not in choices:
        raise r._err(key, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _non_negative(
    r: _Reader, key: str, default: Any, kind: type | tuple[type, ...] = int
) -> Any:
    value = r.get(key, kind, default)
    if not (math.isfinite(value) and value >= 0):
        raise r._err(key, f"must be >= 0 and finite, got {value!r}")
    return float(value) if isinstance(kind, tuple) else value


BATCH_CHECKS = ("article_id_unique", "quarantine_share", "duplicate_share",
                "fetch_failure_share", "row_count", "row_count_vs_recent_days",
                *DRIFT_TOLERANCES)


def _drift(v: _Reader) -> Drift:
    d = v.sub("drift")
    given = d.get("tolerance", dict, {})
    names = [c.removeprefix("drift_") for c in DRIFT_TOLERANCES]
    tolerances = []
    for name in given:
        if name not in names:
            raise d._err(f"tolerance.{name}", f"unknown check; known: {', '.join(names)}")
    t = d.sub("tolerance")
    for name in sorted(given):
        tolerances.append((name, t.share(name, 0.0)))
    t.finish()
    drift = Drift(
        baseline_days=d.positive("baseline_days", int, 7),
        min_baseline_days=d.positive("min_baseline_days", int, 3),
        min_rows=d.positive("min_rows", int, 5),
        tolerances=tuple(tolerances),
    )
    if drift.min_baseline_days > drift.baseline_days:
        raise d._err("min_baseline_days", f"{drift.min_baseline_days} is more than "
                     f"baseline_days {drift.baseline_days}")
    d.finish()
    return drift


def _batch_check_modes(v: _Reader) -> tuple[tuple[str, str], ...]:
    modes = v.get("batch_checks", dict, {})
    for name, mode in modes.items():
        if name not in BATCH_CHECKS:
            raise v._err(f"batch_checks.{name}", f"unknown check; known: {', '.join(BATCH_CHECKS)}")
        if mode not in ("fail", "warn"):
            raise v._err(f"batch_checks.{name}", f"{mode!r} must be fail or warn")
    return tuple(sorted(modes.items()))


# Keys a URL or path template may use: ``{date}`` (a ``datetime.date``, any strftime
# spec after the colon, e.g. ``{date:%Y/%m/%d}``).
TEMPLATE_KEYS = ("date",)


def _check_template(r: _Reader, key: str, template: str | None) -> None:
    if template is None:
        return
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
        unknown = [name for name in names if name not in TEMPLATE_KEYS]
        if unknown:
            raise r._err(key, f"unknown placeholder {{{unknown[0]}}} in {template!r}; "
                              f"known: {', '.join(f'{{{k}}}' for k in TEMPLATE_KEYS)}")
        template.format(date=dt.date(2024, 1, 31))
    except (ValueError, IndexError, KeyError, AttributeError) as exc:
        raise r._err(key, f"bad template {template!r}: {exc}") from exc


def _check_selector(r: _Reader, key: str, selector: str | None) -> None:
    """A CSS selector must run in the one engine every selector key runs in (cssselect,
    ``newslake.parse.css``): a config that loads does not fail its pages later."""
    if selector is None:
        return
    from newslake.parse.css import check_selector

    try:
        check_selector(selector)
    except ValueError as exc:
        raise r._err(key, str(exc)) from exc


def _check_timezone(r: _Reader, timezone: str) -> None:
    # Only IANA names: ``localtime`` and file paths load on one machine and differ on the next.
    if timezone not in _known_timezones():
        raise r._err("timezone", f"unknown time zone {timezone!r}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise r._err("timezone", f"unknown time zone {timezone!r}") from exc


# Files in a zoneinfo folder that are no zone: ``localtime`` is whatever the machine is set
# to (the scheduler's and a worker's may differ), the others are tzdata internals.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset((available_timezones() | {"UTC"}) - _NOT_ZONES)


def _daily_schedule(r: _Reader) -> str:
    """``schedule``, refused unless it runs once every day (see ``DAILY_PRESETS``)."""
    schedule = r.get("schedule", str, "@daily")
    fields = DAILY_PRESETS.get(schedule, schedule).split()
    if _DAILY_CRON_RE.fullmatch(" ".join(fields)):
        return schedule
    if schedule in _MORE_THAN_DAILY_PRESETS or (
        len(fields) == 5 and not (fields[0].isdigit() and fields[1].isdigit())
    ):
        why = ("runs more than once a day, and each run would replace the whole day's "
               "partition with what it saw so far")
    elif fields[2:] == ["*", "*", "*"]:
        why = "has a minute or an hour out of range"
    elif schedule.startswith("@") or len(fields) == 5:
        why = "does not run every day, and the days between runs would never be ingested"
    else:
        why = "is neither a cron expression nor a preset"
    raise r._err("schedule", f"{schedule!r} {why}; an ingest run owns one UTC day: use "
                 "'@daily' or a daily cron 'M H * * *' (minute and hour in UTC)")


def parse_outlet(data: Any, path: str = "<memory>") -> Outlet:
    """Build an ``Outlet`` from a loaded YAML mapping; raise ``ConfigError`` on any defect."""
    _count_nodes(data, [MAX_CONFIG_NODES], path)
    r = _Reader(path, _expand_env(data))
    outlet_id = r.get("id", str)
    if not OUTLET_ID_RE.fullmatch(outlet_id):
        raise r._err("id", f"{outlet_id!r} must match [a-z0-9_]+")
    timezone = r.get("timezone", str, "UTC")
    _check_timezone(r, timezone)
    start = r.get("start_date", (dt.date, str))
    if isinstance(start, str):
        try:
            start = dt.date.fromisoformat(start)
        except ValueError as exc:
            raise r._err("start_date", f"not a date: {start!r}") from exc
    base_url = r.get("base_url", str)
    if not base_url.startswith(("http://", "https://")):
        raise r._err("base_url", "must be an http(s) URL")
    language = r.get("language", str)
    if not re.fullmatch(r"[a-z]{2}", language):
        raise r._err("language", f"{language!r} is not an ISO 639-1 code")

    sources = []
    raw_sources = r.get("discovery", list, [])
    for i, raw in enumerate(raw_sources):
        s = _Reader(path, raw, f"discovery[{i}].")
        kind = s.get("type", str)
        if kind not in DISCOVERY_TYPES:
            raise s._err("type", f"{kind!r} is not one of {', '.join(DISCOVERY_TYPES)}")
        src = DiscoverySource(
            type=kind,
            url=s.get("url", str, None),
            url_template=s.get("url_template", str, None),
            link_selector=s.get("link_selector", str, None),
            path=s.get("path", str, None),
            poll_every=s.get("poll_every", int, None),
        )
        if kind in ("rss", "sitemap") and not src.url:
            raise s._err("url", f"is required for type {kind}")
        if kind == "archive" and not src.url_template:
            raise s._err("url_template", "is required for type archive")
        if kind == "warc" and not src.path:
            raise s._err("path", "is required for type warc")
        _check_template(s, "url_template", src.url_template)
        _check_template(s, "path", src.path)
        _check_selector(s, "link_selector", src.link_selector)
        if src.poll_every is not None and (src.poll_every < 0 or kind not in POLLED_TYPES):
            raise s._err("poll_every", f"minutes >= 0, for types {', '.join(POLLED_TYPES)} only")
        s.finish()
        sources.append(src)

    p = r.sub("parse")
    for pattern in _str_list(p, "drop_paragraphs"):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise p._err("drop_paragraphs", f"bad regular expression {pattern!r}: {exc}") from exc
    parse = ParseRules(
        body_selector=p.get("body_selector", str, None),
        drop_selectors=_str_list(p, "drop_selectors"),
        drop_paragraphs=_str_list(p, "drop_paragraphs"),
        version=p.get("version", int, 1),
        title_source=_choice(p, "title_source", TITLE_SOURCES),
        byline_source=_choice(p, "byline_source", BYLINE_SOURCES),
    )
    p.finish()
    _check_selector(p, "body_selector", parse.body_selector)
    for n, selector in enumerate(parse.drop_selectors):
        _check_selector(p, f"drop_selectors[{n}]", selector)

    q = r.sub("politeness")
    politeness = Politeness(
        requests_per_second=float(q.positive("requests_per_second", (int, float), 1.0)),
        concurrency=q.positive("concurrency", int, 2),
        obey_robots=q.get("obey_robots", bool, True),
        allow_private_addresses=_address_setting(q, "allow_private_addresses"),
        timeout_seconds=float(q.positive("timeout_seconds", (int, float), 20.0)),
        max_bytes=q.positive("max_bytes", int, 10 * 1024 * 1024),
    )
    q.finish()

    v = r.sub("validation")
    validation = Validation(
        min_words=_non_negative(v, "min_words", 80),
        max_quarantine_share=v.share("max_quarantine_share", 0.5),
        min_rows=_non_negative(v, "min_rows", 0),
        max_fetch_failure_share=v.share("max_fetch_failure_share", 0.5),
        min_batch_size=_non_negative(v, "min_batch_size", 10),
        max_duplicate_share=v.share("max_duplicate_share", 0.5),
        min_recent_ratio=_non_negative(v, "min_recent_ratio", 0.2, (int, float)),
        batch_checks=_batch_check_modes(v),
        drift=_drift(v),
    )
    v.finish()

    rv = r.sub("revisit")
    revisit_days = rv.get("days", int, DEFAULT_REVISIT_DAYS)
    if not 0 <= revisit_days <= MAX_REVISIT_DAYS:
        raise rv._err("days", f"must be between 0 and {MAX_REVISIT_DAYS}, got {revisit_days!r}")
    rv.finish()

    outlet = Outlet(
        id=outlet_id,
        name=r.get("name", str),
        base_url=base_url,
        language=language,
        timezone=timezone,
        start_date=start,
        schedule=_daily_schedule(r),
        discovery=tuple(sources),
        parse=parse,
        politeness=politeness,
        validation=validation,
        requires_internet=r.get("requires_internet", bool, False),
        demo=r.get("demo", bool, False),
        source_path=path,
        revisit_days=revisit_days,
    )
    r.finish()
    return outlet


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (its libyaml build when present: every DAG parse reads every
    outlet file, ~8 ms each in pure Python), reading ``1e9`` and ``-2.5E-3`` as numbers
    (YAML 1.2 does; YAML 1.1 wants a dot, so ``1e9`` was the string "1e9")."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_outlet(path: str | Path) -> Outlet:
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    outlet = parse_outlet(data, str(path))
    if outlet.id != path.stem:
        raise ConfigError(f"{path}: id: {outlet.id!r} must equal the file name {path.stem!r}")
    return outlet


def default_outlets_dir() -> Path:
    env = os.environ.get("NEWSLAKE_OUTLETS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "outlets"


def load_outlets(directory: str | Path | None = None) -> dict[str, Outlet]:
    """Every ``*.yaml`` in the outlets folder, keyed by id, in file-name order; the first
    file that does not load raises its ``ConfigError``."""
    outlets, broken = load_outlets_apart(directory)
    for error in broken.values():
        raise error
    return outlets


def load_outlets_apart(
    directory: str | Path | None = None,
) -> tuple[dict[str, Outlet], dict[Path, ConfigError]]:
    """Every ``*.yaml`` in the outlets folder, each on its own: the outlets that load
    (keyed by id, in file-name order) and the error of each file that does not. The DAG
    files use this, so that one bad file breaks only its own outlet's DAGs."""
    directory = Path(directory) if directory else default_outlets_dir()
    outlets: dict[str, Outlet] = {}
    broken: dict[Path, ConfigError] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            outlet = load_outlet(path)
        except ConfigError as exc:
            broken[path] = exc
            continue
        except (OSError, UnicodeDecodeError) as exc:  # unreadable: still that file's error
            broken[path] = ConfigError(f"{path}: cannot be read: {exc}")
            continue
        outlets[outlet.id] = outlet
    return outlets, broken

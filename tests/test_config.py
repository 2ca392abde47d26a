from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newslake.config import load_outlet, load_outlets, parse_outlet
from newslake.errors import ConfigError

MINIMAL = {
    "id": "example",
    "name": "Example",
    "base_url": "https://example.org/",
    "language": "en",
    "timezone": "Europe/Berlin",
    "start_date": "2024-01-01",
}


def test_shipped_outlets_load() -> None:
    outlets = load_outlets()
    demo = [o for o in outlets.values() if o.demo]
    assert len(demo) >= 3
    assert "tampafp" in outlets and outlets["tampafp"].requires_internet
    for outlet in demo:
        assert outlet.politeness.allow_private_addresses
        assert not outlet.requires_internet


def test_minimal_config_has_defaults() -> None:
    outlet = parse_outlet(MINIMAL)
    assert outlet.start_date == dt.date(2024, 1, 1)
    assert outlet.schedule == "@daily"
    assert outlet.validation.min_words == 80
    assert not outlet.politeness.allow_private_addresses
    assert not outlet.parse.has_rules


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "../etc"}, "id: '../etc' must match"),
        ({"colour": "blue"}, "colour: unknown key"),
        ({"language": "english"}, "language: 'english' is not an ISO 639-1 code"),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone"),
        ({"start_date": "yesterday"}, "start_date: not a date"),
        ({"politeness": {"concurrency": "two"}}, "politeness.concurrency: expected int"),
        ({"politeness": {"obey_robots": 1}}, "politeness.obey_robots: expected bool"),
        ({"validation": {"min_words": True}}, "validation.min_words: expected int"),
        ({"discovery": [{"type": "rss"}]}, "discovery[0].url: is required"),
        ({"discovery": [{"type": "gopher", "url": "x"}]}, "discovery[0].type"),
        ({"parse": {"drop_paragraphs": ["(unclosed"]}}, "bad regular expression"),
    ],
)
def test_bad_config_names_file_and_key(change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=r"^conf\.yaml: ") as err:
        parse_outlet({**MINIMAL, **change}, "conf.yaml")
    assert message in str(err.value)


def test_env_expansion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE", "http://127.0.0.1:1234")
    outlet = parse_outlet({**MINIMAL, "base_url": "${SITE}/a/"})
    assert outlet.base_url == "http://127.0.0.1:1234/a/"
    monkeypatch.delenv("SITE")
    outlet = parse_outlet({**MINIMAL, "base_url": "${SITE:-https://fallback.example}/a/"})
    assert outlet.base_url == "https://fallback.example/a/"


def test_file_name_must_match_id(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("id: example\nname: E\nbase_url: https://e.org/\nlanguage: en\n"
                    "timezone: UTC\nstart_date: 2024-01-01\n")
    with pytest.raises(ConfigError, match="must equal the file name"):
        load_outlet(path)


def test_invalid_yaml_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(ConfigError, match="broken.yaml: not valid YAML"):
        load_outlet(path)


@pytest.mark.parametrize("schedule", ["@daily", "@midnight", "0 0 * * *", "30 6 * * *",
                                      "59  23 * * *"])
def test_daily_schedules_load(schedule: str) -> None:
    outlet = parse_outlet({**MINIMAL, "schedule": schedule}, "conf.yaml")
    assert outlet.schedule == schedule
    assert outlet.cron.split()[2:] == ["*", "*", "*"]


@pytest.mark.parametrize(("schedule", "why"), [
    ("@hourly", "runs more than once a day"),
    ("*/30 * * * *", "runs more than once a day"),
    ("0 */6 * * *", "runs more than once a day"),
    ("0,30 0 * * *", "runs more than once a day"),
    ("@continuous", "runs more than once a day"),
    ("@weekly", "does not run every day"),
    ("0 0 * * 1-5", "does not run every day"),
    ("0 0 1 * *", "does not run every day"),
    ("@once", "does not run every day"),
    ("every day", "is neither a cron expression nor a preset"),
    ("0 24 * * *", "has a minute or an hour out of range"),
    ("60 0 * * *", "has a minute or an hour out of range"),
])
def test_a_schedule_that_is_not_daily_is_refused_naming_file_and_key(
    schedule: str, why: str
) -> None:
    """A run owns its whole day: a sub-daily schedule would let each run replace the day
    with part of it, a sparser one would leave days out."""
    with pytest.raises(ConfigError, match=r"^conf\.yaml: schedule: ") as err:
        parse_outlet({**MINIMAL, "schedule": schedule}, "conf.yaml")
    assert f"{schedule!r} {why}" in str(err.value)
    assert "'@daily'" in str(err.value)


def test_a_yaml_outlet_with_an_hourly_schedule_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text("id: example\nname: E\nbase_url: https://e.org/\nlanguage: en\n"
                    "timezone: UTC\nstart_date: 2024-01-01\nschedule: '@hourly'\n")
    with pytest.raises(ConfigError, match=f"^{path}: schedule: '@hourly' runs more than once"):
        load_outlet(path)


# One selector of each form the dialect (cssselect's CSS, docs/outlets.md) runs; each
# picks the <a> with href "/2" (or the elements named) on PAGE.
PAGE = ("<html><body><div id='main' class='list news'><ul class='archive-list'>"
        "<li><a href='/1' class='sponsored'>1</a></li><li><a href='/2' rel='tag x'>2</a></li>"
        "</ul><p lang='en-GB'>p</p></div></body></html>")
DIALECT = [
    ("div.list a[href='/2']", ["/2"]), ("ul.archive-list > li > a[rel~=tag]", ["/2"]),
    ("#main li:nth-child(2) a", ["/2"]), ("li:last-child a:not(.sponsored)", ["/2"]),
    ("a[href^='/'][href$='2']", ["/2"]), ("a[href*='2']", ["/2"]), ("li + li > a", ["/2"]),
    ("li ~ li a", ["/2"]), ("li:has(> a[rel]) a", ["/2"]), (":is(li, p):last-child a", ["/2"]),
    ("a:contains('2')", ["/2"]), ("p[lang|=en], a.sponsored", ["/1", "p"]),
]


@pytest.mark.parametrize(("selector", "picks"), DIALECT)
@pytest.mark.parametrize("key", ["link_selector", "body_selector", "drop_selectors"])
def test_a_selector_that_loads_runs_the_same_for_every_key(
    selector: str, picks: list[str], key: str
) -> None:
    """Every selector key goes through one engine: what the loader accepts is what the
    archive links and the parse rules then run, with the same matches."""
    from lxml import html

    from newslake.discover.archive import page_links
    from newslake.parse.css import select

    if key == "link_selector":
        data = {**MINIMAL, "discovery": [{"type": "archive", "link_selector": selector,
                                          "url_template": "https://e.org/{date:%Y}/"}]}
        assert parse_outlet(data).discovery[0].link_selector == selector
        links = page_links(PAGE.encode(), "https://e.org/", selector)
        assert links == [f"https://e.org{p}" for p in picks if p.startswith("/")]
    else:
        value = [selector] if key == "drop_selectors" else selector
        rules = parse_outlet({**MINIMAL, "parse": {key: value}}).parse
        assert selector in (rules.body_selector, *rules.drop_selectors)
    found = select(selector, html.document_fromstring(PAGE))
    assert [e.get("href") or e.tag for e in found] == picks


@pytest.mark.parametrize(("selector", "why"), [
    ("ul >> a", "invalid CSS selector 'ul >> a'"),
    ("div[class", "invalid CSS selector 'div[class'"),
    ("", "invalid CSS selector ''"),
    ("p::text", "unsupported CSS selector 'p::text': Pseudo-elements are not supported"),
    ("*:first-of-type", "unsupported CSS selector '*:first-of-type'"),
    ("li:nth-child(2 of .x)", "invalid CSS selector 'li:nth-child(2 of .x)'"),
    ("a:-soup-contains('x')", "unsupported CSS selector"),
])
def test_a_selector_the_engine_refuses_is_a_config_error_naming_file_and_key(
    selector: str, why: str
) -> None:
    """Each key is checked when the config loads, not when a page meets the selector."""
    archive = {"type": "archive", "url_template": "https://e.org/{date:%Y}/"}
    cases = [
        ({"discovery": [archive, {**archive, "link_selector": selector}]},
         "discovery[1].link_selector"),
        ({"parse": {"body_selector": selector}}, "parse.body_selector"),
        ({"parse": {"drop_selectors": ["aside", selector]}}, "parse.drop_selectors[1]"),
    ]
    for extra, key in cases:
        with pytest.raises(ConfigError) as err:
            parse_outlet({**MINIMAL, **extra}, "conf.yaml")
        assert str(err.value).startswith(f"conf.yaml: {key}: {why}"), str(err.value)


def test_loading_the_shipped_outlets_does_not_import_soupsieve() -> None:
    """Every DAG parse loads the outlet configs: soupsieve and bs4 (~0.2 s to import) must
    not come with them; the selector check is cssselect's, ~14 ms to import."""
    import subprocess
    import sys

    probe = ("import sys; from newslake.config import load_outlets; load_outlets(); "
             "print(sorted(m for m in ('soupsieve', 'bs4') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr

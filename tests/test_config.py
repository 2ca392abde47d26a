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


# Selectors the parse rules' translator accepts, one of each form it knows.
TRANSLATOR_FORMS = [
    "div.td-post-content", "h3.entry-title a", "ul.archive-list > li > a", "#main",
    "*", "[data-x]", "a[href='x']", 'a[rel~="tag"]', "a[href^=https]", "a[href$='.pdf']",
    "a[href*=news]", "p[lang|=en]", "aside, .ad-slot, figure",
]


@pytest.mark.parametrize("selector", TRANSLATOR_FORMS)
def test_a_selector_the_translator_accepts_soupsieve_compiles(selector: str) -> None:
    """The loader lets a selector through on the translator's word alone (no soupsieve at
    DAG parse), which is right only while its forms are a subset of soupsieve's CSS."""
    import soupsieve

    from newslake.parse.css import css_to_xpath

    css_to_xpath(selector)
    soupsieve.compile(selector)


def test_an_archive_selector_beyond_the_translator_is_judged_by_soupsieve() -> None:
    data = {**MINIMAL, "discovery": [{
        "type": "archive", "url_template": "https://example.org/{date:%Y/%m/%d}/",
        "link_selector": "ul li:nth-child(2) a:not(.sponsored)"}]}
    outlet = parse_outlet(data)
    assert outlet.discovery[0].link_selector == "ul li:nth-child(2) a:not(.sponsored)"


def test_loading_the_shipped_outlets_does_not_import_soupsieve() -> None:
    """Every DAG parse loads the outlet configs: soupsieve and bs4 (~0.2 s to import) must
    not come with them while every shipped selector is within the translator's forms."""
    import subprocess
    import sys

    probe = ("import sys; from newslake.config import load_outlets; load_outlets(); "
             "print(sorted(m for m in ('soupsieve', 'bs4') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr

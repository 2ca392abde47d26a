"""Hostile outlet configs: each ends in a ConfigError that names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Ledger

from newslake.config import load_outlet
from newslake.errors import ConfigError

pytestmark = pytest.mark.timeout(30)
GOOD = """name: Example
base_url: https://example.org/
language: en
timezone: UTC
start_date: 2024-01-01
"""
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
# file stem -> (YAML text, what the error must say)
CASES: dict[str, tuple[str, str]] = {
    "path_separator": ("id: ../../etc/passwd\n" + GOOD, "id: '../../etc/passwd' must match"),
    "slash_in_id": ("id: a/b\n" + GOOD, "must match [a-z0-9_]+"),
    "fullwidth_unicode_id": ("id: ｄｅｍｏ\n" + GOOD, "must match [a-z0-9_]+"),
    "zero_width_in_id": ("id: \"demo\\u200b\"\n" + GOOD, "must match [a-z0-9_]+"),
    "unknown_key": ("id: unknown_key\ncolour: red\n" + GOOD, "colour: unknown key"),
    "nested_unknown_key": ("id: nested_unknown_key\npoliteness: {rps: 3}\n" + GOOD,
                           "politeness.rps: unknown key"),
    "wrong_type_number": ("id: wrong_type_number\nvalidation: {min_words: lots}\n" + GOOD,
                          "validation.min_words: expected int"),
    "wrong_type_list": ("id: wrong_type_list\ndiscovery: {type: rss}\n" + GOOD,
                        "discovery: expected list"),
    "bool_as_number": ("id: bool_as_number\npoliteness: {concurrency: true}\n" + GOOD,
                       "politeness.concurrency: expected int"),
    "negative_rate": ("id: negative_rate\npoliteness: {requests_per_second: -1}\n" + GOOD,
                      "must be > 0"),
    "python_object_tag": ("id: python_object_tag\nname: !!python/object/apply:os.system [ls]\n"
                          "base_url: https://e.org/\nlanguage: en\ntimezone: UTC\n"
                          "start_date: 2024-01-01\n", "not valid YAML"),
    "empty_file": ("", "expected a mapping"),
    "a_list_not_a_mapping": ("- id: x\n", "expected a mapping"),
    "yaml_alias_bomb": ("id: yaml_alias_bomb\n" + GOOD + LAUGHS, "YAML alias bomb"),
    "bad_timezone": ("id: bad_timezone\n" + GOOD.replace("UTC", "Mars/Base"),
                     "timezone: unknown time zone"),
    # Values that load but make no sense (issue 15.8): refused at load, never at run time.
    "infinite_rate": ("id: infinite_rate\npoliteness: {requests_per_second: .inf}\n" + GOOD,
                      "politeness.requests_per_second: must be > 0 and finite"),
    "nan_rate": ("id: nan_rate\npoliteness: {requests_per_second: .nan}\n" + GOOD,
                 "politeness.requests_per_second: must be > 0 and finite"),
    "zero_timeout": ("id: zero_timeout\npoliteness: {timeout_seconds: 0}\n" + GOOD,
                     "politeness.timeout_seconds: must be > 0 and finite"),
    "negative_timeout": ("id: negative_timeout\npoliteness: {timeout_seconds: -5}\n" + GOOD,
                         "politeness.timeout_seconds: must be > 0 and finite"),
    "nan_timeout": ("id: nan_timeout\npoliteness: {timeout_seconds: .nan}\n" + GOOD,
                    "politeness.timeout_seconds: must be > 0 and finite"),
    "negative_max_bytes": ("id: negative_max_bytes\npoliteness: {max_bytes: -1}\n" + GOOD,
                           "politeness.max_bytes: must be > 0 and finite"),
    "localtime_zone": ("id: localtime_zone\n" + GOOD.replace("UTC", "localtime"),
                       "timezone: unknown time zone 'localtime'"),
    "unknown_placeholder": (
        "id: unknown_placeholder\ndiscovery: [{type: archive, "
        "url_template: 'https://example.org/archive/{page}/'}]\n" + GOOD,
        "discovery[0].url_template: unknown placeholder {page}"),
    "bad_date_format_spec": (
        "id: bad_date_format_spec\ndiscovery: [{type: archive, "
        "url_template: 'https://example.org/{date!z}/'}]\n" + GOOD,
        "discovery[0].url_template: bad template"),
    "invalid_link_selector": (
        "id: invalid_link_selector\ndiscovery: [{type: archive, url_template: "
        "'https://example.org/{date:%Y}/', link_selector: 'ul >> a'}]\n" + GOOD,
        "discovery[0].link_selector: invalid CSS selector 'ul >> a'"),
    "invalid_body_selector": ("id: invalid_body_selector\nparse: {body_selector: 'div[class'}\n"
                              + GOOD, "parse.body_selector: invalid CSS selector"),
    "unsupported_drop_selector": (
        "id: unsupported_drop_selector\nparse: {drop_selectors: [aside, 'p::first-line']}\n"
        + GOOD, "parse.drop_selectors[1]: unsupported CSS selector 'p::first-line'"),
    "share_over_one": ("id: share_over_one\nvalidation: {max_quarantine_share: 1.5}\n" + GOOD,
                       "validation.max_quarantine_share: must be a share between 0 and 1"),
    "file_url_base": ("id: file_url_base\n" + GOOD.replace("https://example.org/", "file:///etc/"),
                      "base_url: must be an http(s) URL"),
}


@pytest.mark.parametrize("stem", list(CASES))
def test_hostile_config_is_a_clear_error(stem: str, tmp_path: Path, ledger: Ledger) -> None:
    text, message = CASES[stem]
    path = tmp_path / f"{stem}.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_outlet(path)
    except ConfigError as exc:
        outcome = ledger.record(f"config: {stem}", "error:ConfigError")
        assert str(exc).startswith(str(path)), exc
        assert message in str(exc), exc
    except Exception as exc:  # anything else is a crash
        ledger.record(f"config: {stem}", f"crash:{type(exc).__name__}")
        raise
    else:
        outcome = ledger.record(f"config: {stem}", "crash:accepted")
    assert outcome == "error:ConfigError"


def test_an_exponent_is_a_number(tmp_path: Path) -> None:
    """YAML 1.1 reads ``1e9`` (no dot) as a string; the loader reads it as YAML 1.2 does."""
    path = tmp_path / "exponent.yaml"
    path.write_text("id: exponent\npoliteness: {max_bytes: 1e9, requests_per_second: 5e-1}\n"
                    + GOOD, encoding="utf-8")
    politeness = load_outlet(path).politeness
    assert (politeness.max_bytes, politeness.requests_per_second) == (1_000_000_000, 0.5)
    assert isinstance(politeness.max_bytes, int)

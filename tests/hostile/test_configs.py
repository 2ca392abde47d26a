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

"""Parser versions that mean something: a change of output is a new version.

The fingerprint (``tests/fixtures/parser_fingerprint.json``) is a digest of what
``parse_article`` gives for a fixed sample of the dev corpora, with the version it was
made with; ``make parser-fingerprint`` regenerates it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from newslake.parse.version import (
    EMBEDDED_PARSER,
    GENERIC_PARSER,
    PARSER_VERSION,
    STRUCTURED_PARSER,
    ParserLabel,
    read_label,
    rules_label,
)
from newslake.validate import load_suite

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "parser_fingerprint.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("parser_fingerprint", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(240)
def test_dev_set_outputs_change_only_with_a_new_parser_version() -> None:
    script = _script()
    try:
        pages = script.sample()
    except FileNotFoundError as exc:  # no corpus is a broken setup, never a pass
        pytest.fail(str(exc))
    stored = json.loads(script.FIXTURE.read_text(encoding="utf-8"))
    assert len(pages) == len(stored["pages"]) == 3 * script.PER_SET
    made = script.fingerprint(pages)
    changed = sorted(k for k, v in made["pages"].items() if stored["pages"].get(k) != v)
    if stored["parser_version"] == PARSER_VERSION:
        assert not changed, (
            f"parse_article's output changed on {len(changed)} of {len(pages)} sample pages "
            f"({', '.join(changed[:5])}{' …' if len(changed) > 5 else ''}) but PARSER_VERSION "
            f"is still {PARSER_VERSION}: bump it in include/newslake/parse/version.py, then "
            "run `make parser-fingerprint`")
    else:
        pytest.fail(
            f"PARSER_VERSION is {PARSER_VERSION}, the fingerprint was made with "
            f"{stored['parser_version']}: run `make parser-fingerprint` and commit "
            f"{script.FIXTURE.name} ({len(changed)} sample pages changed)")


def test_a_missing_corpus_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=f"dev corpus missing: {tmp_path}/fundus-dev"):
        _script().sample(tmp_path)


def test_labels_read_back_and_compare() -> None:
    assert f"generic@{PARSER_VERSION}" == GENERIC_PARSER
    assert read_label(GENERIC_PARSER) == ParserLabel("generic", PARSER_VERSION)
    assert read_label(rules_label("tampafp", 3)) == ParserLabel(
        "rules:tampafp", PARSER_VERSION, 3)
    assert str(read_label("rules:tampafp@3.2")) == "rules:tampafp@3.2"
    # Before versions meant anything: rules:<outlet>@R is code version 1.
    assert read_label("rules:tampafp@3") == ParserLabel("rules:tampafp", 1, 3)
    for bad in ("generic", "generic@x", "generic@2.1", "fancy@2", "rules:Tampa@1", ""):
        with pytest.raises(ValueError, match="parser label|two numbers"):
            read_label(bad)

    generic2 = read_label("generic@2")
    assert read_label("generic@1").is_older_than(generic2)
    assert read_label("structured@1").is_older_than(generic2), "one code version for all paths"
    assert read_label("rules:x@5").is_older_than(generic2), "old rules labels are code 1"
    assert not read_label("rules:x@1.2").is_older_than(generic2)
    assert not read_label("embedded@3").is_older_than(generic2)
    rules3 = read_label("rules:x@3.2")
    assert read_label("rules:x@2.2").is_older_than(rules3)
    assert read_label("rules:x@3.1").is_older_than(rules3)
    assert not read_label("rules:x@3.2").is_older_than(rules3)
    assert not read_label("rules:y@1.2").is_older_than(rules3), "another outlet's rules"
    assert not read_label("generic@2").is_older_than(rules3)


def test_the_row_suite_accepts_every_label_the_parser_writes() -> None:
    (check,) = [e for e in load_suite("article_rows.json")["expectations"]
                if e["meta"]["check"] == "parser_format"]
    pattern = re.compile(check["kwargs"]["regex"])
    for written in (GENERIC_PARSER, STRUCTURED_PARSER, EMBEDDED_PARSER,
                    rules_label("demo_metro_ledger", 4), "generic@1", "rules:tampafp@1"):
        assert pattern.match(written), written
    for bad in ("mystery-parser", "generic@", "rules:x@1.", "generic@1.2", "rules:X@1"):
        assert not pattern.match(bad), bad

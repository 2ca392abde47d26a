"""The docs say what the commit does: README.md, CONTRIBUTING.md and docs/*.md.

- every relative link resolves, to a file and, with ``#``, to a heading of it;
- every ``newslake <subcommand>`` (and its ``--flags``) and every ``make <target>`` quoted
  in code is one the CLI's parser and the Makefile have;
- the README's test command is the one ``.ci/run`` runs;
- every Python block is marked: ``<!-- docs-test: run … -->`` blocks run against a small
  lake written with the project's own writers (each table they print must have rows), and
  ``<!-- docs-test: skip (why) -->`` blocks say why they cannot run here.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import importlib
import os
import pkgutil
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from newslake.cli import build_parser

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"<!--\s*docs-test:\s*(run|skip)\b(.*?)-->")
FENCE = re.compile(r"^(\s*)```\s*([\w-]*)\s*$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marker: str | None  # "run", "skip", or None
    reason: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _split(page: Path) -> tuple[list[Block], list[tuple[int, str]]]:
    """The page's fenced blocks, and its other lines (with their numbers)."""
    blocks: list[Block] = []
    prose: list[tuple[int, str]] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        start, lang, body = i, m.group(2), []
        i += 1
        while i < len(lines) and not FENCE.match(lines[i]):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        before = next((ln for ln in reversed(lines[:start]) if ln.strip()), "")
        mark = MARKER.search(before)
        blocks.append(Block(page, start + 1, lang, "\n".join(body),
                            mark.group(1) if mark else None,
                            mark.group(2).strip() if mark else ""))
    return blocks, prose


def _code_spans(prose: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Inline code of the prose lines (a span may run over a line break)."""
    text = "\n".join(line for _, line in prose)
    numbers = [n for n, _ in prose]
    for m in re.finditer(r"`([^`]+)`", text):
        yield numbers[text.count("\n", 0, m.start())], m.group(1)


def _code(page: Path) -> Iterator[tuple[str, str]]:
    """(where, code) for every inline span and every line of a shell or plain block."""
    blocks, prose = _split(page)
    for n, span in _code_spans(prose):
        yield f"{page.relative_to(ROOT)}:{n}", span.replace("\n", " ")
    for block in blocks:
        if block.lang in ("", "bash", "sh", "console"):
            for k, line in enumerate(block.text.splitlines(), start=1):
                yield f"{block}+{k}", line


def _quoted(pattern: str) -> Iterator[tuple[str, re.Match[str]]]:
    """(where, match) for every match of ``pattern`` in the code of every page."""
    for page in PAGES:
        for where, code in _code(page):
            for m in re.finditer(pattern, code):
                yield where, m


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for _, line in _split(page)[1]:
        m = re.match(r"#{1,6} (.+)", line)
        if m:
            slug = _slug(m.group(1))
            out.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return out


def test_the_pages_exist() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert names >= {"README.md", "CONTRIBUTING.md", "docs/operating.md", "docs/outlets.md",
                     "docs/lake.md", "docs/architecture.md", "docs/benchmarks.md",
                     "docs/hostile-inputs.md", "docs/decisions.md"}


every_page = pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())


@every_page
def test_relative_links_resolve(page: Path) -> None:
    bad = []
    prose = "\n".join(line for _, line in _split(page)[1])
    prose = re.sub(r"`[^`]*`", "", prose)  # a link inside inline code is not a link
    for m in re.finditer(r"\]\(([^)\s]+)\)", prose):
        target = m.group(1)
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            bad.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            bad.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert bad == []


@every_page
def test_every_table_has_a_header(page: Path) -> None:
    """A run of ``|`` lines is a table only under a header and a ``|---|`` row: rows cut off
    from their table by a paragraph render as text."""
    bad = []
    previous = ""
    prose = _split(page)[1]
    for k, (n, line) in enumerate(prose):
        if line.startswith("|") and not previous.startswith("|"):
            following = prose[k + 1][1] if k + 1 < len(prose) else ""
            if not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", following.strip()):
                bad.append(f"{page.relative_to(ROOT)}:{n}: {line[:60]}")
        previous = line
    assert bad == []


def _section(page: str, heading: str) -> str:
    """The text of a page's ``## heading`` section, up to the next ``##`` heading."""
    text = (ROOT / page).read_text(encoding="utf-8")
    return text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]


def test_the_record_table_is_the_schema() -> None:
    """docs/lake.md's record table names every column, and its nullable list is the schema's."""
    from newslake.record import ARTICLE_SCHEMA

    section = _section("docs/lake.md", "The article record")
    rows = re.findall(r"^\| ([a-z_, /]+) \|", section, flags=re.M)
    documented = {name.strip() for row in rows for name in re.split(r"[,/]", row)} - {"column"}
    assert documented == set(ARTICLE_SCHEMA.names)
    listed = re.search(r"Nullable in `articles/`: (.*?)\. Every other", section, flags=re.S)
    assert listed is not None
    nullable = set(re.findall(r"`(\w+)`", listed.group(1)))
    assert nullable == {f.name for f in ARTICLE_SCHEMA if f.nullable}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return set(parser._option_string_actions)


def test_newslake_commands_quoted_in_the_docs_exist() -> None:
    commands = _subparsers(build_parser())
    quoted = 0
    bad: list[str] = []
    for where, m in _quoted(r"(?<![\w.-])newslake +([a-z][a-z-]*)([^`#|;>&]*)"):
        quoted += 1
        name, rest = m.group(1), m.group(2).split()
        if name not in commands:
            bad.append(f"{where}: newslake {name}: no such subcommand")
            continue
        parser = commands[name]
        sub = _subparsers(parser)
        if sub and rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]):
            if rest[0] not in sub:
                bad.append(f"{where}: newslake {name} {rest[0]}: no such subcommand")
                continue
            parser = sub[rest[0]]
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", " ".join(rest)):
            if flag not in _options(parser):
                bad.append(f"{where}: newslake {name}: no option {flag}")
    assert quoted > 20  # the docs do quote the CLI: a broken pattern must not pass
    assert bad == []


# Paths the docs name as examples of files a reader would create, and folders a run makes
# (git-ignored, so absent from a fresh clone).
EXAMPLE_PATHS = {"include/outlets/example_news.yaml", "bench/results/"}


def test_repository_paths_quoted_in_the_docs_exist() -> None:
    """``tests/test_x.py``, ``include/newslake/…``, ``newslake/x.py`` (under include/) …"""
    quoted = 0
    bad = []
    for where, m in _quoted(r"(?<![\w/.:-])((?:tests|include|bench|scripts|dags|plugins|"
                            r"docs|newslake|\.ci)/[\w./-]*[\w/])"):
        path = m.group(1)
        quoted += 1
        file = ROOT / "include" / path if path.startswith("newslake/") else ROOT / path
        if not file.exists() and path not in EXAMPLE_PATHS:
            bad.append(f"{where}: {path}")
    assert quoted > 100
    assert bad == []


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_python_names_quoted_in_the_docs_exist() -> None:
    """``newslake.lake.dataset``, ``lake.publish_file``, ``config.BATCH_CHECKS`` …: a module
    of the library and a name in it. (``parse.…``, ``reparse.…`` and ``revisit.…`` are
    also config and manifest keys, and ``x.py`` and ``x.html`` files: not judged here.)"""
    import newslake

    modules = {m.name for m in pkgutil.iter_modules(newslake.__path__)} - {
        "parse", "reparse", "revisit"}
    quoted = 0
    bad = []
    for where, m in _quoted(r"(?<![\w./-])(newslake\.)?([a-z_]+)((?:\.[A-Za-z_]\w*)+)"
                            r"(?![\w/-]|\.\w)"):
        if m.group(3) in (".py", ".html") or (not m.group(1) and m.group(2) not in modules):
            continue
        quoted += 1
        name = f"newslake.{m.group(2)}{m.group(3)}"
        if not _resolves(name):
            bad.append(f"{where}: {m.group(0)}")
    assert quoted > 20
    assert bad == []


def test_settings_named_in_the_docs_exist() -> None:
    """``NEWSLAKE_*`` environment variables and ``newslake_*`` Airflow Variables/connections
    the docs name are read somewhere in the code or the stack's files."""
    code = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for folder in ("include/newslake", "include/demo_site", "dags", "plugins", "scripts")
        for p in (ROOT / folder).rglob("*.py")
    ) + "".join((ROOT / f).read_text(encoding="utf-8")
                for f in ("Makefile", "docker-compose.yaml", ".env.example"))
    named = {m for page in PAGES
             for m in re.findall(r"\b(NEWSLAKE_[A-Z0-9_]+|newslake_[a-z_]+)\b",
                                 page.read_text(encoding="utf-8"))}
    assert len(named) > 10
    assert sorted(n for n in named if n not in code) == []


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, flags=re.M))


def test_make_targets_quoted_in_the_docs_exist() -> None:
    targets = _make_targets()
    assert {"demo", "test"} <= targets
    quoted = set()
    bad = []
    for where, m in _quoted(r"(?<![\w/.-])make +([a-z][\w-]*)"):
        quoted.add(m.group(1))
        if m.group(1) not in targets:
            bad.append(f"{where}: make {m.group(1)}")
    assert {"demo", "test", "bench", "hostile"} <= quoted
    assert bad == []


def test_the_readme_test_command_is_what_ci_runs() -> None:
    ci = [ln.strip() for ln in (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()
          if ln.strip() and not ln.lstrip().startswith("#")]
    command = ci[-1]  # set -e …; cd …; then the command
    assert command == "make test", ci
    blocks, _ = _split(ROOT / "README.md")
    first_shell = next(b for b in blocks if b.lang == "bash")
    commands = [ln.split("#")[0].strip() for ln in first_shell.text.splitlines()]
    assert command in commands, first_shell.text
    assert "make demo" in commands


@pytest.mark.timeout(30)
def test_the_team_stack_settings_step_gives_every_secret_a_value(tmp_path: Path) -> None:
    """docs/operating.md's step 1, run on a copy of .env.example: no example value left."""
    blocks, _ = _split(ROOT / "docs/operating.md")
    step = next(b for b in blocks if b.lang == "bash" and "secrets.token_hex" in b.text)
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    (tmp_path / ".env").write_text(example, encoding="utf-8")
    subprocess.run(["bash", "-euo", "pipefail", "-c", step.text], cwd=tmp_path, check=True,
                   timeout=20)
    env = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines()
               if line and not line.startswith("#"))
    assert [k for k, v in env.items() if "change-me" in v] == []
    assert env["AIRFLOW_UID"] == str(os.getuid())
    assert len({env[k] for k in env if k.endswith(("PASSWORD", "SECRET", "SECRET_KEY"))}) == 4


def test_the_outlet_example_is_the_shipped_config() -> None:
    """docs/outlets.md's example is include/outlets/tampafp.yaml, and it loads."""
    from newslake.config import load_outlet

    blocks, _ = _split(ROOT / "docs/outlets.md")
    example = next(b for b in blocks if b.lang == "yaml")
    path = ROOT / "include/outlets/tampafp.yaml"
    shipped = [ln for ln in path.read_text(encoding="utf-8").splitlines()
               if not ln.startswith("#")]
    assert example.text.splitlines() == shipped
    assert load_outlet(path).id == "tampafp"


def test_every_config_key_is_in_the_outlets_table() -> None:
    """Each key include/newslake/config.py reads has a row in docs/outlets.md's key table."""
    source = (ROOT / "include/newslake/config.py").read_text(encoding="utf-8")
    read = set(re.findall(r"\.(?:get|positive|share)\(\s*\"([a-z_]+)\"", source))
    read |= set(re.findall(r"(?:_str_list|_non_negative)\(\w+, \"([a-z_]+)\"", source))
    section = _section("docs/outlets.md", "The config keys")
    first_cells = [line.split(" | ")[0] for line in section.splitlines()
                   if line.startswith("| `")]
    documented = {part for cell in first_cells for name in re.findall(r"`([a-z_.\[\]]+)`", cell)
                  for part in name.replace("[]", "").split(".")}
    assert len(read) > 25
    assert read - documented == set()


def _python_blocks() -> list[Block]:
    return [b for page in PAGES for b in _split(page)[0] if b.lang == "python"]


def test_every_python_block_says_whether_it_runs() -> None:
    unmarked = [str(b) for b in _python_blocks() if b.marker is None]
    assert unmarked == []
    unexplained = [str(b) for b in _python_blocks() if b.marker == "skip" and not b.reason]
    assert unexplained == []


# The small lake: what the examples query (two outlets on 2026-06-15, a story with an
# earlier revision, an alias, a frontier day, the corpus day and counts, the stories day),
# written by the project's writers.
DAY = dt.date(2026, 6, 15)
STORY = "https://example.org/news/story"


def _articles(outlet: str, revision: int = 1) -> Any:
    from newslake.record import ARTICLE_FILE_SCHEMA, Article, rows_to_table

    rows = []
    for n in range(3):
        url = STORY if (outlet, n) == ("demo_metro_ledger", 0) else f"https://{outlet}.example/{n}"
        rows.append(Article(
            url=url, fetched_url=url, outlet=outlet, language="en",
            title=f"Harbour story {n} of {outlet}",
            body=f"The harbour reopened on day {n}, version {revision}. " * 20,
            published_at=dt.datetime.combine(DAY, dt.time(8 + n), tzinfo=dt.UTC),
            fetched_at=dt.datetime.combine(DAY, dt.time(23), tzinfo=dt.UTC),
            parser="generic@1", run_id="docs-test", revision=revision,
        ).to_row())
    return rows_to_table(rows, ARTICLE_FILE_SCHEMA)


def _publish(lake_uri: str, zone: str, outlet: str, table: Any) -> None:
    from newslake import lake

    staging = lake.staging_uri(lake_uri, outlet, DAY, "docs-test")
    staged = lake.join(staging, lake.PARQUET_FILE)
    lake.write_parquet(table, staged)
    lake.publish_partition(lake_uri, zone, outlet, DAY, staged)
    lake.remove_tree(staging)


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pyarrow as pa

    from newslake import compact, frontier, lake

    where = tmp_path_factory.mktemp("docs")
    lake_uri = str(where / "lake")
    for outlet in ("demo_metro_ledger", "demo_harbor_wire"):
        _publish(lake_uri, "articles", outlet, _articles(outlet, revision=2))
    older = _articles("demo_metro_ledger", revision=1).slice(0, 1)
    _publish(lake_uri, lake.REVISIONS, "demo_metro_ledger", older)
    from newslake.record import ALIAS_SCHEMA, sha256_hex

    old = "https://example.org/news/old-story"
    renamed = pa.Table.from_pylist([
        {"old_article_id": sha256_hex(old), "old_url": old, "article_id": sha256_hex(STORY),
         "url": STORY, "renamed_at": dt.datetime.combine(DAY, dt.time(23), tzinfo=dt.UTC),
         "run_id": "docs-test"}], schema=ALIAS_SCHEMA)
    _publish(lake_uri, lake.ALIASES, "demo_metro_ledger", renamed)
    seen = dt.datetime.combine(DAY, dt.time(9), tzinfo=dt.UTC)
    polled = pa.Table.from_pylist([
        {"url": f"https://harbor.example/{n}", "source": "rss",
         "source_url": "https://harbor.example/feed", "source_date": seen,
         "published_hint": seen, "first_seen": seen + dt.timedelta(minutes=10 * n)}
        for n in range(3)], schema=frontier.SCHEMA)
    lake.write_parquet(polled, lake.join(lake_uri, "frontier", "outlet=demo_harbor_wire",
                                         f"date={DAY}", lake.PARQUET_FILE), sort_by=None)
    assert compact.build_day(lake_uri, DAY)["rows"] == 6
    assert compact.build_counts(lake_uri)["articles"] == 6
    from newslake import stories  # the two outlets carry the same three stories

    for outlet, day in stories.stale_signatures(lake_uri):
        stories.build_signatures(lake_uri, outlet, day)
    assert stories.build_stories(lake_uri)[0]["copies"] == 3
    return where


def _rows(value: Any) -> int | None:
    """Rows of a table-like result; None for anything else."""
    for attr in ("num_rows", "height"):
        if isinstance(getattr(value, attr, None), int):
            return int(getattr(value, attr))
    if type(value).__name__ == "DuckDBPyRelation":
        return len(value.fetchall())
    if hasattr(value, "shape") and hasattr(value, "columns"):
        return int(value.shape[0])
    return None


@pytest.mark.parametrize(
    "block", [b for b in _python_blocks() if b.marker == "run"], ids=str)
def test_python_block_runs_against_a_small_lake(
    block: Block, small_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(small_lake)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    empty = []
    for statement in ast.parse(block.text).body:
        code = ast.Module(body=[statement], type_ignores=[])
        if isinstance(statement, ast.Expr):
            value = eval(compile(ast.Expression(statement.value), str(block), "eval"), namespace)
            results = [value]
        else:
            exec(compile(code, str(block), "exec"), namespace)
            targets = [t.id for s in [statement] if isinstance(s, ast.Assign)
                       for t in s.targets if isinstance(t, ast.Name)]
            results = [namespace[t] for t in targets]
        for value in results:
            if _rows(value) == 0:
                empty.append(f"line {statement.lineno}: {ast.unparse(statement)[:80]}")
    assert empty == [], "a documented query returns no rows on a lake that has them"

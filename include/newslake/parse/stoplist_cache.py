"""trafilatura's jusText stoplist, built once into the user's cache instead of in every process.

The balanced pass (``body_generic``) lets trafilatura rescue a page with jusText, which,
for a page of no set language, classifies paragraphs with the union of jusText's 100
stoplists: trafilatura builds it in each process on first use (``jt_stoplist_init``,
154,484 words read from 100 files, 0.1-0.2 s), and every parse task is a fresh process.
``load_stoplist`` sets it from a text file in ``$XDG_CACHE_HOME/newslake``
(``~/.cache/newslake``): the number of words, then one word a line. The file is named by
trafilatura's and jusText's versions (an upgrade never reads a stale list) and written
to a temporary file renamed into place; reading it takes a third of the build. The
words are the same set, and jusText only tests membership in it. Where the file cannot
be written or read, trafilatura builds the list as it would have, with a warning.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from importlib.metadata import version
from pathlib import Path

from trafilatura import external

from newslake.parse.language import user_cache_dir

log = logging.getLogger(__name__)


def cache_path() -> Path:
    name = f"justext-stoplist-trafilatura-{version('trafilatura')}-justext-{version('justext')}.txt"
    return user_cache_dir() / name


def _write(path: Path, words: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join((str(len(words)), *words)))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.cache
def load_stoplist() -> None:
    """Gives trafilatura its jusText stoplist from the cache, or has it built and caches it
    (once a process: later calls do nothing)."""
    if external.JT_STOPLIST:
        return
    path = cache_path()
    try:
        count, *cached = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("jusText stoplist cache %s unreadable (%s): building it", path, exc)
    else:
        if count == str(len(cached)):  # else cut short, or not this file: built again
            external.JT_STOPLIST = tuple(cached)  # type: ignore[assignment]  # None till built
            return
    words = external.jt_stoplist_init()
    if any("\n" in word for word in words):
        return  # not one word a line: not cached
    try:
        _write(path, words)
    except OSError as exc:
        log.warning("jusText stoplist not cached at %s (%s): each process builds it", path, exc)

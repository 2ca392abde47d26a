"""Onboarding an outlet: ``newslake outlets add`` and ``newslake outlets check``.

``sources`` finds an outlet's discovery sources from its home page the way a careful
person would (robots.txt ``Sitemap:`` lines, ``<link rel="alternate">`` feeds, the usual
CMS paths, date archives), ``profile`` parses a sample of recent articles on the generic
path and says what looks wrong, ``proposal`` writes the commented YAML config, and
``check`` is the dry run of one outlet-day that writes nothing to the lake. Every request
goes through ``fetch.Fetcher``: robots.txt, the rate limit and the private-address guard.
"""

from newslake.errors import NewslakeError


class OnboardError(NewslakeError):
    """Onboarding cannot go on; the message says why and what to do."""


__all__ = ["OnboardError"]

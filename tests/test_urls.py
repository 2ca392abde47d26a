"""Canonical URLs: one spelling per article (newslake.urls)."""

from __future__ import annotations

import pytest

from newslake.urls import canonicalize_url, registered_domain, same_site


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.COM/News/Story", "https://www.example.com/News/Story"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/a"),
        ("https://example.com", "https://example.com/"),
        (
            "https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x&id=7",
            "https://example.com/a?id=7",
        ),
        ("https://example.com/a?fbclid=IwAR0abc", "https://example.com/a"),
        ("https://example.com/a?gclid=1&mc_cid=2&mc_eid=3&page=2", "https://example.com/a?page=2"),
        ("https://example.com/a?msclkid=1&_ga=2&igshid=3&yclid=4", "https://example.com/a"),
        ("https://example.com/a?UTM_Source=x&q=1", "https://example.com/a?q=1"),
        # kept parameters keep their order and exact encoding
        ("https://example.com/s?q=a%2Fb+c&utm_term=z&p=1", "https://example.com/s?q=a%2Fb+c&p=1"),
        ("https://example.com/a?flag", "https://example.com/a?flag"),
    ],
)
def test_canonicalize_url(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


def test_canonicalize_url_is_idempotent() -> None:
    url = "https://News.Example.com/a/b/?x=1&utm_source=t#top"
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


def test_path_case_is_kept() -> None:
    assert canonicalize_url("https://EXAMPLE.com/Story/ABC") == "https://example.com/Story/ABC"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("https://www.tampafp.com/a/", "https://tampafp.com/b", True),
        ("https://news.bbc.co.uk/a", "https://www.bbc.co.uk/b", True),
        ("https://www.bbc.co.uk/a", "https://www.itv.co.uk/b", False),
        ("https://example.com/a", "https://example.org/a", False),
        ("https://syndication.partner.com/x", "https://www.tampafp.com/x", False),
        ("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/b", True),
        ("http://localhost:8000/a", "http://127.0.0.1:8000/b", False),
    ],
)
def test_same_site(a: str, b: str, expected: bool) -> None:
    assert same_site(a, b) is expected
    assert same_site(b, a) is expected


def test_registered_domain() -> None:
    assert registered_domain("https://www.bbc.co.uk/news") == "bbc.co.uk"
    assert registered_domain("http://127.0.0.1:8000/") == "127.0.0.1"
    assert registered_domain("not a url") == ""

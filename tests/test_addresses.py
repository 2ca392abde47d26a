"""``politeness.allow_private_addresses`` as a list of networks and host names: the policy
(``newslake.addresses``), the config loader's checks (errors name file and key), and the
fetcher applying it to every request, every redirect hop and every connection
(``newslake.netguard``), against a loopback site."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from helpers.loopback import Loopback, Reply
from test_fetch import fake_dns, fetch_one, make_outlet

from newslake import netguard
from newslake.addresses import GUARDED_NETWORKS, address_policy
from newslake.config import load_outlet, parse_outlet
from newslake.errors import ConfigError
from newslake.fetch import fetch_urls, make_session

pytestmark = pytest.mark.usefixtures("fast_backoff")

MINIMAL = {"id": "example", "name": "Example", "base_url": "https://example.org/",
           "language": "en", "timezone": "UTC", "start_date": "2024-01-01"}
PAGE = b"<html><body><p>Story</p></body></html>"
HTML = {"Content-Type": "text/html"}
METADATA = ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "100.100.100.200",
            "169.254.1.1", "fe80::1%eth0", "2002:a9fe:a9fe::1"]


@pytest.fixture
def site() -> Loopback:
    with Loopback() as server:
        yield server


# --- the policy ----------------------------------------------------------------------------

@pytest.mark.parametrize(("setting", "address", "host", "allowed"), [
    (False, "93.184.216.34", None, True),
    (False, "127.0.0.1", None, False),
    (["127.0.0.1/32"], "127.0.0.1", None, True),
    (["127.0.0.1/32"], "::ffff:127.0.0.1", None, True),  # the same address, spelled v6
    (["127.0.0.1/32"], "127.0.0.2", None, False),
    (["127.0.0.1/32"], "10.0.0.7", None, False),
    (["127.0.0.1/32"], "93.184.216.34", None, True),  # public stays allowed
    (["10.20.0.0/16"], "10.20.3.4", None, True),
    (["10.20.0.0/16"], "10.21.0.1", None, False),
    (["127.0.0.1"], "127.0.0.1", None, True),  # an address alone: that one address
    (["::1"], "::1", None, True),
    (["intranet.example"], "10.0.0.7", "intranet.example", True),
    (["intranet.example"], "10.0.0.7", "INTRANET.example.", True),
    (["intranet.example"], "10.0.0.7", "other.example", False),
    (True, "10.0.0.7", None, True),
    (True, "127.0.0.1", None, True),
])
def test_a_policy_allows_public_addresses_and_what_it_lists(
    setting: bool | list[str], address: str, host: str | None, allowed: bool
) -> None:
    assert address_policy(setting).allows(address, host) is allowed


@pytest.mark.parametrize("address", METADATA)
@pytest.mark.parametrize("setting", [
    True, ["0.0.0.0/0", "::/0"], ["169.0.0.0/8", "fd00::/8", "100.64.0.0/10"],
    ["metadata.google.internal"], ["127.0.0.1/32"],
])
def test_link_local_and_metadata_stay_refused_unless_listed_inside_them(
    setting: bool | list[str], address: str
) -> None:
    assert not address_policy(setting).allows(address, "metadata.google.internal")


def test_a_network_inside_the_guarded_ranges_opens_only_itself() -> None:
    policy = address_policy(["169.254.169.254/32", "fd00:ec2::254/128"])
    assert policy.allows("169.254.169.254") and policy.allows("::ffff:169.254.169.254")
    assert policy.allows("fd00:ec2::254")
    assert not policy.allows("169.254.169.253") and not policy.allows("fe80::1")
    assert not policy.allows("127.0.0.1")
    assert {str(n) for n in GUARDED_NETWORKS} >= {"169.254.0.0/16", "fe80::/10"}


def test_a_host_must_resolve_to_something_allowed_every_time() -> None:
    policy = address_policy(["127.0.0.1/32"])
    assert policy.allows_all(["127.0.0.1", "93.184.216.34"])
    assert not policy.allows_all(["127.0.0.1", "10.0.0.7"])
    assert not policy.allows_all([])
    assert not policy.allows("not an address")


# --- the config loader ---------------------------------------------------------------------

def test_the_setting_loads_as_a_list(tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text("id: example\nname: Example\nbase_url: https://example.org/\n"
                    "language: en\ntimezone: UTC\nstart_date: 2024-01-01\n"
                    "politeness: {allow_private_addresses: [127.0.0.1/32, 10.0.0.0/8, "
                    "intranet.example, '::1']}\n")
    politeness = load_outlet(path).politeness
    assert politeness.allow_private_addresses == (
        "127.0.0.1/32", "10.0.0.0/8", "intranet.example", "::1")
    assert politeness.address_policy.allows("10.1.2.3")
    assert not politeness.address_policy.allows("172.16.0.1")
    assert parse_outlet(MINIMAL).politeness.address_policy.public_only


@pytest.mark.parametrize(("value", "problem"), [
    ([], "an empty list allows nothing besides public addresses: write false"),
    (["10.0.0.1/8"], "'10.0.0.1/8' is not a network: 10.0.0.1/8 has host bits set"),
    (["10.0.0.0/33"], "'10.0.0.0/33' is not a network"),
    (["127.1"], "'127.1' is not an address in dotted form (e.g. 127.0.0.1/32)"),
    (["300.1.1.1"], "'300.1.1.1' is not an address in dotted form"),
    (["intranet_example!"], "'intranet_example!' is neither a network (10.0.0.0/8) nor a host"),
    ([7], "7 is not a string"),
    ("127.0.0.1/32", "expected true, false or a list, got '127.0.0.1/32': write [127.0.0.1/32]"),
    (3, "expected true, false or a list, got 3"),
])
def test_a_bad_setting_is_an_error_naming_file_and_key(value: object, problem: str) -> None:
    data = {**MINIMAL, "politeness": {"allow_private_addresses": value}}
    with pytest.raises(ConfigError) as err:
        parse_outlet(data, "outlets/example.yaml")
    assert str(err.value).startswith(
        f"outlets/example.yaml: politeness.allow_private_addresses: {problem}"), str(err.value)


# --- the fetcher ---------------------------------------------------------------------------

@pytest.mark.timeout(10)
def test_a_listed_loopback_site_is_fetched_and_an_unlisted_one_refused(site: Loopback) -> None:
    site.routes["/a"] = Reply(body=PAGE, headers=HTML)
    listed = fetch_one(site, "/a", allow_private_addresses=("127.0.0.1/32",), obey_robots=False)
    assert (listed.error, listed.body) == (None, PAGE)
    other = fetch_one(site, "/a", allow_private_addresses=("10.0.0.0/8",), obey_robots=False)
    assert (other.error_slug, other.status) == ("private_address", None)
    assert site.hits["/a"] == 1


@pytest.mark.timeout(10)
@pytest.mark.parametrize("setting", [("127.0.0.1/32",), True])
@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/iam/", "http://[fd00:ec2::254]/latest/",
    "http://[::ffff:169.254.169.254]/", "http://127.0.0.2:{port}/inside",
])
def test_a_redirect_to_an_unlisted_or_metadata_address_is_refused_before_its_request(
    site: Loopback, setting: object, target: str
) -> None:
    port = site.base.rsplit(":", 1)[1]
    location = target.format(port=port)
    site.routes["/hop"] = Reply(302, headers={"Location": location})
    result = fetch_one(site, "/hop", allow_private_addresses=setting, obey_robots=False)
    if setting is True and "127.0.0.2" in target:  # true: any address but the guarded ones
        assert result.error_slug != "private_address"
        return
    assert (result.error_slug, result.final_url) == ("private_address", location)
    assert site.hits["/hop"] == 1


@pytest.mark.timeout(10)
def test_a_listed_host_name_is_fetched_with_its_host_header(
    site: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"intranet.example": [["127.0.0.1"]]})
    site.routes["/story"] = Reply(body=PAGE, headers=HTML)
    port = site.base.rsplit(":", 1)[1]
    (result,) = fetch_urls(
        [f"http://intranet.example:{port}/story"],
        make_outlet(site.url("/"), allow_private_addresses=("intranet.example",),
                    obey_robots=False))
    assert (result.error, result.body) == (None, PAGE)
    ((path, headers),) = site.requests
    assert (path, headers["Host"]) == ("/story", f"intranet.example:{port}")


@pytest.mark.timeout(10)
@pytest.mark.parametrize("rebound", ["169.254.169.254", "10.0.0.7"])
def test_a_listed_name_rebound_to_an_unlisted_address_is_refused_at_connect(
    site: Loopback, monkeypatch: pytest.MonkeyPatch, rebound: str
) -> None:
    # The session's own connections check: a name allowed for loopback that answers with
    # the metadata address (or any other private one) when connecting is refused.
    fake_dns(monkeypatch, {"news.example": [[rebound]]})
    outlet = make_outlet(site.url("/"), allow_private_addresses=("127.0.0.1/32",))
    port = site.base.rsplit(":", 1)[1]
    with make_session(outlet) as session, pytest.raises(requests.ConnectionError) as raised:
        session.get(f"http://news.example:{port}/story", timeout=2)
    reason = raised.value.args[0].reason
    assert isinstance(reason, netguard.BlockedAddressError)
    assert reason.detail == f"news.example resolves to {rebound} when connecting"
    assert sum(site.hits.values()) == 0

"""Regions and base-URL overrides: the token only ever goes to a Genesys host or over https/loopback."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from genesys_bridge.genesys import REGIONS, GenesysClient
from genesys_bridge.regions import resolve_endpoints


def test_every_documented_region_maps_to_its_api_and_login_hosts() -> None:
    # Given the 17 domains docs/genesys-api.md lists ("Regions and hosts")
    # When each is resolved
    # Then the API and login hosts follow the api./login. convention
    assert len(REGIONS) == 17
    assert REGIONS["mypurecloud.ie"] == "eu-west-1"
    assert REGIONS["usw2.pure.cloud"] == "us-west-2"
    for domain in REGIONS:
        endpoints = resolve_endpoints(domain)
        assert endpoints.api_base_url == f"https://api.{domain}"
        assert endpoints.token_url == f"https://login.{domain}/oauth/token"


def test_unknown_region_is_a_value_error_listing_the_valid_ones() -> None:
    # Given a region with a typo
    # When a client is built for it
    with pytest.raises(ValueError, match=r"unknown Genesys region 'mypurecloud\.eu'") as raised:
        GenesysClient(
            region="mypurecloud.eu", client_id="id", client_secret="secret", max_requests_per_minute=60
        )
    # Then the message lists every valid region so the operator can fix the config at once
    for domain in REGIONS:
        assert domain in str(raised.value)


@pytest.mark.parametrize(
    "url",
    ["http://api.example.com", "http://10.0.0.5:8080", "http://192.168.1.10", "http://[2001:db8::1]:80"],
)
def test_http_override_to_a_non_loopback_host_is_refused(
    make_client: Callable[..., GenesysClient], url: str
) -> None:
    # Given an http (unencrypted) override pointing off this machine
    # When the client is built with it, for either base URL
    # Then it is refused: the bearer token would cross the network in clear
    with pytest.raises(ValueError, match="http only on a loopback host"):
        make_client(api_base_url=url)
    with pytest.raises(ValueError, match="http only on a loopback host"):
        make_client(login_base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8081", "http://127.3.4.5", "http://localhost:9000", "http://[::1]:8081/"]
)
def test_http_override_on_loopback_is_accepted(make_client: Callable[..., GenesysClient], url: str) -> None:
    # Given a local simulator's http URL
    client = make_client(api_base_url=url, login_base_url=url)
    # Then both endpoints use it, without a trailing slash
    assert client.endpoints.api_base_url == url.rstrip("/")
    assert client.endpoints.token_url == url.rstrip("/") + "/oauth/token"


def test_https_override_to_any_host_is_accepted(make_client: Callable[..., GenesysClient]) -> None:
    client = make_client(api_base_url="https://genesys-proxy.internal.example/")
    assert client.endpoints.api_base_url == "https://genesys-proxy.internal.example"
    assert client.endpoints.login_base_url == "https://login.mypurecloud.ie"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1", "must be https"),
        ("127.0.0.1:8080", "absolute URL"),
        ("https://user:pw@api.example.com", "must not carry credentials"),
        ("https://api.example.com/?x=1", "query or fragment"),
    ],
)
def test_malformed_overrides_are_refused(
    make_client: Callable[..., GenesysClient], url: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        make_client(api_base_url=url)
    assert "pw@" not in str(raised.value)

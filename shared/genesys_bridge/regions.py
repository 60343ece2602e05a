"""Genesys Cloud regions and the base URLs derived from them (docs/genesys-api.md, "Regions and hosts").

Standard library only: the CDK stack validates its configured region against this very list at synth
(stacks/config.py), and the Lambda functions resolve their endpoints from it, without requests.

Overrides exist for simulators and tests. They must be https, or plain http on a loopback address only:
the bearer token travels in every request, so it may never cross a network unencrypted.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

# Genesys domain -> AWS region hosting it. Source: platform-client-sdk-python purecloud_region_hosts.py.
REGIONS: Final = MappingProxyType(
    {
        "mypurecloud.com": "us-east-1",
        "use2.us-gov-pure.cloud": "us-east-2",
        "usw2.pure.cloud": "us-west-2",
        "cac1.pure.cloud": "ca-central-1",
        "sae1.pure.cloud": "sa-east-1",
        "mxc1.pure.cloud": "mx-central-1",
        "mypurecloud.ie": "eu-west-1",
        "euw2.pure.cloud": "eu-west-2",
        "mypurecloud.de": "eu-central-1",
        "euc2.pure.cloud": "eu-central-2",
        "mec1.pure.cloud": "me-central-1",
        "aps1.pure.cloud": "ap-south-1",
        "mypurecloud.jp": "ap-northeast-1",
        "apne2.pure.cloud": "ap-northeast-2",
        "apne3.pure.cloud": "ap-northeast-3",
        "mypurecloud.com.au": "ap-southeast-2",
        "apse1.pure.cloud": "ap-southeast-1",
    }
)


@dataclass(frozen=True)
class Endpoints:
    """Where the API and the token endpoint live; no trailing slash."""

    api_base_url: str
    login_base_url: str

    @property
    def token_url(self) -> str:
        return f"{self.login_base_url}/oauth/token"


def resolve_endpoints(
    region: str, api_base_url: str | None = None, login_base_url: str | None = None
) -> Endpoints:
    """The base URLs for `region`, each replaced by its override when one is given.

    The region is validated even when both URLs are overridden, so a typo in configuration fails at
    start-up in every environment, not only in the ones that talk to the real Genesys.
    """
    domain = region.strip().lower()
    if domain not in REGIONS:
        raise ValueError(f"unknown Genesys region {region!r}; valid regions: {', '.join(sorted(REGIONS))}")
    return Endpoints(
        api_base_url=_checked_override(api_base_url, "api_base_url")
        if api_base_url
        else f"https://api.{domain}",
        login_base_url=(
            _checked_override(login_base_url, "login_base_url")
            if login_base_url
            else f"https://login.{domain}"
        ),
    )


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _checked_override(url: str, name: str) -> str:
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if not host:
        raise ValueError(f"{name} must be an absolute URL with a host, got {url!r}")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in reprs and logs; refuse them without echoing the URL back.
        raise ValueError(f"{name} must not carry credentials")
    if parts.query or parts.fragment:
        raise ValueError(f"{name} must not have a query or fragment, got {url!r}")
    if parts.scheme == "https":
        pass
    elif parts.scheme == "http":
        if not is_loopback_host(host):
            raise ValueError(
                f"{name} may use http only on a loopback host (127.0.0.0/8, ::1, localhost), got {url!r}; "
                "use https"
            )
    else:
        raise ValueError(f"{name} must be https (or http on a loopback host), got {url!r}")
    return url.strip().rstrip("/")

"""URL fetching refuses what could reach our own network, before connecting anywhere."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from voxhub.errors import DownloadFailed, InvalidParameter
from voxhub.services.fetch import UrlFetcher, is_public_address


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # shared address space
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fd00:ec2::254", False),  # AWS metadata over IPv6
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def resolving(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.wav", "file:///etc/passwd", "gopher://x/", "http:///nohost"]
)
def test_only_http_and_https_urls(url: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        asyncio.run(UrlFetcher(resolver=resolving("93.184.216.34")).fetch(url))
    assert refused.value.param == "audio.url"
    assert refused.value.code == "invalid_parameter"


@pytest.mark.parametrize(
    "addresses",
    [("127.0.0.1",), ("10.0.0.7",), ("93.184.216.34", "169.254.169.254"), ("::ffff:10.0.0.1",)],
)
def test_a_host_resolving_to_any_private_address_is_refused(addresses: tuple[str, ...]) -> None:
    fetcher = UrlFetcher(resolver=resolving(*addresses))
    with pytest.raises(InvalidParameter) as refused:
        asyncio.run(fetcher.fetch("http://innocent.example/sample.wav"))
    assert "private" in refused.value.message
    assert refused.value.code == "invalid_parameter"


def test_an_unresolvable_host_is_a_download_failure() -> None:
    async def fail(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(DownloadFailed) as failed:
        asyncio.run(UrlFetcher(resolver=fail).fetch("https://nowhere.invalid/a.wav"))
    assert failed.value.code == "download_failed"

"""Fetching a file from a URL a client gave, without letting the client reach our network.

Only http and https. The host is resolved once per hop and every address it resolves to must be
public (not loopback, private, link-local, shared, reserved or multicast — which covers cloud
metadata addresses such as 169.254.169.254 — nor such an address mapped into IPv6), unless an
operator allowed its network. The connection goes to the address that was checked (the Host
header and TLS name stay the URL's host, so certificates are verified as usual), redirects are
followed by hand and each hop is checked again, and the body is cut off at the size limit while
it is read, within a time limit for the whole fetch. Proxies from the environment are ignored.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx2 as httpx

from voxhub.errors import DownloadFailed, InvalidParameter, PayloadTooLarge

__all__ = ["FetchLimits", "UrlFetcher", "is_public_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = 50 * 1024 * 1024
    timeout_seconds: float = 30.0
    max_redirects: int = 5


def is_public_address(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def _system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class UrlFetcher:
    def __init__(
        self,
        limits: FetchLimits = FetchLimits(),
        allowed_networks: Sequence[IPNetwork] = (),
        resolver: Resolver = _system_resolver,
        param: str = "audio.url",
    ) -> None:
        self._limits = limits
        self._allowed = tuple(allowed_networks)
        self._resolve = resolver
        self._param = param
        self._tls: ssl.SSLContext | None = None

    def _client(self) -> httpx.AsyncClient:
        """A client per request (each connects to its own checked address), sharing one TLS
        context: loading the CA store costs ~36 ms a client here, the client itself 0.4."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return httpx.AsyncClient(trust_env=False, follow_redirects=False, verify=self._tls)

    async def fetch(self, url: str) -> bytes:
        try:
            return await asyncio.wait_for(self._follow(url), self._limits.timeout_seconds)
        except TimeoutError as exc:
            raise DownloadFailed(
                f"The download did not finish within {self._limits.timeout_seconds:g} s.",
                param=self._param,
            ) from exc

    async def _follow(self, url: str) -> bytes:
        async with self._client() as client:
            for _ in range(self._limits.max_redirects + 1):
                body, location = await self._hop(client, url)
                if location is None:
                    return body
                url = urljoin(url, location)
        raise DownloadFailed(
            f"The URL redirected more than {self._limits.max_redirects} times.", param=self._param
        )

    async def _checked_address(self, host: str, port: int) -> IPAddress:
        found = await self._addresses(host, port)
        for address in found:
            if not (is_public_address(address) or any(address in n for n in self._allowed)):
                raise InvalidParameter(
                    "The URL points to a private, loopback, link-local or metadata address; "
                    "only public http(s) URLs can be fetched.",
                    param=self._param,
                )
        return found[0]

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        """An address literal as it is; a name through the resolver (every answer)."""
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        unresolved = DownloadFailed(f"The host {host!r} could not be resolved.", param=self._param)
        try:
            found = [
                ipaddress.ip_address(a.split("%", 1)[0]) for a in await self._resolve(host, port)
            ]
        except (OSError, ValueError) as exc:
            raise unresolved from exc
        if not found:
            raise unresolved
        return found

    async def check(self, url: str) -> None:
        """Raise InvalidParameter unless the URL is http(s) to addresses it may reach now."""
        async with self._client() as client:
            await self._request(client, "GET", url)

    async def _request(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Request:
        """A request to the checked address the URL's host resolves to (Host header and TLS
        name stay the URL's)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidParameter("The URL must be an http or https URL.", param=self._param)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = await self._checked_address(parts.hostname, port)
        literal = f"[{address}]" if address.version == 6 else str(address)
        target = parts._replace(netloc=f"{literal}:{port}").geturl()
        return client.build_request(
            method,
            target,
            content=content,
            headers={**(headers or {}), "Host": parts.netloc.rsplit("@", 1)[-1]},
            extensions={"sni_hostname": parts.hostname},
        )

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], keep_bytes: int = 512
    ) -> tuple[int, bytes]:
        """POST to the checked address within the time limit, following no redirect; the
        status and at most ``keep_bytes`` of the answer. Raises DownloadFailed when no
        answer came (refused, timed out) and InvalidParameter for a URL it may not reach."""
        try:
            return await asyncio.wait_for(
                self._post(url, body, headers, keep_bytes), self._limits.timeout_seconds
            )
        except TimeoutError as exc:
            raise DownloadFailed(
                f"No answer within {self._limits.timeout_seconds:g} s.", param=self._param
            ) from exc

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str], keep_bytes: int
    ) -> tuple[int, bytes]:
        async with self._client() as client:
            request = await self._request(client, "POST", url, body, headers)
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise DownloadFailed(
                    f"The URL could not be reached ({type(exc).__name__}).", param=self._param
                ) from exc
            try:
                kept = bytearray()
                async for chunk in response.aiter_raw():
                    kept += chunk
                    if len(kept) >= keep_bytes:
                        break
                return response.status_code, bytes(kept[:keep_bytes])
            except httpx.HTTPError:
                return response.status_code, b""
            finally:
                await response.aclose()

    async def _hop(self, client: httpx.AsyncClient, url: str) -> tuple[bytes, str | None]:
        request = await self._request(client, "GET", url)
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise DownloadFailed(
                f"The URL could not be fetched ({type(exc).__name__}).", param=self._param
            ) from exc
        try:
            if response.is_redirect and "location" in response.headers:
                return b"", response.headers["location"]
            if response.status_code != 200:
                raise DownloadFailed(
                    f"The URL answered HTTP {response.status_code}.", param=self._param
                )
            return await self._read(response), None
        finally:
            await response.aclose()

    async def _read(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._limits.max_bytes:
            raise self._too_large()
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > self._limits.max_bytes:
                    raise self._too_large()
        except httpx.HTTPError as exc:
            raise DownloadFailed("The download was interrupted.", param=self._param) from exc
        return bytes(body)

    def _too_large(self) -> PayloadTooLarge:
        megabytes = self._limits.max_bytes // (1024 * 1024)
        return PayloadTooLarge(
            f"The file at the URL is larger than {megabytes} MB.", param=self._param
        )

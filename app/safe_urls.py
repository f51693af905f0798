"""The two checks every user-supplied URL goes through here.

`check_public_url`: an address the server itself will call (a group robot, a browser's push service): HTTPS, a host
name or public IPv4 address (never an IPv6 literal, never user@), and every address it resolves to public: no
loopback, private, link-local, unique-local, shared, multicast, reserved or unspecified address. Decided after DNS
resolution, at every call (DNS may change between saving and sending). `allow_local` (tests only: a push service or
robot on 127.0.0.1) also accepts plain http to loopback addresses, and nothing else.

`safe_link`: a link that becomes a redirect or an href (announcements, the inbox's "open"): a path on this site
(or, where the caller allows it, an absolute http(s) URL); anything a browser could read as another host
(`//evil`, `/\\evil`, `/\\t/evil`, `/%09/evil`) or as a script (`javascript:`, `data:`) is None. Used on input
(refused there) and on output (replaced there)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import unquote, urlsplit


class RefusedURL(OSError):  # noqa: N818  (an OSError: refused inside a connection attempt, it surfaces as one)
    """`code`: "scheme", "host", "address" (not public) or "dns" (no answer: may be temporary)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


def resolve(host: str, port: int) -> list[str]:
    """Every address of `host` (the system's resolver; tests replace this function)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped or ip.sixtofour):
        ip = ip.ipv4_mapped or ip.sixtofour
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


def allowed_addresses(host: str, port: int, *, allow_local: bool = False, plain_http: bool = False) -> list[str]:
    """The addresses of `host` that may be called: all of them public (loopback too with `allow_local`), or
    RefusedURL. An IPv6 literal is refused before any lookup; plain http only ever reaches loopback."""
    host = (host or "").strip().rstrip(".").lower()
    if not host or ":" in host or "%" in host or any(ord(c) <= 32 or ord(c) == 127 for c in host):
        raise RefusedURL("host", "no host, or an IPv6 literal")
    try:
        host.encode("idna")
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError) as error:
        raise RefusedURL("dns", f"{host}: {type(error).__name__}") from None
    if not addresses:
        raise RefusedURL("dns", f"{host}: no address")
    for address in addresses:
        loopback = ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
        if allow_local and loopback:
            continue
        if plain_http or not is_public_address(address):
            raise RefusedURL("address", f"{host} is {address}")
    return addresses


def check_public_url(url: str, *, allow_local: bool = False, names_at_connect: bool = False) -> list[str]:
    """The one check of an address the server calls (see the module); returns the addresses it may connect to.
    `names_at_connect`: the caller's connection resolves host names through `allowed_addresses` itself (the push
    sender's resolver: the addresses checked are those connected to); here only the URL and an IP literal are
    checked, and [] is returned for a name."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise RefusedURL("host", "not a URL") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_local and scheme == "http"):
        raise RefusedURL("scheme", "https only")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc or "\\" in parts.netloc:
        raise RefusedURL("host", "user information in the address")
    host = parts.hostname or ""
    if names_at_connect and scheme == "https" and not _is_ip_literal(host):
        if not host or any(ord(c) <= 32 or ord(c) == 127 for c in host):
            raise RefusedURL("host", "no host")
        return []
    return allowed_addresses(host, port or (443 if scheme == "https" else 80), allow_local=allow_local,
                             plain_http=scheme == "http")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return ":" in host
    return True


def _controls(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 or c in "\\\u2028\u2029" for c in text)


def safe_link(link: str | None, *, absolute: bool = False) -> str | None:
    """`link` (stripped) when it is a path on this site ("/events/12"), or with `absolute` an http(s) URL with a
    host; else None. Checked as written and percent-decoded (a link is not a place to hide a tab or a backslash)."""
    link = (link or "").strip()
    if not link or len(link) > 500:
        return None
    decoded, previous = link, None
    for _ in range(3):  # what a lenient server or browser might decode before reading it
        previous, decoded = decoded, unquote(decoded)
        if decoded == previous:
            break
    for text in {link, decoded}:
        if _controls(text) or text.startswith("//") or text.strip() != text:
            return None
    if link.startswith("/"):
        return link
    if not absolute:
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if (parts.scheme.lower() in ("http", "https") and link[len(parts.scheme):].startswith("://") and parts.hostname
            and parts.username is None and "@" not in parts.netloc and ":" not in (parts.hostname or "")):
        return link
    return None

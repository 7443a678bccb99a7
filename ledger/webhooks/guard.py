"""Where a webhook may be sent: the one check of a receiver's address (SSRF guard).

`check_url` is called when a subscription is made (a refusal is a 400 naming `url`) and again
before every delivery (DNS can change between the two; a refusal is then a failed attempt
saying why). It refuses:

- any scheme but `https` (and `http` only where `LEDGER_WEBHOOKS_ALLOW_INSECURE` is on),
  and URLs with a user name or password in them;
- a host that does not resolve, or resolves to ANY address that is not public: loopback,
  private, link-local, multicast, reserved, unspecified, shared (100.64.0.0/10), documentation,
  IPv4-mapped or -translated forms of those, and cloud metadata addresses.

The delivery then connects to the address checked here (`Target.address`), never resolving
the name a second time, so a name that answers a public address to the check and a private
one to the connection (DNS rebinding) reaches nothing it should not. The original host name
still goes in the `Host` header and in TLS (SNI and the certificate's name).

`LEDGER_WEBHOOKS_ALLOW_INSECURE` (tests, local demos) allows `http` and every address.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# Metadata services of the cloud providers (most are link-local or private already; listed so
# the intent survives any change in what `ipaddress` calls global).
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean…
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT


class Refused(Exception):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to say (`host`, `path`)."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the IP address checked, connected to as is


def insecure_allowed() -> bool:
    return bool(settings.LEDGER_WEBHOOKS_ALLOW_INSECURE)


def forbidden(address: str) -> str | None:
    """Why `address` may not receive webhooks, or None when it is a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id says nothing here
    if ip.version == 6:
        embedded = ip.ipv4_mapped or (ip.sixtofour) or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
            embedded = ipaddress.ip_address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = forbidden(str(embedded))
            if reason:
                return reason
    if ip in METADATA:
        return "a cloud metadata address"
    for reason, test in (
        ("a loopback address", ip.is_loopback),
        ("an unspecified address", ip.is_unspecified),
        ("a link-local address", ip.is_link_local),
        ("a multicast address", ip.is_multicast),
        ("a shared (carrier-grade NAT) address", ip.version == 4 and ip in SHARED),
        ("a reserved address", ip.is_reserved),
        ("a private address", ip.is_private),
    ):
        if test:
            return reason
    if not ip.is_global:
        return "not a public address"
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str) -> Target:
    """The URL's target, checked; raises `Refused` saying why it may not receive webhooks."""
    insecure = insecure_allowed()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise Refused(f"Not a valid URL: {error}.") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if insecure else ("https",)
    if scheme not in allowed:
        raise Refused("The URL must start with https://." if not insecure else "Use http(s).")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Refused("The URL may not hold a user name or password.")
    host = parts.hostname
    if not host:
        raise Refused("The URL needs a host.")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise Refused(f"The host {host} cannot be resolved.") from None
    if not addresses:
        raise Refused(f"The host {host} cannot be resolved.")
    if not insecure:
        for address in addresses:
            reason = forbidden(address)
            if reason:
                raise Refused(f"The host {host} resolves to {address}, {reason}.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])

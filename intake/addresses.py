"""Which network addresses image intake may connect to: public internet addresses only.

A member's URL must not make the bot reach its own machine, the operator's network or a
cloud provider's metadata service, whatever the name resolves to; addresses of one kind
hidden inside another (IPv4-mapped, 6to4, Teredo and NAT64 IPv6 addresses) are judged by the
IPv4 address they carry. IPv6's deprecated site-local range (fec0::/10), which Python's
``ipaddress`` counts as global, is refused like a private one.
"""

from __future__ import annotations

import ipaddress

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud providers' instance metadata services (AWS, GCP and Azure on 169.254.169.254, AWS
#: over IPv6, Alibaba, Oracle): named in refusals; each is also outside the public ranges.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text)
    for text in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
#: IPv6 addresses that carry an IPv4 address in their last 32 bits (RFC 6052).
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_kind(address: Address, *, allow_loopback: bool = False) -> str | None:
    """What kind of non-public address ``address`` is (``"private"``, ``"cloud metadata"``…),
    or ``None`` for a public one, which intake may connect to. ``allow_loopback`` (tests
    only) lets loopback addresses through."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        kind = address_kind(embedded, allow_loopback=allow_loopback)
        if kind is not None:
            return kind
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_loopback:
        return None if allow_loopback else "loopback"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_link_local:
        return "link-local"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "site-local"  # fec0::/10, deprecated yet still routed inside some networks
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return None


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None

"""Evidence of a consent event, reduced to what proves it without identifying the person more
than needed: the network of the IP address, a shortened user agent, references to documents."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Final

from jagadata.logs import personal_data_kind, redact

USER_AGENT_MAX: Final = 200
_IPV4: Final = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
IPV4_PREFIX: Final = 24
IPV6_PREFIX: Final = 48


def anonymised_ip(value: str) -> str:
    """The address's network: IPv4 /24 (203.0.113.0/24), IPv6 /48; raise ValueError if it is
    not an IP address."""
    quad = _IPV4.match(value.strip())
    if quad and all(int(part) <= 255 and (part == "0" or part[0] != "0") for part in quad.groups()):
        return f"{quad[1]}.{quad[2]}.{quad[3]}.0/{IPV4_PREFIX}"
    address = ipaddress.ip_address(value.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def shortened_user_agent(value: str) -> str:
    """At most 200 characters, with any email, phone number or NIK replaced by a token."""
    return redact(" ".join(value.split()))[:USER_AGENT_MAX]


def stored_evidence(
    *, ip: str | None, user_agent: str | None, scan_reference: str | None, reference: str | None
) -> dict[str, Any]:
    """The evidence as the ledger keeps it; raise ValueError(field) for an unusable value."""
    evidence: dict[str, Any] = {}
    if ip:
        try:
            evidence["ip_network"] = anonymised_ip(ip)
        except ValueError:
            raise ValueError("ip") from None
    if user_agent:
        evidence["user_agent"] = shortened_user_agent(user_agent)
    for name, value in (("scan_reference", scan_reference), ("reference", reference)):
        if value:
            text = " ".join(value.split())
            if personal_data_kind(text):
                raise ValueError(name)
            evidence[name] = text
    return evidence

"""The rules, one module per theme of UU PDP; importing this package registers them all."""

from jagadata.checks.model import RULES
from jagadata.checks.rules import (
    basis,
    breach,
    children,
    datastores,
    operations,
    purposes,
    recipients,
    retention,
    rights,
    risk,
    texts,
)

_in_code_order = dict(sorted(RULES.items()))
RULES.clear()
RULES.update(_in_code_order)

__all__ = [
    "basis",
    "breach",
    "children",
    "datastores",
    "operations",
    "purposes",
    "recipients",
    "retention",
    "rights",
    "risk",
    "texts",
]

"""Consent that can be proven (UU PDP Art. 20(2)(a), 21-25, 40): a hash-chained ledger of
consent events per organisation, the current state it leads to, and signed receipts."""

# The opt-in tables live in their own module; importing it with the package registers them
# wherever the ledger's tables are known (migrations, `load_all_models`).
from jagadata.consent import optin_models as optin_models

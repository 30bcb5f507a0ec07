"""Consent that can be proven (UU PDP Art. 20(2)(a), 21-25, 40): a hash-chained ledger of
consent events per organisation, the current state it leads to, and signed receipts."""

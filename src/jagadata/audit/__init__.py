"""The append-only, hash-chained audit trail: evidence of what was done (UU PDP Art. 47)."""

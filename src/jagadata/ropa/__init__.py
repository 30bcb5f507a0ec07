"""The record of processing activities (UU PDP Art. 31) and the DPIA workspace (Art. 34)."""

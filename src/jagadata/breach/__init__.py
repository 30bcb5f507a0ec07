"""The breach register: failures of personal data protection (kegagalan Pelindungan Data
Pribadi) and the written notices UU PDP Art. 46 asks for within 3 x 24 hours."""

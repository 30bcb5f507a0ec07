"""The cookie banner: one script per organisation (`/o/{org}/banner.js`) built from the manifest
version in force, and the public endpoint that records each visitor's choice in the
organisation's consent ledger (UU PDP Art. 20(2)(a), 22, 24; withdrawal Art. 9, 40)."""

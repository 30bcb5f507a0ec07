"""Accounts: people who use the console, their roles per organisation, sessions with two-step
sign-in (argon2id password, then TOTP), API keys for organisations' systems, and rate limits."""

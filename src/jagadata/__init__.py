"""jagadata: keep the promises of a privacy policy under Indonesia's UU PDP (Law 27/2022)."""

__version__ = "0.1.0"

"""Organisations (controllers) and the versions of their manifest and published policy."""

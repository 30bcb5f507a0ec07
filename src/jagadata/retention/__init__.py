"""Retention sweeps: rows past the period the manifest promises are deleted or anonymised."""

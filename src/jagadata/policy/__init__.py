"""The published policy: rendering per language, versions, diffs, material-change detection."""

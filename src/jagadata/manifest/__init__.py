"""The privacy manifest: schema, YAML loading with located errors, JSON Schema export."""

from jagadata.manifest.errors import ManifestError, ManifestInvalid
from jagadata.manifest.loader import LoadedManifest, SourceMap, load_manifest, load_manifest_text
from jagadata.manifest.schema import Manifest

__all__ = [
    "LoadedManifest",
    "Manifest",
    "ManifestError",
    "ManifestInvalid",
    "SourceMap",
    "load_manifest",
    "load_manifest_text",
]

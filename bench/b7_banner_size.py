"""B7: the cookie banner's weight on every page (target: at most 8 KB gzip).

    .venv/bin/python bench/b7_banner_size.py

Publishes La Gelato Academy's manifest twice in a scratch SQLite database — as it is (id, en,
fr) and as an Indonesian-only variant — serves the real app with uvicorn, fetches
`/o/{org}/banner.js` over HTTP and measures it gzipped (level 6, what reverse proxies and CDNs
commonly use): the script, its stylesheet and the Indonesian texts, and the same with all three
languages. The lower bound is the gzip of the same texts and stylesheet alone, without any
script: what any banner showing this content must send.

It checks its own answer first: the file fetched is the banner (JavaScript that parses when
Node.js is present, carrying the organisation, every cookie category of the manifest, the
Indonesian texts and the stylesheet). Prints one line per figure and writes
bench/results/b7.json.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import GELATO_MANIFEST, line, prepare, scratch_database, server, write_results

BUDGET = 8 * 1024
LEVEL = 6
INDONESIAN_ONLY = "b7-toko-id"


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=LEVEL, mtime=0))


def publish_indonesian_only(database_url: str) -> None:
    from jagadata.db import make_engine, session_factory
    from jagadata.manifest.loader import load_manifest_text
    from jagadata.orgs.service import add_organisation

    text = GELATO_MANIFEST.read_text(encoding="utf-8")
    text = text.replace("slug: la-gelato-academy", f"slug: {INDONESIAN_ONLY}", 1)
    text = text.replace("languages: [id, en, fr]", "languages: [id]", 1)
    loaded = load_manifest_text(text, file="b7.yaml")
    assert loaded.manifest.languages == ["id"], "the variant must publish Indonesian only"
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        add_organisation(session=session, loaded=loaded)
    engine.dispose()


def config_of(script: str) -> dict[str, Any]:
    found = re.search(r"var C = (\{.*?\}), K = ", script)
    if not found:
        raise SystemExit("B7: the file served has no banner configuration")
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def verify(script: str, slug: str, languages: list[str]) -> dict[str, Any]:
    """Refuse to report a size unless the file really is this organisation's banner."""
    from jagadata.i18n import gettext
    from jagadata.manifest.loader import load_manifest
    from jagadata.manifest.schema import CookieCategory

    config = config_of(script)
    manifest = load_manifest(GELATO_MANIFEST).manifest
    expected = [k.value for k in CookieCategory if any(c.category is k for c in manifest.cookies)]
    problems = []
    if config["o"] != slug:
        problems.append(f"organisation {config['o']!r}, expected {slug!r}")
    if [c["k"] for c in config["c"]] != expected:
        problems.append(f"categories {[c['k'] for c in config['c']]}, expected {expected}")
    if config["l"] != languages or sorted(config["t"]) != sorted(languages):
        problems.append(f"languages {config['l']}, expected {languages}")
    if config["t"]["id"]["accept"] != gettext("id", "Accept all", "banner"):
        problems.append("the Indonesian texts are missing")
    if ".jd-btn{" not in config["css"] or "function decide(" not in script:
        problems.append("the stylesheet or the script is missing")
    node = shutil.which("node")
    if node:
        with tempfile.NamedTemporaryFile("w", suffix=".js", encoding="utf-8") as handle:
            handle.write(script)
            handle.flush()
            checked = subprocess.run([node, "--check", handle.name], capture_output=True)
        if checked.returncode:
            problems.append("the script does not parse: " + checked.stderr.decode()[:200])
    if problems:
        raise SystemExit("B7: the file served is not the banner: " + "; ".join(problems))
    return config


def content_only(config: dict[str, Any]) -> bytes:
    """The texts and stylesheet of the banner, without the script: the lower bound."""
    texts = [config["css"], config["p"]]
    for lang in config["l"]:
        texts += list(config["t"][lang].values())
        for category in config["c"]:
            texts += [category["n"][lang], category["d"][lang], category["i"][lang]]
    return "\n".join(texts).encode("utf-8")


def main() -> None:
    with scratch_database("sqlite") as url, tempfile.TemporaryDirectory() as data:
        prepare(url, Path(data))
        publish_indonesian_only(url)
        environment = {**os.environ, "JAGADATA_DATABASE_URL": url, "JAGADATA_DATA_DIR": data}
        with server("_common:consent_app", environment) as base, httpx.Client(timeout=30) as web:
            served = {}
            for slug in (INDONESIAN_ONLY, "la-gelato-academy"):
                response = web.get(f"{base}/o/{slug}/banner.js")
                response.raise_for_status()
                if not response.headers["content-type"].startswith("text/javascript"):
                    raise SystemExit(
                        f"B7: {slug}'s banner is served as {response.headers['content-type']}"
                    )
                served[slug] = response.content
    indonesian = served[INDONESIAN_ONLY]
    everything = served["la-gelato-academy"]
    config = verify(indonesian.decode("utf-8"), INDONESIAN_ONLY, ["id"])
    verify(everything.decode("utf-8"), "la-gelato-academy", ["id", "en", "fr"])
    size, all_languages = gz(indonesian), gz(everything)
    floor = gz(content_only(config))
    print(line("b7_banner_gzip", size, "bytes", size / BUDGET, "budget_8kb"))
    print(line("b7_banner_gzip_lower_bound", floor, "bytes", floor / BUDGET, "budget_8kb"))
    print(line("b7_banner_gzip_id_en_fr", all_languages, "bytes", all_languages / BUDGET,
               "budget_8kb"))  # fmt: skip
    path = write_results(
        "b7",
        {
            "gzip_level": LEVEL,
            "budget_bytes": BUDGET,
            "banner_id_bytes": len(indonesian),
            "banner_id_gzip_bytes": size,
            "lower_bound_gzip_bytes": floor,
            "banner_id_en_fr_bytes": len(everything),
            "banner_id_en_fr_gzip_bytes": all_languages,
            "within_budget": size <= BUDGET and all_languages <= BUDGET,
        },
    )
    print(f"written {path.relative_to(Path(__file__).resolve().parent.parent)}")


if __name__ == "__main__":
    main()

"""Every package an installation of voxhub runs, with its licence, as the README lists it.

Walks the installed dependency tree from `voxhub` (the default install, then each scale-out
extra) using the packages' own metadata, so the list is what pip installed, not what someone
remembered. `python scripts/licences.py` prints the README's table; `--check README.md` exits 1
when the README's table differs (tests/unit/test_licences.py runs that check, so the list cannot
drift from the dependencies).
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

BEGIN = "<!-- licences:begin (scripts/licences.py writes this table) -->"
END = "<!-- licences:end -->"
EXTRAS = ("design", "postgres", "redis", "s3")

# Packages whose metadata names no licence in a machine-readable field; read from their own
# LICENSE files or project pages. Keyed by canonical name.
KNOWN = {
    "espeakng-loader": "GPL-3.0 (the eSpeak NG library it carries)",
    "python-dateutil": "Apache-2.0 OR BSD-3-Clause",
    "pyworld-prebuilt": "MIT",
}
_CLASSIFIER_SPDX = {
    "Apache Software License": "Apache-2.0",
    "MIT License": "MIT",
    "BSD License": "BSD",
    "ISC License (ISCL)": "ISC",
    "Python Software Foundation License": "PSF-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0",
    "GNU Library or Lesser General Public License (LGPL)": "LGPL",
    "The Unlicense (Unlicense)": "Unlicense",
    "zlib/libpng License": "Zlib",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def licence_of(dist: metadata.Distribution) -> str:
    name = canonical(dist.metadata["Name"])
    if name in KNOWN:
        return KNOWN[name]
    expression = dist.metadata.get("License-Expression")
    if expression:
        return str(expression)
    text = (dist.metadata.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 60 and text.upper() != "UNKNOWN":
        return text
    classifiers = [
        c.rsplit(" :: ", 1)[-1]
        for c in dist.metadata.get_all("Classifier") or []
        if c.startswith("License :: ")
    ]
    named = [_CLASSIFIER_SPDX.get(c, c) for c in classifiers]
    return " OR ".join(named) if named else "unknown"


def _requirements(dist: metadata.Distribution, extras: set[str]) -> list[Requirement]:
    wanted = []
    for line in dist.requires or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras or {""}):
            wanted.append(requirement)
    return wanted


def closure(root: str, extras: set[str]) -> dict[str, metadata.Distribution]:
    """Every installed distribution `root[extras]` needs, by canonical name (root excluded)."""
    found: dict[str, metadata.Distribution] = {}
    pending = [(root, extras)]
    while pending:
        name, wanted_extras = pending.pop()
        dist = metadata.distribution(name)
        for requirement in _requirements(dist, wanted_extras):
            key = canonical(requirement.name)
            if key in found or key == canonical(root):
                continue
            try:
                found[key] = metadata.distribution(requirement.name)
            except metadata.PackageNotFoundError:
                # a platform-specific requirement this machine does not install, or what a
                # --no-deps install leaves out (the design extra's sentence-transformers)
                continue
            pending.append((requirement.name, set(requirement.extras)))
    return found


def table() -> str:
    default = closure("voxhub", set())
    rows = ["| package | licence | installed by |", "|---|---|---|"]
    for key in sorted(default):
        rows.append(f"| `{key}` | {licence_of(default[key])} | default |")
    by_extra: dict[str, list[str]] = {}
    found: dict[str, metadata.Distribution] = {}
    for extra in EXTRAS:
        for key, dist in closure("voxhub", {extra}).items():
            if key not in default:
                by_extra.setdefault(key, []).append(f"`{extra}`")
                found[key] = dist
    for key in sorted(found):
        rows.append(f"| `{key}` | {licence_of(found[key])} | {', '.join(by_extra[key])} extra |")
    return "\n".join(rows)


def readme_table(readme: str) -> str:
    start = readme.index(BEGIN) + len(BEGIN)
    return readme[start : readme.index(END)].strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", type=Path, help="exit 1 if this README's table differs")
    parser.add_argument("--write", type=Path, help="rewrite this README's table in place")
    args = parser.parse_args()
    current = table()
    if args.check:
        return 0 if readme_table(args.check.read_text()) == current else 1
    if args.write:
        readme = args.write.read_text()
        before, rest = readme.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        args.write.write_text(f"{before}{BEGIN}\n{current}\n{END}{after}")
        return 0
    print(current)
    return 0


if __name__ == "__main__":
    sys.exit(main())

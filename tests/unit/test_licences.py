"""The README's dependency licence table is what the installed dependency tree says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_lists_every_runtime_dependency_with_its_licence() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "licences.py"), "--check", str(ROOT / "README.md")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, (
        "README's licence table differs from the installed dependencies: "
        "run `python scripts/licences.py --write README.md`"
    )


def test_no_dependency_has_an_unknown_licence() -> None:
    printed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "licences.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "| unknown |" not in printed


def test_voxhub_is_gpl_3_or_later() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'license = "GPL-3.0-or-later"' in pyproject
    assert "GNU GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text()[:200]

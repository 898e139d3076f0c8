"""Imports point down the layers, and every module says what it exports."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import voxhub

SRC = Path(voxhub.__file__).parent
# A layer may import only what is listed for it (besides itself and the shared top modules).
# api -> services -> jobs, store, storage; services hand work to workers, which run audio and
# engines in worker processes and never reach back up.
ALLOWED = {
    "api": {"services", "domain", "errors", "ids", "observability", "metrics"},
    "services": {
        "jobs",
        "store",
        "storage",
        "workers",
        "audio",
        "engines",
        "domain",
        "errors",
        "ids",
        "webhooks",  # the public signing module, which receivers use too
        "metrics",  # a leaf module (speech real-time factor, clone durations)
    },
    "jobs": {"store", "domain", "errors", "ids", "metrics"},  # job runs' outcomes
    "workers": {"audio", "engines", "domain", "errors", "metrics"},  # pools' size, restarts
    "store": {"domain", "errors", "ids"},
    "storage": {"domain", "errors"},
    "audio": {"engines", "domain", "errors"},
    "engines": {"domain", "errors"},
    # The SDK and the user commands: HTTP clients of the API, nothing of the server but the
    # stdlib-only signing module (so it could ship on its own).
    "client": {"webhooks"},
}


def voxhub_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        names = (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        found |= {name.split(".")[1] for name in names if name.startswith("voxhub.")}
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_point_down(layer: str) -> None:
    for path in (SRC / layer).rglob("*.py"):
        imported = voxhub_imports(path) - {layer}
        assert imported <= ALLOWED[layer], f"{path.relative_to(SRC)} imports {imported}"


def test_nothing_below_the_composition_root_imports_the_api() -> None:
    for path in SRC.rglob("*.py"):
        if path.name not in ("server.py", "cli.py") and "api" not in path.relative_to(SRC).parts:
            assert "api" not in voxhub_imports(path), path


def test_only_the_cli_imports_the_client() -> None:
    for path in SRC.rglob("*.py"):
        if path.name != "cli.py" and "client" not in path.relative_to(SRC).parts:
            assert "client" not in voxhub_imports(path), path


def test_every_module_declares_all_and_exports_exist() -> None:
    for module_info in pkgutil.walk_packages(voxhub.__path__, "voxhub."):
        if ".migrations" in module_info.name or module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{module_info.name} has no __all__"
        for name in exported:
            assert hasattr(module, name), f"{module_info.name}.__all__ names missing {name}"

"""The dependency rules of docs/architecture.md, enforced on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
OURS = ("nova_hyperv", "hyperv_emulator", "vhdfile")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package.replace(".", "/")).rglob("*.py"))


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in _modules(package):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        # The rules layer is pure: nothing of ours, nothing of Nova's.
        (
            "nova_hyperv.rules",
            (
                "hyperv_emulator",
                "vhdfile",
                "nova",
                "nova_hyperv.cim",
                "nova_hyperv.hyperv",
                "nova_hyperv.driver",
                "nova_hyperv.cli",
            ),
        ),
        # The Hyper-V client speaks only the CimSession seam, and knows nothing of Nova.
        ("nova_hyperv.hyperv", ("hyperv_emulator", "nova", "nova_hyperv.ops",
                                "nova_hyperv.driver", "vhdfile")),
        # The seam knows neither Nova nor the layers above it.
        ("nova_hyperv.cim", ("nova", "nova_hyperv.hyperv", "nova_hyperv.ops",
                             "nova_hyperv.driver", "nova_hyperv.rules")),
        ("hyperv_emulator", ("nova_hyperv",)),
        ("vhdfile", ("nova_hyperv", "hyperv_emulator")),
    ],
)
def test_package_respects_its_layer(package: str, forbidden: tuple[str, ...]) -> None:
    assert _violations(package, forbidden) == []


def test_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("import hyperv_emulator.engine\nfrom vhdfile import x\n")
    assert _imports(bad) == {"hyperv_emulator.engine", "vhdfile"}

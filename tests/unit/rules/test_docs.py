"""docs/usage.md lists every error code, each with the meaning CODES gives it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nova_hyperv.rules import CODES

USAGE = Path(__file__).resolve().parents[3] / "docs" / "usage.md"


@pytest.mark.parametrize("code", sorted(CODES))
def test_usage_doc_lists_the_code(code: str) -> None:
    assert f"| `{code}` | {CODES[code]} |" in USAGE.read_text(encoding="utf-8")

"""scripts/guide-examples answers every example of the usage guide as expected."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_guide_example_gives_its_expected_answer() -> None:
    result = subprocess.run([str(ROOT / "scripts" / "guide-examples")], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("every example gave the expected answer")
    # One section per example, each showing its command and an answer.
    sections = result.stdout.split("\n=== ")[1:]
    assert len(sections) >= 25
    for section in sections[1:]:
        assert "$ nova-hyperv plan " in section
        assert "\nVM instance-" in section or "\nrefused [" in section

"""The dispatcher imports only the subcommand group that is asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nova_hyperv.cli import GROUPS, build_parser


def _loaded_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from nova_hyperv.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(' '.join(m for m in sys.modules if m.startswith(('nova_hyperv', 'vhdfile',"
        " 'hyperv_emulator'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return set(out.split()[-1000:])


def test_one_group_loads_without_the_others() -> None:
    loaded = _loaded_after(["image", "--help"])
    assert "nova_hyperv.cli.image" in loaded
    assert "nova_hyperv.cli.plan" not in loaded and "nova_hyperv.rules" not in loaded


def test_top_level_help_lists_every_present_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for group in ("plan", "image"):
        assert group in text and group in GROUPS

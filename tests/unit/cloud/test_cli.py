"""`nova-hyperv cloud` refuses bad settings before it starts anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from nova_hyperv.cli import build_parser, main


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--hosts", "0"], "hosts=0"),
     (["--port-base", "70000"], "port_base=70000"),
     (["--profile", "ws1999"], "neither a preset"),
     (["--compute-driver", "nova.virt.fake.FakeDriver"], "relative to nova.virt")],
)
def test_bad_settings_exit_2_naming_them(args: list[str], message: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture) -> None:
    state = tmp_path / "state"
    assert main(["cloud", "--state-dir", str(state), *args]) == 2
    assert message in capsys.readouterr().err
    assert not state.exists()  # nothing was started, nothing left behind


def test_defaults() -> None:
    args = build_parser().parse_args(["cloud"])
    assert (args.port_base, args.hosts, args.profile) == (18700, 1, "ws2022")
    assert args.compute_driver == "nova_hyperv_cloud.PersistentFakeDriver"
    assert args.state_dir.endswith("nova-hyperv/cloud")

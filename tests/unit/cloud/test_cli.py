"""`nova-hyperv cloud` refuses bad settings before it starts anything; its defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from nova_hyperv.cli import build_parser, main


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--hosts", "0"], "hosts=0"),
     (["--port-base", "70000"], "port_base=70000"),
     (["--profile", "ws2022,ws1999"], "'ws1999' is neither a preset"),
     (["--profile", "ws2022,,ws2016"], "none of them empty")],
)
def test_bad_settings_exit_2_naming_them(args: list[str], message: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture) -> None:
    state = tmp_path / "state"
    assert main(["cloud", "--state-dir", str(state), *args]) == 2
    assert message in capsys.readouterr().err
    assert not state.exists()  # nothing was started, nothing left behind


def test_defaults() -> None:
    args = build_parser().parse_args(["cloud"])
    assert (args.port_base, args.hosts, args.profile) == (18700, None, "ws2022-dda,ws2016")
    assert args.state_dir.endswith("nova-hyperv/cloud")
    assert args.handler.__name__ == "_run"


def test_tour_is_an_action_of_cloud() -> None:
    args = build_parser().parse_args(["cloud", "tour", "--state-dir", "/x", "--timeout", "9"])
    assert (args.handler.__name__, args.tour_state_dir, args.timeout) == ("_tour", "/x", 9.0)

"""The tour's pieces that need no cloud: its features, output, openrc."""

from __future__ import annotations

import socket
from pathlib import Path

from nova_hyperv.cloud import samples, tour
from nova_hyperv.cloud.statedir import StateDir


def test_every_sample_flavor_and_image_is_booted_by_a_showcase() -> None:
    assert {c.flavor for c in tour.SHOWCASES} == {f.name for f in samples.FLAVORS}
    assert {c.image for c in tour.SHOWCASES} == {i.name for i in samples.IMAGES}
    assert len({c.key for c in tour.SHOWCASES + tour.ACTIONS}) == \
        len(tour.SHOWCASES) + len(tour.ACTIONS)


def test_a_method_left_to_novas_base_class_is_lacking() -> None:
    assert tour.driver_lacks("get_vnc_console")  # Hyper-V has no VNC console
    assert not tour.driver_lacks("spawn")
    assert {a.method for a in tour.ACTIONS} >= {"attach_volume", "attach_interface"}


def test_rendering_marks_pending_and_failed_steps() -> None:
    outcomes = [tour.Outcome("gen1", "Generation 1 VM", "shown", ["server x", "  VM y"]),
                tour.Outcome("nic", "vNIC hot plug", "pending", ["not yet"]),
                tour.Outcome("pci", "PCI", "failed", ["nova: no host"])]
    assert tour.render(outcomes[0]) == "\n== Generation 1 VM (gen1)\n   server x\n     VM y"
    assert tour.render(outcomes[1]).endswith("   PENDING: not yet")
    assert tour.render(outcomes[2]).endswith("   FAILED: nova: no host")
    assert tour.summary(outcomes) == "1 feature(s) shown, 1 pending (nic), 1 failed (pci)"


def test_openrc_is_read_back_and_a_silent_cloud_is_not_running(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    assert tour.running_cloud(state) is None  # no openrc at all
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    state.etc.mkdir(parents=True)
    (state.etc / "openrc-admin").write_text(
        f"export OS_AUTH_URL=http://127.0.0.1:{port}/v3\nexport OS_PASSWORD='a b'\n")
    assert tour.read_openrc(state.etc / "openrc-admin") == {
        "OS_AUTH_URL": f"http://127.0.0.1:{port}/v3", "OS_PASSWORD": "a b"}
    assert tour.running_cloud(state) is None  # nothing answers there

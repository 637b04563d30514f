"""The tour's pieces that need no cloud: its features, output, openrc."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nova_hyperv.cloud import samples, tour
from nova_hyperv.cloud.statedir import StateDir


def test_every_sample_flavor_and_image_is_booted_by_a_showcase() -> None:
    assert {c.flavor for c in tour.SHOWCASES} == {f.name for f in samples.FLAVORS}
    assert {c.image for c in tour.SHOWCASES} == {i.name for i in samples.IMAGES}
    assert len({c.key for c in tour.SHOWCASES + tour.ACTIONS}) == \
        len(tour.SHOWCASES) + len(tour.ACTIONS)


def test_rendering_marks_failed_steps_and_sums_up() -> None:
    outcomes = [tour.Outcome("gen1", "Generation 1 VM", "shown", ["server x", "  VM y"]),
                tour.Outcome("nic", "vNIC hot plug", "shown", ["port p"]),
                tour.Outcome("pci", "PCI", "failed", ["nova: no host"])]
    assert tour.render(outcomes[0]) == "\n== Generation 1 VM (gen1)\n   server x\n     VM y"
    assert tour.render(outcomes[2]).endswith("   FAILED: nova: no host")
    assert tour.summary(outcomes) == "2 feature(s) shown, 1 failed (pci)"
    assert tour.summary(outcomes[:2]) == "2 feature(s) shown"


def test_every_action_boots_a_sample_image_and_flavor() -> None:
    assert {a.image for a in tour.ACTIONS} <= {i.name for i in samples.IMAGES}
    assert {a.flavor for a in tour.ACTIONS} | {tour.RESIZED_FLAVOR} <= {
        f.name for f in samples.FLAVORS}
    resized = next(f for f in samples.FLAVORS if f.name == tour.RESIZED_FLAVOR)
    smallest = next(f for f in samples.FLAVORS if f.name == "hv.tiny")
    assert (resized.vcpus, resized.ram_mb, resized.disk_gb) > (
        smallest.vcpus, smallest.ram_mb, smallest.disk_gb)


@pytest.mark.parametrize(("size", "text"), [(1 << 30, "1 GiB"), (5 << 29, "2.5 GiB"),
                                            (1018 << 20, "1018 MiB")])
def test_disk_sizes_read_as_gib_or_mib(size: int, text: str) -> None:
    assert tour.size_text(size) == text


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

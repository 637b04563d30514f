"""Serial ports: each property defaults to port 1; read/write wins a shared port."""

from __future__ import annotations

import pytest

from .builders import UUID, plan


@pytest.mark.parametrize(
    ("props", "ports"),
    [
        ({}, {1: "rw"}),
        ({"logging_serial_port": "2"}, {1: "rw", 2: "ro"}),
        ({"interactive_serial_port": "2"}, {1: "ro", 2: "rw"}),
        ({"logging_serial_port": "1", "interactive_serial_port": "1"}, {1: "rw"}),
        ({"logging_serial_port": "1", "interactive_serial_port": "2"}, {1: "ro", 2: "rw"}),
        ({"logging_serial_port": " 2 "}, {1: "rw", 2: "ro"}),
    ],
)
def test_ports_and_modes(props: dict[str, object], ports: dict[int, str]) -> None:
    vm = plan(props=props)
    assert {p.port: p.mode for p in vm.serial_ports} == ports


def test_both_on_port_2_leaves_port_1_to_the_interactive_default_no_more() -> None:
    # logging 2 and interactive 2: port 2 is rw; nothing else asks for port 1.
    vm = plan(props={"logging_serial_port": "2", "interactive_serial_port": "2"})
    assert [(p.port, p.mode) for p in vm.serial_ports] == [(2, "rw")]


def test_each_port_is_a_named_pipe_of_the_instance() -> None:
    vm = plan(props={"logging_serial_port": "2"})
    assert [p.pipe for p in vm.serial_ports] == [
        f"\\\\.\\pipe\\{UUID}_rw", f"\\\\.\\pipe\\{UUID}_ro"]

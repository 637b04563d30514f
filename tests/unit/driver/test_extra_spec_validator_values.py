"""Hyper-V flavor extra specs, through nova's own validator registry (entry points)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nova import exception
from nova.api.validation.extra_specs import validators

from nova_hyperv.api import extra_specs


@pytest.mark.parametrize(
    ("name", "value"),
    [
        *[("os:resolution", r) for r in ("1024x768", "1280x1024", "1600x1200", "1920x1200",
                                          "2560x1600", "3840x2160")],
        *[("os:monitors", str(n)) for n in range(1, 9)],
        *[("os:vram", str(v)) for v in (64, 128, 256, 512, 1024)],
        ("hw:cpu_features", "vmx"),
        ("hw:cpu_features", "VMX"),
        ("hw:cpu_features", "sse4.2, vmx ,avx512f"),
        ("hw:cpu_features", " pdpe1gb "),
    ],
)
def test_nova_accepts(name: str, value: str) -> None:
    validators.validate(name, value)


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("os:resolution", "1920x1080", "1024x768, 1280x1024, 1600x1200, 1920x1200"),
        ("os:resolution", "1920X1200", "3840x2160"),
        ("os:monitors", "0", "from 1 to 8"),
        ("os:monitors", "9", "from 1 to 8"),
        ("os:monitors", "two", "from 1 to 8"),
        ("os:vram", "100", "64, 128, 256, 512, 1024"),
        ("os:vram", "2048", "64, 128, 256, 512, 1024"),
        ("os:vram", "1GB", "64, 128, 256, 512, 1024"),
        ("hw:cpu_features", "", "comma-separated list of CPU feature names"),
        ("hw:cpu_features", "vmx,,sse", "comma-separated list of CPU feature names"),
        ("hw:cpu_features", "vmx;sse", "comma-separated list of CPU feature names"),
        ("hw:cpu_features", "+vmx", "comma-separated list of CPU feature names"),
    ],
)
def test_nova_refuses_naming_spec_value_and_what_is_allowed(
    name: str, value: str, allowed: str
) -> None:
    with pytest.raises(exception.ValidationError) as err:
        validators.validate(name, value)
    message = str(err.value)
    assert f"{name}={value!r}" in message
    assert allowed in message


def test_novas_own_validators_of_the_same_namespaces_still_apply() -> None:
    # Ours are merged into nova's registry: os:secure_boot keeps nova's check, and an
    # unknown key in the os / hw namespaces is still refused.
    validators.validate("os:secure_boot", "required")
    for name, value in [("os:secure_boot", "optional"), ("os:nosuch", "1"),
                        ("hw:cpu_feature", "vmx")]:
        with pytest.raises(exception.ValidationError):
            validators.validate(name, value)


def test_registered_through_the_entry_point() -> None:
    for validator in extra_specs.register():
        assert validators.VALIDATORS[validator.name] is validator


def test_a_validator_without_a_check_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="os:x"):
        extra_specs.HyperVExtraSpecValidator(name="os:x", description="", value={"type": str})


FEATURE = st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,11}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(names=st.lists(FEATURE, min_size=1, max_size=6),
       pads=st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=12, max_size=12))
def test_cpu_feature_names_ignore_case_and_spaces(names: list[str], pads: list[str]) -> None:
    value = ",".join(f"{pads[2 * i]}{n}{pads[2 * i + 1]}" for i, n in enumerate(names))
    assert extra_specs.cpu_feature_names(value) == [n.lower() for n in names]
    validators.validate("hw:cpu_features", value)

"""Secure Boot: the guide's precedence (design brief section 4), os_type and templates."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import SECURE_BOOT_TEMPLATES

from .builders import GEN2, WS2012R2, WS2016, plan, refuse

WIN = {**GEN2, "os_type": "windows"}


@pytest.mark.parametrize(
    ("image", "flavor", "enabled"),
    [
        (None, None, False),
        ("disabled", None, False),
        ("optional", None, False),  # optional only means "capable"
        ("required", None, True),
        ("optional", "required", True),
        ("required", "required", True),
        ("required", "disabled", False),  # the flavor wins
        ("optional", "disabled", False),
        (None, "disabled", False),
    ],
)
def test_flavor_takes_precedence_over_image(
    image: str | None, flavor: str | None, enabled: bool
) -> None:
    props = dict(WIN) | ({"os_secure_boot": image} if image else {})
    specs = {"os:secure_boot": flavor} if flavor else {}
    assert plan(props=props, specs=specs).secure_boot.enabled is enabled


@pytest.mark.parametrize("image", [None, "disabled"])
def test_flavor_requiring_it_on_an_image_that_is_not_capable_is_refused(
    image: str | None
) -> None:
    props = dict(WIN) | ({"os_secure_boot": image} if image else {})
    error = refuse(props=props, specs={"os:secure_boot": "required"})
    assert error.code == "secure-boot-image-not-capable"
    assert "would run but not be usable" in error.message


def test_windows_guests_get_the_microsoft_windows_template() -> None:
    sb = plan(props={**WIN, "os_secure_boot": "required"}).secure_boot
    assert (sb.template, sb.template_id) == (
        "MicrosoftWindows", "1734C6E8-3154-4DDA-BA5F-A874CC483422")


def test_linux_guests_get_the_uefi_ca_template_on_2016() -> None:
    sb = plan(WS2016, props={**GEN2, "os_type": "linux", "os_secure_boot": "required"}
              ).secure_boot
    assert (sb.template, sb.template_id) == (
        "MicrosoftUEFICertificateAuthority", "272E7447-90A4-4563-A4B9-8E4AB00526CE")
    assert SECURE_BOOT_TEMPLATES[sb.template] == sb.template_id


def test_windows_guests_may_use_secure_boot_on_2012r2() -> None:
    assert plan(WS2012R2, props={**WIN, "os_secure_boot": "required"}).secure_boot.enabled


def test_os_type_case_is_normalised_as_nova_does() -> None:
    sb = plan(props={**GEN2, "os_type": "Windows", "os_secure_boot": "required"}).secure_boot
    assert sb.template == "MicrosoftWindows"


def test_os_type_is_not_needed_while_secure_boot_is_off() -> None:
    assert not plan(props={"os_type": "freebsd"}).secure_boot.enabled


def test_values_may_carry_spaces() -> None:
    assert plan(props={**WIN, "os_secure_boot": " required "}).secure_boot.enabled

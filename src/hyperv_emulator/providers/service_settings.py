"""ModifyServiceSettings: the host's Hyper-V settings (Set-VMHost), NUMA spanning first.

The embedded `Msvm_VirtualSystemManagementServiceSettingData` is matched by
InstanceID; NULL properties stay as they are. What may change is what Set-VMHost
changes (NUMA spanning, default paths, the MAC range, enhanced session mode, the
owner); the rest is Hyper-V's own. The method runs as a job (4096, JobType 4
"Modifying Service Settings"). `NumaSpanningEnabled` takes effect for VMs started
afterwards; VMs already running keep where their memory is (a real host needs its
management service and those VMs restarted before they are placed the new way).
"""

from __future__ import annotations

import re

from hyperv_emulator.instances import Instance
from hyperv_emulator.jobs import start_job
from hyperv_emulator.providers.base import (
    INVALID_PARAMETER,
    JOB_STARTED,
    Args,
    Ctx,
    Refused,
    method,
)
from hyperv_emulator.providers.checks import check_values
from hyperv_emulator.providers.devices import changed_values
from hyperv_emulator.providers.resources import VSMS, decode_all

SETTINGS = "Msvm_VirtualSystemManagementServiceSettingData"
CHANGEABLE = frozenset({
    "numaspanningenabled", "defaultexternaldataroot", "defaultvirtualharddiskpath",
    "minimummacaddress", "maximummacaddress", "enhancedsessionmodeenabled",
    "primaryownername", "primaryownercontact", "defaultvirtualharddiskcachingmode",
})
_MAC = re.compile(r"^[0-9A-Fa-f]{12}$")


@method(VSMS, "ModifyServiceSettings")
def modify_service_settings(ctx: Ctx, service: Instance | None, args: Args) -> int:
    given = decode_all(ctx, (args.get("SettingData"),) if args.given("SettingData") else None,
                       "SettingData")
    if not given or not given[0].is_a(SETTINGS):
        raise Refused(INVALID_PARAMETER, f"SettingData must be an embedded {SETTINGS}")
    requested = given[0]
    stored = ctx.query(SETTINGS)
    if not stored or str(requested.get("InstanceID", "")).lower() != str(
            stored[0]["InstanceID"]).lower():
        raise Refused(INVALID_PARAMETER,
                      f"SettingData.InstanceID {requested.get('InstanceID')!r} is not this "
                      f"host's settings ({stored[0]['InstanceID'] if stored else 'none'}); "
                      "read them, change them and send them back")
    current = stored[0]
    changed = changed_values(current, requested)
    for name in sorted(changed - CHANGEABLE):
        allowed = sorted(p.name for n, p in current.cls.props.items() if n in CHANGEABLE)
        raise Refused(INVALID_PARAMETER,
                      f"{SETTINGS}.{current.cls.props[name].name} cannot be changed (from "
                      f"{current[name]!r} to {requested[name]!r}); changeable: "
                      f"{', '.join(allowed)}")
    updated = current.copy()
    for name in changed:
        updated.raw[name] = requested.raw[name]
    for name in ("MinimumMacAddress", "MaximumMacAddress"):
        value = updated.get(name)
        if value is not None and not _MAC.match(str(value)):
            raise Refused(INVALID_PARAMETER, f"{SETTINGS}.{name} {value!r} is not 12 hex digits")
    if int(updated.get("MinimumMacAddress") or "0", 16) > int(
            updated.get("MaximumMacAddress") or "F" * 12, 16):
        raise Refused(INVALID_PARAMETER, "MinimumMacAddress is above MaximumMacAddress")
    check_values(updated, changed)
    ctx.save(updated)
    start_job(ctx, 4, [])
    return JOB_STARTED

"""MSFT_SmbMapping: the host's connections to SMB shares (New-SmbMapping / Remove-SmbMapping).

A share exists when the host's network offers it (`HostStorage.add_smb_share`); mapping
one records the connection, and a mapping with a drive letter (`LocalPath = "X:"`) makes
`X:\\...` paths name files on the share. UNC paths resolve with or without a mapping
(the host's account can reach every share of its network: credentials are recorded, not
checked). Failures are CIM errors carrying the Win32 error, as the SMB provider reports.
"""

from __future__ import annotations

import re

from hyperv_emulator.errors import WBEM_E_FAILED, WBEM_E_INVALID_PARAMETER, CimError
from hyperv_emulator.hostpaths import PathError, share_key
from hyperv_emulator.instances import Instance
from hyperv_emulator.providers.base import COMPLETED, Args, Ctx, method
from hyperv_emulator.providers.files import SMB_DRIVES, SMB_SHARES
from hyperv_emulator.schema.classes.smb_ns import NS_SMB

_LETTER = re.compile(r"^([A-Za-z]):$")


@method("MSFT_SmbMapping", "Create")
def create_mapping(ctx: Ctx, cls: Instance | None, args: Args) -> int:
    remote = args.get("RemotePath")
    try:
        key = share_key(remote or "")
    except PathError as exc:
        raise CimError(WBEM_E_INVALID_PARAMETER, f"RemotePath: {exc}") from None
    if key not in ctx.txn.meta(SMB_SHARES, {}):
        raise CimError(WBEM_E_FAILED, f"The network name cannot be found: {remote} "
                                      "(ERROR_BAD_NET_NAME, 67)")
    local = str(args.get("LocalPath") or "")
    drives = ctx.txn.meta(SMB_DRIVES, {})
    if local:
        letter = _LETTER.match(local)
        if letter is None:
            raise CimError(WBEM_E_INVALID_PARAMETER, f"LocalPath {local!r} must be a drive "
                                                     "letter such as X: (or empty)")
        if letter.group(1).lower() in (*drives, "c"):
            raise CimError(WBEM_E_FAILED, f"The local device name {local} is already in use "
                                          "(ERROR_ALREADY_ASSIGNED, 85)")
    existing = [m for m in ctx.query("MSFT_SmbMapping", NS_SMB)
                if str(m["RemotePath"]).casefold() == key and m["LocalPath"] == local]
    mapping = existing[0] if existing else ctx.create(ctx.new(
        "MSFT_SmbMapping", NS_SMB, LocalPath=local, RemotePath=remote, Status=0,
        UserName=args.get("UserName"), ShareType=0, RequireIntegrity=False,
        RequirePrivacy=False))
    if local:
        drives[local[0].lower()] = remote
        ctx.txn.set_meta(SMB_DRIVES, drives)
    ctx.output("CreatedMapping", mapping)
    return COMPLETED


@method("MSFT_SmbMapping", "Remove")
def remove_mapping(ctx: Ctx, mapping: Instance | None, args: Args) -> int:
    assert mapping is not None
    local = str(mapping.get("LocalPath") or "")
    if local:
        drives = ctx.txn.meta(SMB_DRIVES, {})
        drives.pop(local[0].lower(), None)
        ctx.txn.set_meta(SMB_DRIVES, drives)
    ctx.delete(mapping)
    return COMPLETED

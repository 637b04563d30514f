"""An instance's ports on the host: plugging them into the vSwitch, hot attach / detach.

What the driver takes from Nova's network model (nova 34, `nova.network.model.VIF`):
the port id (the NIC's name), `address` (its MAC), `type` (`hyperv` or `ovs`; the
driver itself connects both, nothing else is a Hyper-V port) and `details["vlan"]`
(VIF_DETAILS_VLAN: the access VLAN a mechanism driver gives the binding). Port
security is not in the model: `details["port_filter"]` only says whether the binding
backend filters traffic, which is the same for every port of a backend, so the driver
asks Neutron for the ports' `port_security_enabled` (one list call per operation, with
nova's admin client). A port with port security off gets MAC spoofing allowed (the
usage guide's nested virtualization section: nested VMs' traffic leaves with their own
MACs). When Neutron cannot be asked, MAC spoofing is left as it is and a warning says
so.

Hot plug follows the rules (`rules.require_nic_hot_plug`): a VM that is off takes any
change; a running one only on a 2016+ host and only if it is generation 2. A refusal
is InterfaceAttachFailed / InterfaceDetachFailed carrying the reason. Nova's compute
manager replaces that exception with its own (no reason) before the API sees it, so
the reason is also recorded as an event of the instance action
(`hyperv_attach_interface` / `hyperv_detach_interface`, shown with its details from
microversion 2.84) and logged.
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
from collections.abc import Iterable, Mapping
from typing import Any

from nova import context as nova_context
from nova import exception, objects
from nova.network import model as network_model
from nova.network import neutron

from nova_hyperv import rules
from nova_hyperv.cim import CimError
from nova_hyperv.hyperv import HyperVError, Vm, VmNotFound, VmState
from nova_hyperv.hyperv.network import Port
from nova_hyperv.ops.errors import nova_errors
from nova_hyperv.ops.host import HostOps
from nova_hyperv.ops.metadata import with_nic, without_nic

__all__ = ["SUPPORTED_VIF_TYPES", "NetworkOps", "check_vif_types", "port_security",
           "rules_vif"]

LOG = logging.getLogger(__name__)

SUPPORTED_VIF_TYPES = (network_model.VIF_TYPE_HYPERV, network_model.VIF_TYPE_OVS)


def unsupported_vif(vif: Mapping[str, Any]) -> str | None:
    """Why the driver cannot connect this port (None: it can)."""
    if vif.get("type") in SUPPORTED_VIF_TYPES:
        return None
    return (f"port {vif.get('id')} has VIF type {vif.get('type')!r}; the Hyper-V driver "
            f"connects only {' and '.join(SUPPORTED_VIF_TYPES)} ports to its vSwitch")


def check_vif_types(network_info: Iterable[Any] | None,
                    error: type[exception.NovaException] = exception.InvalidInput) -> None:
    for vif in network_info or []:
        reason = unsupported_vif(vif)
        if reason is not None:
            if error is exception.InvalidInput:
                raise exception.InvalidInput(reason=reason)
            raise error(message=reason)


def port_security(context: Any, vifs: Iterable[Mapping[str, Any]]) -> dict[str, bool]:
    """port_security_enabled of each port, from Neutron (ports it does not answer for
    are missing from the result)."""
    ids = [str(vif["id"]) for vif in vifs]
    if not ids:
        return {}
    try:
        client = neutron.get_client(context or nova_context.get_admin_context(), admin=True)
        found = client.list_ports(id=ids, fields=["id", "port_security_enabled"])["ports"]
    except Exception as exc:  # Neutron's trouble must not break the instance's life
        LOG.warning("could not read port security of ports %s from Neutron (%s); their "
                    "MAC spoofing is left as it is", ", ".join(ids), exc)
        return {}
    return {str(p["id"]): bool(p.get("port_security_enabled", True)) for p in found}


def rules_vif(vif: Mapping[str, Any], *, tag: str | None = None,
              security: bool = True) -> rules.Vif:
    details = vif.get("details") or {}
    return rules.Vif(id=str(vif["id"]), mac=str(vif["address"]), tag=tag,
                     vlan=details.get(network_model.VIF_DETAILS_VLAN), port_security=security)


def _record(context: Any, instance: Any, event: str, error: Exception, host: str) -> None:
    """Add `event` with the error's message to the request's instance action."""
    try:
        objects.InstanceActionEvent.event_start(context, instance.uuid, event,
                                                want_result=False, host=host)
        objects.InstanceActionEvent.event_finish_with_failure(
            context, instance.uuid, event, exc_val=error,
            exc_tb="".join(traceback.format_exception_only(error)), want_result=False)
    except Exception as exc:  # no action for this request (a direct call), or the DB
        LOG.debug("could not record %s for %s: %s", event, instance.uuid, exc)


class NetworkOps:
    def __init__(self, host: HostOps, conf: Any) -> None:
        self.host = host
        self.conf = conf

    @property
    def client(self) -> Any:
        return self.host.client

    def switch(self) -> Any:
        return self.client.switch(self.conf.hyperv.vswitch_name)

    def _find(self, instance: Any) -> Vm:
        return self.client.find_vm(instance.name, instance.uuid)

    def _hot_plug_allowed(self, vm: Vm) -> None:
        if vm.state == VmState.OFF:
            return
        rules.require_nic_hot_plug(True, self.client.generation(vm), self.host.info().facts)

    # -- plug / unplug (the VM exists; its NICs exist) ------------------------------

    def plug(self, instance: Any, network_info: Any, context: Any = None) -> None:
        """Connect the instance's NICs to the vSwitch with their VLANs and port security
        (only what differs from the host changes)."""
        vifs = list(network_info or [])
        check_vif_types(vifs, exception.VirtualInterfacePlugException)
        if not vifs:
            return
        with nova_errors(instance):
            try:
                vm = self._find(instance)
            except VmNotFound:
                LOG.warning("plug_vifs: no VM for %s on this host", instance.uuid)
                return
            ports = self.client.ports(vm)
            security = port_security(context, vifs)
            switch = self.switch()
            for index, vif in enumerate(vifs):
                port = ports.get(str(vif["id"]).lower())
                if port is None:
                    LOG.warning("plug_vifs: VM %s has no network adapter for port %s",
                                vm.name, vif["id"])
                    continue
                nic = rules.plan_nic(rules_vif(vif, security=security.get(vif["id"], True)),
                                     index)
                if vif["id"] not in security:
                    nic = dataclasses.replace(nic, mac_spoofing=port.mac_spoofing)
                if self.client.connect(vm, port, nic, switch):
                    LOG.info("connected port %s of %s to vSwitch %s (VLAN %s, MAC "
                             "spoofing %s)", nic.name, instance.uuid, switch.name,
                             nic.vlan or "none", "on" if nic.mac_spoofing else "off")

    def unplug(self, instance: Any, network_info: Any) -> None:
        """Take the instance's NICs off the vSwitch (the NICs stay with the VM)."""
        vifs = list(network_info or [])
        if not vifs:
            return
        with nova_errors(instance):
            try:
                vm = self._find(instance)
            except VmNotFound:
                return
            ports = self.client.ports(vm)
            for vif in vifs:
                port = ports.get(str(vif["id"]).lower())
                if port is not None:
                    self.client.disconnect(port)

    # -- hot attach / detach ---------------------------------------------------------

    def attach(self, context: Any, instance: Any, vif: Mapping[str, Any]) -> None:
        try:
            reason = unsupported_vif(vif)
            if reason is not None:
                raise exception.InvalidInput(reason=reason)
            vm = self._find(instance)
            self._hot_plug_allowed(vm)
            tag = _vif_tag(context, vif)
            security = port_security(context, [vif])
            nic = rules.plan_nic(rules_vif(vif, tag=tag,
                                           security=security.get(vif["id"], True)))
            self.client.add_nic(vm, nic, self.switch())
        except (rules.RuleViolation, exception.InvalidInput, VmNotFound, HyperVError,
                CimError) as error:
            failure = exception.InterfaceAttachFailed(
                message=f"Failed to attach port {vif.get('id')} to instance "
                        f"{instance.uuid}: {_reason(error)}", instance_uuid=instance.uuid)
            _record(context, instance, "hyperv_attach_interface", failure, self.conf.host)
            raise failure from error
        instance.device_metadata = with_nic(instance.device_metadata, nic)
        LOG.info("attached port %s to %s (VM %s)", nic.name, instance.uuid, vm.state.name)

    def detach(self, context: Any, instance: Any, vif: Mapping[str, Any]) -> None:
        try:
            vm = self._find(instance)
            port: Port | None = self.client.find_nic(vm, str(vif["id"]))
            if port is not None:
                self._hot_plug_allowed(vm)
                self.client.remove_nic(port)
            else:
                LOG.info("detach: VM %s has no network adapter for port %s", vm.name,
                         vif["id"])
        except (rules.RuleViolation, VmNotFound, HyperVError, CimError) as error:
            failure = exception.InterfaceDetachFailed(
                message=f"Failed to detach port {vif.get('id')} from instance "
                        f"{instance.uuid}: {_reason(error)}", instance_uuid=instance.uuid)
            _record(context, instance, "hyperv_detach_interface", failure, self.conf.host)
            raise failure from error
        instance.device_metadata = without_nic(instance.device_metadata, str(vif["address"]))


def _reason(error: Exception) -> str:
    if isinstance(error, rules.RuleViolation):
        return f"{error.reason} (allowed: {error.allowed}) [{error.code}]"
    if isinstance(error, exception.NovaException):
        return error.format_message()
    return str(error)


def _vif_tag(context: Any, vif: Mapping[str, Any]) -> str | None:
    """The device tag the attach request gave (nova keeps it on the VirtualInterface)."""
    if context is None:
        return None
    found = objects.VirtualInterface.get_by_uuid(context, vif["id"])
    return found.tag if found is not None else None

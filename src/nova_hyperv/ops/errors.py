"""Our errors -> Nova's exceptions, so that what a user caused shows as a server fault
that names the cause.

Rule violations are the user's request, not the host's trouble, so they must not be
rescheduled: nova's build path turns ImageUnacceptable, FlavorDiskTooSmall and
InvalidInput into BuildAbortException with the exception's message as the fault, while
anything else (InstanceUnacceptable included) is rescheduled and, once the hosts run
out, shows only "Exhausted all hosts". Hence:

- an image property or the image file at fault -> ImageUnacceptable (names the property)
- root disk too small for the image -> FlavorDiskSmallerThanImage, with our message
  (which says the smallest root_gb that works)
- anything else the rules refuse (flavor, config, NICs, disks, what this host lacks)
  -> InvalidInput
- a feature the plan needs and this driver does not apply yet -> InvalidInput too
- the VM is gone -> InstanceNotFound; other Hyper-V failures -> NovaException (the
  host's trouble: rescheduled, with the message in the log).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from nova import exception
from nova.objects import instance as instance_obj

from nova_hyperv import rules
from nova_hyperv.cim import CimError
from nova_hyperv.hyperv import HyperVError, VmNotFound
from nova_hyperv.ops.images import UnsupportedImageFile

__all__ = ["converted", "fault_text", "nova_errors", "translate", "violation_to_nova"]

F = TypeVar("F", bound=Callable[..., Any])


def fault_text(violation: rules.RuleViolation) -> str:
    """The violation with what to change first: nova keeps 255 characters of a fault
    message (after its own "Build of instance ... aborted: " prefix)."""
    where = f"{violation.source} {violation.field}" if violation.source else violation.field
    shown = "(not set)" if violation.value is None else repr(violation.value)
    return (f"{where} = {shown}: allowed {violation.allowed.rstrip('.')}. "
            f"{violation.reason} [{violation.code}]")


def violation_to_nova(violation: rules.RuleViolation, instance: Any,
                      image_id: str | None) -> exception.NovaException:
    text = fault_text(violation)
    if violation.code == "root-disk-too-small":
        flavor = getattr(instance, "flavor", None)
        return exception.FlavorDiskSmallerThanImage(
            message=text, flavor_size=(getattr(flavor, "root_gb", 0) or 0) << 30,
            image_size=0)
    if violation.source.startswith("image"):
        return exception.ImageUnacceptable(image_id=image_id or "(none)", reason=text)
    return exception.InvalidInput(reason=text)


def translate(error: BaseException, instance: Any = None,
              image_id: str | None = None) -> BaseException:
    """The Nova exception for one of our errors (others are returned unchanged)."""
    uuid = getattr(instance, "uuid", None)
    if isinstance(error, rules.RuleViolation):
        return violation_to_nova(error, instance, image_id)
    if isinstance(error, UnsupportedImageFile):
        return exception.ImageUnacceptable(image_id=error.image_id, reason=error.reason)
    if isinstance(error, VmNotFound):
        return exception.InstanceNotFound(instance_id=uuid or error.name)
    if isinstance(error, (HyperVError, CimError)):
        return exception.NovaException(message=str(error))
    return error


@contextlib.contextmanager
def nova_errors(instance: Any = None, image_id: str | None = None) -> Iterator[None]:
    try:
        yield
    except (rules.RuleViolation, UnsupportedImageFile, HyperVError, CimError) as exc:
        raise translate(exc, instance, image_id) from exc


def converted(method: F) -> F:
    """Driver methods raise Nova's exceptions, never ours (compute-hyperv did the same
    with its convert_exceptions decorator), and their CIM round trips are counted under
    the method's name (`driver._host.counting`)."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        instance = kwargs.get("instance")
        if instance is None:
            instance = next((a for a in args if isinstance(a, instance_obj.Instance)), None)
        with self._host.counting(method.__name__), nova_errors(instance):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]

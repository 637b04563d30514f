"""Declarations many classes share: return-code sets and the inherited-method overrides.

The real MOF redeclares RequestStateChange, Reset, StartService and StopService on most
Msvm_ devices and services (to narrow their return codes); naming them once keeps the
class modules about what differs.
"""

from hyperv_emulator.schema.model import CODES, IN, JOB, Method

# Hyper-V's vendor-style methods: 0, or a failure 32768..32778, or 4096 with a job.
VENDOR = CODES(0, 4096, (32768, 32778))
# ... and 32779 "file not found" (image, planned-system and replication methods).
VENDOR_FILE = CODES(0, 4096, (32768, 32779))
# Vendor-style methods that never start a job.
VENDOR_SYNC = CODES(0, (32768, 32778))

# DMTF-style methods. The MOF allows any vendor code (32768..65535); Hyper-V's
# are 32768..32779, which providers may return synchronously.
DMTF_CREATE = CODES(0, 1, 2, 3, 4, 4096, (32768, 32779))  # ... 4 invalid parameter
DMTF_REMOVE = CODES(0, 1, 2, 3, 4, 5, 4096, (32768, 32779))  # ... 5 invalid state
DMTF_MODIFY = CODES(0, 1, 2, 3, 4, 5, 6, 4096, (32768, 32779))  # ... 6 incompatible
DMTF_QUERY = CODES(0, 1, 2, (32768, 32779))  # no job: not supported or failed

# A device's own RequestStateChange and Reset: 0 done, 1 not supported.
DEVICE = CODES(0, 1)

DEVICE_REQUEST_STATE_CHANGE = Method(
    "RequestStateChange",
    (IN("RequestedState", "uint16"), JOB, IN("TimeoutPeriod", "datetime")),
    return_codes=DEVICE,
)
DEVICE_RESET = Method("Reset", return_codes=DEVICE)
START_SERVICE = Method("StartService", return_codes=DEVICE)
STOP_SERVICE = Method("StopService", return_codes=DEVICE)

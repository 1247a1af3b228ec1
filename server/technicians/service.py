from __future__ import annotations

import msgspec

from server.errors import NotFound
from server.ids import hash_token, new_id, new_token
from server.store import Row, Tx
from server.store.paging import Page, each, paginate
from server.technicians import store
from server.technicians.types import CreateTechnician, Device, EnrolDevice, EnrolledDevice, Technician
from server.web.state import DeviceIdentity

DEVICE_TOKEN_PREFIX = "fdt"  # noqa: S105 - a prefix, not a secret


def may_be_device_token(token: str) -> bool:
    """Whether `token` has a device token's shape, so worth looking up: a guess without it
    costs no read of the store."""
    return token.startswith(f"{DEVICE_TOKEN_PREFIX}_") and len(token) <= 200


def to_technician(row: Row) -> Technician:
    return Technician(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        last_sync_at=row["last_sync_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def to_device(row: Row) -> Device:
    return Device(
        id=row["id"],
        technician_id=row["technician_id"],
        label=row["label"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def create(tx: Tx, data: CreateTechnician) -> Technician:
    technician_id = new_id("tech")
    store.insert(tx, technician_id, data.name, data.phone)
    return get(tx, technician_id)


def get(tx: Tx, technician_id: str) -> Technician:
    row = store.get(tx, technician_id)
    if row is None:
        raise NotFound(f"no technician {technician_id}")
    return to_technician(row)


def list_page(tx: Tx, after: int, limit: int) -> Page[Technician]:
    return paginate(store.page(tx, after, limit), limit, each(to_technician))


def enrol_device(tx: Tx, technician_id: str, data: EnrolDevice) -> EnrolledDevice:
    get(tx, technician_id)
    device_id = new_id("dev")
    token = new_token(DEVICE_TOKEN_PREFIX)
    store.insert_device(tx, device_id, technician_id, data.label, hash_token(token))
    return EnrolledDevice(id=device_id, technician_id=technician_id, label=data.label, token=token, created_at=tx.now)


def without_token(enrolled: EnrolledDevice) -> EnrolledDevice:
    """The enrolment as it may be stored: a replay answers with `token: null`."""
    return msgspec.structs.replace(enrolled, token=None)


def devices_page(tx: Tx, technician_id: str, after: int, limit: int) -> Page[Device]:
    get(tx, technician_id)
    return paginate(store.devices_of(tx, technician_id, after, limit), limit, each(to_device))


def device_for_token(tx: Tx, token_hash: str) -> DeviceIdentity | None:
    """Whose device a token is (the web layer's device-token auth asks this)."""
    row = store.active_device_by_token(tx, token_hash)
    return None if row is None else DeviceIdentity(device_id=row["id"], technician_id=row["technician_id"])


def revoke_device(tx: Tx, device_id: str) -> None:
    """Revoking twice is not an error: the token stays dead."""
    if store.get_device(tx, device_id) is None:
        raise NotFound(f"no device {device_id}")
    store.revoke_device(tx, device_id)

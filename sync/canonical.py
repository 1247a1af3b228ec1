"""Canonical JSON and content hashes (contract §8): what a customer approved, written so that
anyone can work the hash out again, byte for byte, from the same content. UTF-8 JSON with keys
sorted by code point, no whitespace, non-ASCII kept as is; the hash is its SHA-256 in hex.

Shared by the server (estimates, approvals of added work) and the device, which hashes the lines
a customer approves in person so the server can tell they are still the lines it has. The
technician app's `canonical.js` is this module ported; a test holds them to the same bytes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def approval_lines(lines: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The lines a customer approves, as the hash takes them: `{uid, name, quantity,
    unitPriceMoney}`, sorted by uid."""
    taken = [
        {
            "uid": line["uid"],
            "name": line["name"],
            "quantity": line["quantity"],
            "unitPriceMoney": {
                "amount": line["unitPriceMoney"]["amount"],
                "currency": line["unitPriceMoney"]["currency"],
            },
        }
        for line in lines
    ]
    return sorted(taken, key=lambda line: line["uid"])


def lines_hash(lines: Iterable[Mapping[str, Any]]) -> str:
    """The `contentHash` of an approval of these lines."""
    return content_hash(approval_lines(lines))

"""Twilio's request signatures, checked and made with the library's own validator."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))

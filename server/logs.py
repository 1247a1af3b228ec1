"""No secret in a log line (contract §1): the token of a pay, invoice, estimate or approval link, a
device token, a webhook signing secret and the office key are the credentials of whoever holds
them, and a log is read by more people than should pay, approve, sync or sign as someone else.

`flint serve` puts `Redact` on every handler once logging is set up (uvicorn's access log
included), so a line is cleaned whoever wrote it: a request line (`GET /pay/<token>`), an error
naming its path, a text body quoting its link, a traceback."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# `/pay/<token>`, `/invoices/<token>`, `/estimates/<token>`, `/approvals/<token>` and `/cards/<token>` as the
# customer reaches them; the office API's `/v1/invoices/<id>` names an id, not a credential, and stays.
# A token is URL-safe base64; the match stops at what cannot be part of one.
_LINK = re.compile(r"(?<!/v1)/(pay|invoices|estimates|approvals|cards)/[^\s/?#\"'<>;,.]+")
_DEVICE_TOKEN = re.compile(r"\bfdt_[A-Za-z0-9_-]{6,}")
_WEBHOOK_SECRET = re.compile(r"\bwhsec_[A-Za-z0-9+/=]{6,}")
MASK = "…"
MIN_SECRET = 8  # a literal secret shorter than this would mask ordinary words


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    text = _LINK.sub(lambda m: f"/{m.group(1)}/{MASK}", text)
    text = _DEVICE_TOKEN.sub(f"fdt_{MASK}", text)
    text = _WEBHOOK_SECRET.sub(f"whsec_{MASK}", text)
    for secret in secrets:
        if len(secret) >= MIN_SECRET and secret in text:
            text = text.replace(secret, MASK)
    return text


class Redact(logging.Filter):
    """Cleans each record before a handler formats it. The arguments are cleaned one by one, so
    formatters that take them apart (uvicorn's access log) still work."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg, self.secrets)
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: self._clean(value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True

    def _clean(self, value: object) -> object:
        if isinstance(value, str):
            return redact(value, self.secrets)
        if isinstance(value, bytes | int | float | bool) or value is None:
            return value
        text = str(value)  # an exception or a URL object, as `%s` would print it
        cleaned = redact(text, self.secrets)
        return value if cleaned == text else cleaned


def install(secrets: Iterable[str] = ()) -> Redact:
    """Put one `Redact` on every handler configured now (the root's and each named logger's)."""
    redactor = Redact(secrets)
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            if redactor not in handler.filters:
                handler.addFilter(redactor)
    return redactor

"""The card form every customer page shares (`cardNumber, expMonth, expYear, cvc, postalCode`),
checked as a customer would want it checked: ASCII digits only, each mistake named."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from server.errors import FieldError, InvalidRequest
from server.payments.processor import CardDetails, luhn_valid

ECHOED = ("expMonth", "expYear", "postalCode")  # kept in the form after a mistake; never the number or code


def parse_card(form: Mapping[str, str], today: dt.date) -> CardDetails:
    """The card form's fields, checked as a customer would want them checked, or a 400 listing each."""
    errors: list[FieldError] = []
    number = "".join(form.get("cardNumber", "").split()).replace("-", "")
    if not number:
        errors.append(FieldError("cardNumber", "Enter the card number."))
    elif not luhn_valid(number):
        errors.append(FieldError("cardNumber", "That card number is not valid. Check the digits."))
    month = _int(form.get("expMonth", ""))
    year = _int(form.get("expYear", ""))
    if year is not None and year < 100:
        year += 2000
    if month is None or not 1 <= month <= 12:
        errors.append(FieldError("expMonth", "Enter the expiry month, 1 to 12."))
    if year is None or not 2000 <= year <= 2100:
        errors.append(FieldError("expYear", "Enter the expiry year."))
    elif month is not None and 1 <= month <= 12 and (year, month) < (today.year, today.month):
        errors.append(FieldError("expYear", "This card has expired."))
    cvc = form.get("cvc", "").strip()
    if not (cvc.isascii() and cvc.isdigit() and 3 <= len(cvc) <= 4):
        errors.append(FieldError("cvc", "Enter the 3 or 4 digit security code."))
    postal = form.get("postalCode", "").strip()
    if not 3 <= len(postal) <= 10 or not postal.isprintable():
        errors.append(FieldError("postalCode", "Enter the billing postal code."))
    if errors:
        raise InvalidRequest("check the card details", errors)
    assert month is not None and year is not None
    return CardDetails(number=number, exp_month=month, exp_year=year, cvc=cvc, postal_code=postal)


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None

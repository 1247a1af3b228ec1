"""Input limits shared by the server's API and the sync protocol (contract §1): lengths, the
characters text may hold, active currencies, amounts. One definition, so a device and the
server refuse the same things.

Patterns end in `\\Z`, not `$`: `$` also matches before a final newline, which would let
"Maria\\n" through as a name."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

MAX_AMOUNT = 999_999_999_999
MAX_ID = 64  # ids and tokens, also in a path

# Names, ids and codes hold no control characters; free text may hold newlines and tabs.
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*\Z"
TEXT_CHARACTERS = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*\Z"
E164 = r"^\+[1-9][0-9]{6,14}\Z"

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_CONTROL)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=TEXT_CHARACTERS)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID, pattern=NO_CONTROL)]
Uid = Annotated[
    str, msgspec.Meta(min_length=1, max_length=MAX_ID, pattern=NO_CONTROL, description="A client-made id (UUID).")
]
Phone = Annotated[str, msgspec.Meta(pattern=E164, description="E.164, e.g. +15551234567.")]
Amount = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT, description="Minor units, e.g. cents.")]
PositiveAmount = Annotated[int, msgspec.Meta(ge=1, le=MAX_AMOUNT, description="Minor units, more than zero.")]

# Active ISO 4217 currencies that money can be paid in (no funds codes, metals or test codes).
Currency = Literal[
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP",
    "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD",
    "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK",
    "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
    "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD",
    "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF",
    "XPF", "YER", "ZAR", "ZMW", "ZWG",
]  # fmt: skip

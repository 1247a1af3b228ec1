"""Stripe (contract §10), through the official `stripe` library, as a `Processor`.

Card numbers never reach Flint: a page starts a PaymentIntent or a SetupIntent here
(`start_charge`, `start_setup`) and Stripe.js confirms it in the customer's browser; saved cards
are charged off-session (`charge_saved`). Each call carries Flint's attempt id as Stripe's
idempotency key and in the object's metadata (`flint_attempt`, `flint_setup`, `flint_refund`),
and the outcome is always what Flint reads back from Stripe (`find_charge`, `find_setup`,
`find_refund`): by the object's id when Flint has it, else by the attempt id in the metadata of
the newest objects (Stripe's search lags its writes; listing does not). A call that fails
without Stripe's answer raises, and the attempt is in doubt until it is read back.

The library retries nothing (`max_network_retries=0`): a retry is Flint's to decide, under the
same key, after reading back what Stripe did.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import stripe

from server.clock import Clock, system_clock
from server.config import StripeSettings
from server.money import Money
from server.payments.processor import (
    CardDetails,
    CardNumbersRefused,
    Charge,
    RefundRefused,
    SavedCard,
    Setup,
    Started,
    Unfinished,
)

log = logging.getLogger("flint.stripe")

ATTEMPT, SETUP, REFUND = "flint_attempt", "flint_setup", "flint_refund"
OFF_SESSION = "flint_off_session"  # no customer is there to finish it: waiting for one is a decline
ABANDONED_AFTER = timedelta(minutes=5)  # a started charge or setup no browser finished by then is cancelled
SCAN_PAGES = 10  # how many pages of 100 of the newest objects a read-back looks through
AWAITING = ("requires_payment_method", "requires_confirmation", "requires_action")

Json = dict[str, Any]


class StripeProcessor:
    name = "stripe"

    def __init__(self, settings: StripeSettings, clock: Clock = system_clock, timeout: float = 20.0) -> None:
        # aiohttp (the library's async client for it): its httpx client warns on every request.
        self.http = stripe.AIOHTTPClient(timeout=timeout)
        self.client = stripe.StripeClient(
            settings.secret_key,
            base_addresses={"api": settings.api_base},
            http_client=self.http,
            max_network_retries=0,
        )
        self.publishable_key = settings.publishable_key
        self.script_url = settings.js_url
        self.clock = clock

    async def close(self) -> None:
        """Close the connections, when the server stops."""
        await self.http.close_async()  # type: ignore[no-untyped-call]

    # Cards typed into Flint's own form: never, with Stripe.

    async def charge(self, card: CardDetails, amount: Money, idempotency_key: str) -> Charge:
        raise CardNumbersRefused("with Stripe, cards are entered in Stripe.js, never in Flint's form")

    async def save_card(self, card: CardDetails, idempotency_key: str, customer: str | None) -> Setup:
        raise CardNumbersRefused("with Stripe, cards are entered in Stripe.js, never in Flint's form")

    # Started here, confirmed in the browser.

    async def start_charge(self, amount: Money, idempotency_key: str, description: str) -> Started:
        intent = await self.client.v1.payment_intents.create_async(
            {
                "amount": amount.amount,
                "currency": amount.currency.lower(),
                "metadata": {ATTEMPT: idempotency_key},
            },
            {"idempotency_key": idempotency_key},
        )
        return Started(reference=intent.id, client_secret=str(intent.client_secret))

    async def start_setup(self, idempotency_key: str, customer_name: str, customer: str | None) -> Started:
        if customer is None:
            made = await self.client.v1.customers.create_async(
                {"name": customer_name[:200], "metadata": {SETUP: idempotency_key}},
                {"idempotency_key": f"{idempotency_key}:customer"},
            )
            customer = made.id
        intent = await self.client.v1.setup_intents.create_async(
            {
                "customer": customer,
                "usage": "off_session",
                "metadata": {SETUP: idempotency_key},
            },
            {"idempotency_key": idempotency_key},
        )
        return Started(reference=intent.id, client_secret=str(intent.client_secret))

    # Charged with no customer present.

    async def charge_saved(self, card: SavedCard, amount: Money, idempotency_key: str) -> Charge:
        params: Any = {
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "payment_method": card.reference,
            "metadata": {ATTEMPT: idempotency_key, OFF_SESSION: "1"},
            "confirm": True,
            "off_session": True,
        }
        if card.customer:
            params["customer"] = card.customer
        try:
            intent = await self.client.v1.payment_intents.create_async(params, {"idempotency_key": idempotency_key})
        except stripe.CardError as err:  # Stripe's definite no: the PaymentIntent exists, declined
            body: Any = err.json_body or {}
            error: Json = dict(body.get("error") or {})
            declined = error.get("payment_intent") or {}
            return Charge(
                approved=False,
                brand=card.brand,
                last4=card.last4,
                reference=declined.get("id") if isinstance(declined, dict) else None,
                decline_code=str(error.get("decline_code") or err.code or "card_declined"),
            )
        found = await self._charge_of(intent.to_dict())
        if found is None:
            raise Unfinished(f"payment intent {intent.id} is {intent.status}")
        return found

    # Read back.

    async def find_charge(self, idempotency_key: str, reference: str | None = None) -> Charge | None:
        intent = await self._find(self._intents, ATTEMPT, idempotency_key, reference)
        if intent is None:
            return None
        found = await self._charge_of(intent)
        if found is not None:
            return found
        if intent["status"] in AWAITING and self._abandoned(intent):
            cancelled = await self._cancel(self.client.v1.payment_intents.cancel_async, intent["id"])
            if cancelled is not None and cancelled["status"] == "canceled":
                return Charge(approved=False, brand="unknown", last4="", decline_code="not_completed")
            return await self.find_charge(idempotency_key, intent["id"])  # it finished meanwhile
        raise Unfinished(f"payment intent {intent['id']} is {intent['status']}")

    async def find_setup(self, idempotency_key: str, reference: str | None = None) -> Setup | None:
        intent = await self._find(self._setups, SETUP, idempotency_key, reference)
        if intent is None:
            return None
        status, error = intent["status"], intent.get("last_setup_error") or {}
        if status == "succeeded" and intent.get("payment_method"):
            method = await self._method(str(intent["payment_method"]))
            card = method.get("card") or {}
            saved = SavedCard(
                reference=method["id"],
                customer=intent.get("customer"),
                brand=str(card.get("brand") or "unknown"),
                last4=str(card.get("last4") or ""),
                exp_month=int(card.get("exp_month") or 0),
                exp_year=int(card.get("exp_year") or 0),
            )
            return Setup(saved=saved, reference=intent["id"])
        if status == "canceled" and not self._abandoned(intent):
            return Setup(saved=None, decline_code=str(error.get("code") or "card_declined"), reference=intent["id"])
        if status == "requires_payment_method" and error:
            return Setup(saved=None, decline_code=str(error.get("code") or "card_declined"), reference=intent["id"])
        if status == "canceled" or (status in AWAITING and self._abandoned(intent)):
            if status != "canceled":
                await self._cancel(self.client.v1.setup_intents.cancel_async, intent["id"])
            return Setup(saved=None, decline_code="not_completed", reference=intent["id"])
        raise Unfinished(f"setup intent {intent['id']} is {status}")

    async def refund(self, charge_reference: str, amount: Money, idempotency_key: str) -> str:
        try:
            made = await self.client.v1.refunds.create_async(
                {"payment_intent": charge_reference, "amount": amount.amount, "metadata": {REFUND: idempotency_key}},
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as err:
            raise RefundRefused(str(err.user_message or "refused")) from err
        return str(made.id)

    async def find_refund(self, idempotency_key: str) -> str | None:
        found = await self._find(self._refunds, REFUND, idempotency_key, None)
        return None if found is None else str(found["id"])

    # How.

    async def _charge_of(self, intent: Json) -> Charge | None:
        """A settled PaymentIntent as a `Charge`; None while it is not settled."""
        status = intent["status"]
        if status in ("succeeded", "requires_capture"):
            method = await self._method(str(intent["payment_method"])) if intent.get("payment_method") else {}
            card = method.get("card") or {}
            return Charge(
                approved=True,
                brand=str(card.get("brand") or "unknown"),
                last4=str(card.get("last4") or ""),
                reference=intent["id"],
            )
        error = intent.get("last_payment_error") or {}
        if status in AWAITING and (intent.get("metadata") or {}).get(OFF_SESSION):
            # The bank wants the customer (3-D Secure) and none is there: a decline, for dunning
            # to text an update-card link, whose page can authenticate.
            code = str(error.get("decline_code") or error.get("code") or "authentication_required")
            return Charge(approved=False, brand="unknown", last4="", reference=intent["id"], decline_code=code)
        if status == "requires_payment_method" and error:
            code = str(error.get("decline_code") or error.get("code") or "card_declined")
            return Charge(approved=False, brand="unknown", last4="", reference=intent["id"], decline_code=code)
        if status == "canceled":  # by Flint, once no browser finished it; or by someone at Stripe
            code = "not_completed" if self._abandoned(intent) else "canceled"
            return Charge(approved=False, brand="unknown", last4="", reference=intent["id"], decline_code=code)
        return None

    def _abandoned(self, intent: Json) -> bool:
        created = datetime.fromtimestamp(int(intent.get("created") or 0), tz=self.clock().tzinfo)
        return self.clock() - created >= ABANDONED_AFTER

    async def _method(self, method_id: str) -> Json:
        return (await self.client.v1.payment_methods.retrieve_async(method_id)).to_dict()

    async def _cancel(self, cancel: Callable[[str], Awaitable[Any]], object_id: str) -> Json | None:
        try:
            return dict((await cancel(object_id)).to_dict())
        except stripe.InvalidRequestError:
            return None  # it finished (or was cancelled) meanwhile: read it again

    async def _intents(self, reference: str | None, after: str | None) -> tuple[list[Json], bool]:
        if reference is not None:
            return [(await self.client.v1.payment_intents.retrieve_async(reference)).to_dict()], False
        return self._page(await self.client.v1.payment_intents.list_async(_page_params(after)))

    async def _setups(self, reference: str | None, after: str | None) -> tuple[list[Json], bool]:
        if reference is not None:
            return [(await self.client.v1.setup_intents.retrieve_async(reference)).to_dict()], False
        return self._page(await self.client.v1.setup_intents.list_async(_page_params(after)))

    async def _refunds(self, reference: str | None, after: str | None) -> tuple[list[Json], bool]:
        return self._page(await self.client.v1.refunds.list_async(_page_params(after)))

    @staticmethod
    def _page(found: Any) -> tuple[list[Json], bool]:
        return [item.to_dict() for item in found.data], bool(found.has_more)

    @staticmethod
    async def _find(
        fetch: Callable[[str | None, str | None], Awaitable[tuple[list[Json], bool]]],
        field: str,
        key: str,
        reference: str | None,
    ) -> Json | None:
        """The object by its id, else the newest one whose metadata carries `key`."""
        if reference is not None:
            [found], _ = await fetch(reference, None)
            return found
        after = None
        for _ in range(SCAN_PAGES):
            items, more = await fetch(None, after)
            for item in items:
                if (item.get("metadata") or {}).get(field) == key:
                    return item
            if not more or not items:
                return None
            after = str(items[-1]["id"])
        log.warning("%s %s not among the newest %d objects; taken as never made", field, key, SCAN_PAGES * 100)
        return None


def _page_params(after: str | None) -> Any:
    return {"limit": 100, **({"starting_after": after} if after else {})}

from __future__ import annotations

from server.customers import store
from server.customers.types import CreateCustomer, Customer
from server.errors import NotFound, RuleViolation
from server.ids import new_id
from server.store import Row, Tx
from server.store.paging import Page, each, paginate


def create(tx: Tx, data: CreateCustomer) -> Customer:
    customer_id = new_id("cus")
    store.insert(tx, customer_id, data)
    return get(tx, customer_id)


def get(tx: Tx, customer_id: str) -> Customer:
    row = store.get_with_card(tx, customer_id)
    if row is None:
        raise NotFound(f"no customer {customer_id}")
    return store.to_customer(row)


def list_page(tx: Tx, after: int, limit: int) -> Page[Customer]:
    return paginate(store.page(tx, after, limit), limit, each(store.to_customer))


# The card on file (contract §10): saved on a card page, charged by autopay plans.


def save_card(tx: Tx, customer_id: str, **card: str | int | None) -> str:
    """Keep a card the processor saved (`processor`, `reference`, `processor_customer`, `brand`,
    `last4`, `exp_month`, `exp_year`, `card_link_id`) as the customer's card on file, in place of
    the one before."""
    store.end_card(tx, customer_id, "replaced")
    card_id = new_id("card")
    store.insert_card(tx, id=card_id, customer_id=customer_id, **card)
    return card_id


def remove_card(tx: Tx, customer_id: str) -> None:
    """`DELETE /v1/customers/{id}/card`: nothing is charged to it any more. No card: 404."""
    if store.get(tx, customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    if not store.end_card(tx, customer_id, "removed"):
        raise NotFound(f"customer {customer_id} has no card on file")


def card_on_file(tx: Tx, customer_id: str, processor: str) -> Row:
    """The card an off-session charge goes to, or 422 `no_card_on_file`."""
    card = store.active_card(tx, customer_id)
    if card is None or card["processor"] != processor:
        raise RuleViolation("no_card_on_file", f"customer {customer_id} has no card on file")
    return card

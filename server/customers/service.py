from __future__ import annotations

from server.customers import store
from server.customers.types import CreateCustomer, Customer
from server.errors import NotFound
from server.ids import new_id
from server.store import Tx
from server.store.paging import Page, each, paginate


def create(tx: Tx, data: CreateCustomer) -> Customer:
    customer_id = new_id("cus")
    store.insert(tx, customer_id, data)
    return get(tx, customer_id)


def get(tx: Tx, customer_id: str) -> Customer:
    row = store.get(tx, customer_id)
    if row is None:
        raise NotFound(f"no customer {customer_id}")
    return store.to_customer(row)


def list_page(tx: Tx, after: int, limit: int) -> Page[Customer]:
    return paginate(store.page(tx, after, limit), limit, each(store.to_customer))

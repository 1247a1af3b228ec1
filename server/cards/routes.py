"""The office's side of card on file (contract §10): card links, texting them, removing a card."""

from __future__ import annotations

from functools import partial

from litestar import Response, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.cards import service
from server.cards.types import CardLink, CreateCardLink, SendCardLink
from server.customers import service as customers
from server.messages.types import SmsMessage
from server.store import Tx
from server.web.body import StrictBody
from server.web.context import Ctx


@post("/customers/{customer_id:str}/card-links", dto=StrictBody, return_dto=None, status_code=201)
async def create_card_link(
    customer_id: FromPath[str], ctx: NamedDependency[Ctx], data: JSONBody[CreateCardLink | None] = None
) -> Response[CardLink]:
    """A one-use page (7 days by default) where the customer saves a card without being charged;
    autopay plans charge the card on file."""
    unit = partial(
        service.create,
        actor=ctx.actor,
        customer_id=customer_id,
        data=data or CreateCardLink(),
        public_url=ctx.public_url,
    )
    return await ctx.commit(unit, status=201)


@get("/card-links/{link_id:str}")
async def get_card_link(link_id: FromPath[str], ctx: NamedDependency[Ctx]) -> CardLink:
    return await ctx.read(partial(service.get, link_id=link_id, public_url=ctx.public_url))


@post("/card-links/{link_id:str}/send-sms", dto=StrictBody, return_dto=None, status_code=202)
async def send_card_link(
    link_id: FromPath[str], ctx: NamedDependency[Ctx], data: JSONBody[SendCardLink | None] = None
) -> Response[SmsMessage]:
    """Text the link to the customer's phone, or to `to`; a link no longer active: 422 `link_not_active`."""
    unit = partial(
        service.send_sms,
        actor=ctx.actor,
        link_id=link_id,
        to=data.to if data else None,
        public_url=ctx.public_url,
        business=ctx.settings.business_name,
    )
    return await ctx.commit(unit, status=202)


@delete("/customers/{customer_id:str}/card", status_code=204)
async def remove_card(customer_id: FromPath[str], ctx: NamedDependency[Ctx]) -> None:
    """Nothing is charged to the card any more; autopay plans wait for a new one."""

    def unit(tx: Tx) -> None:
        customers.remove_card(tx, customer_id)

    await ctx.write(unit)


router = Router(
    "/v1",
    route_handlers=[create_card_link, get_card_link, send_card_link, remove_card],
    tags=["card on file"],
)

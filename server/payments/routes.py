from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Response, Router, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from server.errors import FlintError, RefundInDoubt
from server.payments import refunding, refunds, service
from server.payments.desk import PaymentDesk
from server.payments.types import CreateRefund, Payment, RecordPayment, Refund
from server.store.paging import Page, decode_cursor
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit


@get("/payments")
async def list_payments(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    order_id: Annotated[str | None, QueryParameter(name="orderId")] = None,
    job_id: Annotated[str | None, QueryParameter(name="jobId")] = None,
) -> Page[Payment]:
    return await ctx.read(
        partial(service.list_page, after=decode_cursor(cursor), limit=limit, order_id=order_id, job_id=job_id)
    )


@get("/payments/{payment_id:str}")
async def get_payment(payment_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Payment:
    return await ctx.read(partial(service.get, payment_id=payment_id))


@post("/payments", dto=StrictBody, return_dto=None, status_code=201)
async def record_payment(data: JSONBody[RecordPayment], ctx: NamedDependency[Ctx]) -> Response[Payment]:
    record = partial(service.record_offline, actor=ctx.actor, data=data, business=ctx.settings.business_name)
    return await ctx.commit(record, status=201)


@post(
    "/refunds",
    dto=StrictBody,
    return_dto=None,
    status_code=201,
    responses={202: ResponseSpec(Refund, description="The processor has not answered yet: the refund is pending")},
)
async def create_refund(
    data: JSONBody[CreateRefund], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Response[Refund]:
    replay = await ctx.replayed()
    if replay is not None:
        return replay
    try:
        refund_id = await refunding.refund(desk, ctx.actor, data, await ctx.idempotency_key())
    except RefundInDoubt as err:
        # Not stored against the key: the same request again asks the processor again (under the
        # refund's own key, so nothing is given back twice) and can complete it.
        pending = await ctx.read(partial(refunds.get_refund, refund_id=err.extra["refundId"]))
        return Response(pending, status_code=202)
    except FlintError as err:
        if err.status >= 500:
            raise
        return await ctx.refuse(err)
    complete = partial(refunds.complete_refund, actor=ctx.actor, refund_id=refund_id, business=desk.business)
    return await ctx.commit(complete, status=201)


@get("/refunds/{refund_id:str}")
async def get_refund(refund_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Refund:
    return await ctx.read(partial(refunds.get_refund, refund_id=refund_id))


@get("/refunds")
async def list_refunds(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    payment_id: Annotated[str | None, QueryParameter(name="paymentId")] = None,
) -> Page[Refund]:
    return await ctx.read(
        partial(refunds.refunds_page, after=decode_cursor(cursor), limit=limit, payment_id=payment_id)
    )


router = Router(
    "/v1",
    route_handlers=[list_payments, get_payment, record_payment, create_refund, get_refund, list_refunds],
    tags=["payments"],
)

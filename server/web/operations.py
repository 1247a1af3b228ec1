"""What each operation of the API reference says: a summary a platform engineer scans and a
description that says what it does, what it refuses and what it answers. Kept in one table beside
the document's other words (`openapi.py`), keyed as the document keys operations; a test checks
that every operation has its entry and every entry its operation."""

from __future__ import annotations

Operation = tuple[str, str]  # (summary, description)

_LIST = " Paged: `limit` (1-200, default 50) and `cursor` (the previous page's `nextCursor`)."

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("get", "/healthz"): (
        "Check the server is up",
        '`200 {"status": "ok"}` while the server answers. No key needed; for load balancers and uptime checks.',
    ),
    # Customers, technicians, devices.
    ("post", "/v1/customers"): (
        "Create a customer",
        "A residential or commercial customer with an E.164 phone, which texts (payment links, receipts) go to.",
    ),
    ("get", "/v1/customers"): ("List customers", "Every customer, oldest first." + _LIST),
    ("get", "/v1/customers/{customer_id}"): ("Get a customer", "One customer by id; 404 when there is none."),
    ("post", "/v1/technicians"): (
        "Create a technician",
        "A technician jobs can be assigned to. Enrol their phone with `POST /v1/technicians/{id}/devices`.",
    ),
    ("get", "/v1/technicians"): ("List technicians", "Every technician, oldest first, with their last sync." + _LIST),
    ("get", "/v1/technicians/{technician_id}"): (
        "Get a technician",
        "One technician and when their device last synced.",
    ),
    ("post", "/v1/technicians/{technician_id}/devices"): (
        "Enrol a device",
        "Makes a device token for the technician's phone, shown once: it is kept only as a hash, and a replayed "
        "request (the same `Idempotency-Key`) answers `token: null`. The token reaches `/v1/sync/*` only, for "
        "the technician's own jobs.",
    ),
    ("get", "/v1/technicians/{technician_id}/devices"): (
        "List a technician's devices",
        "The devices enrolled for a technician, revoked ones included." + _LIST,
    ),
    ("delete", "/v1/devices/{device_id}"): (
        "Revoke a device",
        "The device's token stops working at once (204). What it synced stays.",
    ),
    # Jobs.
    ("post", "/v1/jobs"): (
        "Create a job",
        "A job for a customer, optionally assigned and scheduled. It starts `scheduled`; its money is the sum of "
        "the orders whose `metadata.jobId` names it.",
    ),
    ("get", "/v1/jobs"): (
        "List jobs",
        "Jobs oldest first, each with its money (`payment`) and orders; filter by technician, customer or "
        "status." + _LIST,
    ),
    ("get", "/v1/jobs/{job_id}"): (
        "Get a job",
        "The job with `payment: {totalMoney, paidMoney, refundedMoney, balanceMoney, depositUnappliedMoney}`: "
        "`balanceMoney` is what one payment for the whole job collects now, the same figure everywhere.",
    ),
    ("patch", "/v1/jobs/{job_id}"): (
        "Update a job",
        "Change the technician, status, title or time. Give the `version` you read: a stale one is 409 "
        "`version_conflict`. Status moves forward only (or to `cancelled`): backwards is 422 `invalid_transition`.",
    ),
    ("get", "/v1/jobs/{job_id}/trail"): (
        "Get a job's payment trail",
        "Everything that happened to the job and its money, in order: who (office, device, customer, system), "
        "when, and for a device's change its own clock (`clientAt`).",
    ),
    # Orders.
    ("post", "/v1/orders"): (
        "Create an order",
        "Line items in one currency, for a job (`metadata.jobId` or `jobId`). A deposit order "
        "(`metadata.paymentStage` containing `deposit`) asks for money up front; kept deposit money is applied "
        "to the job's other orders as `Deposit applied` lines.",
    ),
    ("get", "/v1/orders"): ("List orders", "Orders oldest first, all or one job's (`jobId`)." + _LIST),
    ("get", "/v1/orders/{order_id}"): (
        "Get an order",
        "The order's lines and money: total, paid, refunded and the balance still due.",
    ),
    ("patch", "/v1/orders/{order_id}"): (
        "Update an order",
        "Replace its metadata (a new `jobId` moves it to that job) or complete or cancel it; give the `version` "
        "you read. Cancelling with money paid is 422 `order_has_payments`.",
    ),
    ("post", "/v1/orders/{order_id}/line-items"): (
        "Add line items",
        "Adds lines to an open order (a closed one is 422 `order_closed`); the order's and the job's figures "
        "move in the same transaction.",
    ),
    ("delete", "/v1/orders/{order_id}/line-items/{uid}"): (
        "Remove a line item",
        "Takes a client line off the order; a total that would fall below what was paid is 422 `would_overpay`.",
    ),
    # Links.
    ("post", "/v1/payment-links"): (
        "Create a payment link",
        "A hosted page that takes a card: for a job's or an order's balance when the customer pays (no "
        "`amountMoney`), or a fixed amount (a deposit). A job or order has one active balance link: asking "
        "again answers it (200).",
    ),
    ("get", "/v1/payment-links"): ("List payment links", "Links oldest first, by order or job." + _LIST),
    ("get", "/v1/payment-links/{link_id}"): (
        "Get a payment link",
        "The link with its status and `amountMoney` worked out now: `closed` when nothing it could collect is due.",
    ),
    ("post", "/v1/payment-links/{link_id}/cancel"): (
        "Cancel a payment link",
        "The page stops taking cards (410 page). Not while the customer is paying it.",
    ),
    ("post", "/v1/payment-links/{link_id}/send-sms"): (
        "Text a payment link",
        "Texts the link (202, the message): to `to`, else the customer's phone. The same link to the same number "
        "for the same amount within 10 minutes sends nothing new.",
    ),
    # Card on file (contract §10).
    ("post", "/v1/customers/{customer_id}/card-links"): (
        "Make a card link",
        "A one-use page (`url`, 7 days unless `expiresAt` says otherwise) where the customer saves a card without "
        "being charged; autopay plans charge the card on file. With Stripe, the card is entered in Stripe.js.",
    ),
    ("get", "/v1/card-links/{link_id}"): (
        "Get a card link",
        "The link with its status: `active`, `used` once a card was saved on it, or `expired`.",
    ),
    ("post", "/v1/card-links/{link_id}/send-sms"): (
        "Text a card link",
        "Texts the link (202, the message): to `to`, else the customer's phone. A link no longer active: 422 "
        "`link_not_active`.",
    ),
    ("delete", "/v1/customers/{customer_id}/card"): (
        "Remove the card on file",
        "Nothing is charged to the card any more (204); autopay plans wait for a new one, texting a card link "
        "at their next charge. No card on file: 404.",
    ),
    # Payments and refunds.
    ("get", "/v1/payments"): (
        "List payments",
        "Settled payments (captured or declined), by order or job. A job payment spread over several orders "
        "lists as one payment per order sharing one `chargeId`." + _LIST,
    ),
    ("post", "/v1/payments"): (
        "Record cash or a check",
        "Money taken outside Flint, for an order or a job (applied to its orders oldest first). More than the "
        "balance is 422 `amount_exceeds_balance`.",
    ),
    ("get", "/v1/payments/{payment_id}"): ("Get a payment", "One payment: its amount, method, card and refunds."),
    ("post", "/v1/refunds"): (
        "Refund a payment",
        "Gives back part or all of a payment through the processor; past what is left of it is 422 "
        "`refund_exceeds_payment`. A processor that has not answered yet: 202 with the refund `pending`.",
    ),
    ("get", "/v1/refunds"): ("List refunds", "Refunds oldest first, all or one payment's." + _LIST),
    ("get", "/v1/refunds/{refund_id}"): ("Get a refund", "One refund and its status."),
    # Invoices and plans.
    ("post", "/v1/invoices"): (
        "Create an invoice",
        "A draft invoice on an order for a recipient, with payment requests (a deposit and the balance, each "
        "with a due date). Numbers count 1, 2, 3 with no gap.",
    ),
    ("get", "/v1/invoices"): ("List invoices", "Invoices oldest first, by order or job." + _LIST),
    ("get", "/v1/invoices/{invoice_id}"): (
        "Get an invoice",
        "The invoice with each request's amount and what was paid; `overdue` is worked out from the due dates.",
    ),
    ("post", "/v1/invoices/{invoice_id}/publish"): (
        "Publish an invoice",
        "Makes its hosted page (`publicUrl`) and texts it to the recipient's phone, if any. Reminders follow "
        "3 days before each due date, on it and 7 days after.",
    ),
    ("post", "/v1/invoices/{invoice_id}/cancel"): (
        "Cancel an invoice",
        "Only while nothing is paid on it (else 422 `invoice_has_payments`).",
    ),
    # Estimates and approvals.
    ("post", "/v1/estimates"): (
        "Create an estimate",
        "A draft estimate on a job: one to five options (good, better, best), each with its lines, some of them "
        "`optional` (offered as checkboxes, left out of the option's total); a deposit by `percentage` or "
        "`amountMoney`; terms and an expiry. Numbers count 1, 2, 3 with no gap.",
    ),
    ("get", "/v1/estimates"): ("List estimates", "Estimates oldest first, all or one job's." + _LIST),
    ("get", "/v1/estimates/{estimate_id}"): (
        "Get an estimate",
        "The estimate, its state (an open one past `expiresAt` reads `expired`), and once approved its "
        "`approval`: who signed, when, from where, the `contentHash` they saw, the amounts, the deposit's "
        "payment and the work order it made.",
    ),
    ("patch", "/v1/estimates/{estimate_id}"): (
        "Change a draft estimate",
        "Only while `draft` (else 422 `estimate_not_draft`: a sent estimate is frozen; void it and make another). "
        "A stale `version` is 409.",
    ),
    ("post", "/v1/estimates/{estimate_id}/send"): (
        "Send an estimate",
        "The first send freezes the content under its `contentHash` (SHA-256 of its canonical JSON), opens its "
        "page (`url`), sets `expiresAt` (default 30 days) and texts the customer the page; sending an open "
        "estimate again only texts again.",
    ),
    ("post", "/v1/estimates/{estimate_id}/void"): (
        "Void an estimate",
        "Its page stops taking answers. Not once approved (422 `estimate_approved`), nor while a deposit is "
        "being confirmed.",
    ),
    ("post", "/v1/orders/{order_id}/approval-requests"): (
        "Ask the customer to approve added work",
        "Texts a link and a 6-digit code for the order's lines that wait for approval (all of them by default). "
        "The code works for 24 hours, only from the number it was sent to; a new request for a line replaces "
        "the open one that held it. Nothing waiting: 422 `nothing_pending`.",
    ),
    ("get", "/v1/approval-requests"): ("List approval requests", "Requests oldest first, by order or job." + _LIST),
    ("get", "/v1/approval-requests/{request_id}"): (
        "Get an approval request",
        "The request, its lines and status, and once approved its `approval`: the channel (`page`, `sms_code`, "
        "`device`), who and when, and the `contentHash` of the lines approved.",
    ),
    ("post", "/v1/service-plans"): (
        "Create a service plan",
        "Recurring billing for a customer: weekly, monthly, quarterly or yearly from a start date, by invoice "
        "or by a texted link. Each period is billed once, as a visit job with its order.",
    ),
    ("get", "/v1/service-plans"): ("List service plans", "Plans oldest first, all or one customer's." + _LIST),
    ("get", "/v1/service-plans/{plan_id}"): (
        "Get a service plan",
        "The plan, its status and the next period it bills (`nextBillingDate`).",
    ),
    ("post", "/v1/service-plans/{plan_id}/pause"): (
        "Pause a service plan",
        "Periods that start while paused are skipped, not billed on resume.",
    ),
    ("post", "/v1/service-plans/{plan_id}/resume"): ("Resume a service plan", "Billing goes on from the next period."),
    ("post", "/v1/service-plans/{plan_id}/cancel"): ("Cancel a service plan", "No period is billed after this."),
    ("get", "/v1/service-plans/{plan_id}/cycles"): (
        "List a plan's billed periods",
        "Each period billed, with the job, order and the invoice or link that asks for its money." + _LIST,
    ),
    ("post", "/v1/billing/run"): (
        "Run billing now",
        "Bills every plan period that has started by `asOf` (default today) and is not billed yet: what the "
        "server's scheduler does every minute. One cycle per plan and period, however often it runs.",
    ),
    ("post", "/v1/billing/reminders"): (
        "Send invoice reminders now",
        "Texts each reminder that is due and not sent yet (each at most once): what the scheduler does every minute.",
    ),
    # Texts.
    ("get", "/v1/sms"): ("List text messages", "Texts oldest first, by job or order, with their status." + _LIST),
    ("get", "/v1/sms/{message_id}"): (
        "Get a text message",
        "One text: `queued`, `sending`, `sent`, `delivered`, `undelivered`, `failed` or `blocked` (the number "
        "opted out), with Twilio's sid and error code.",
    ),
    # Dispatch.
    ("get", "/v1/dispatch/board"): (
        "Get the dispatch board",
        "Every job with its money and last event, every technician with their last sync, and the webhook "
        "endpoints Flint switched off after 3 days of failed deliveries.",
    ),
    ("get", "/v1/dispatch/events"): (
        "Follow the trail live",
        "Server-sent events: each new trail event as `event: trail` within a second of its commit. Reconnect "
        "with `Last-Event-ID` to get what was missed.",
    ),
    # Sync.
    ("post", "/v1/sync/push"): (
        "Push a device's changes",
        "Applies a device's queued mutations in order, each exactly once (ids count 1, 2, 3 per client). A "
        "mutation that breaks a rule is rejected with a code and used up; the ones after it still apply.",
    ),
    ("post", "/v1/sync/pull"): (
        "Pull changes to a device",
        "The changes since the device's cursor for its technician's jobs (a null cursor: the whole scope, "
        "`reset: true`), in pages that never skip or tear a change, and its rejected mutations.",
    ),
    # Events and webhooks.
    ("get", "/v1/events"): (
        "List events",
        "Everything that happened in the account, oldest first, kept 30 days: each event's `data` is the object "
        "it changed, as the API shows it after the change (the `webhooks` section has each type's shape). "
        "`after=<event id>` resumes past an event; filter by `type` or `jobId`." + _LIST,
    ),
    ("get", "/v1/events/{event_id}"): ("Get an event", "One event by id (the `webhook-id` of its deliveries)."),
    ("post", "/v1/webhook-endpoints"): (
        "Create a webhook endpoint",
        "Flint POSTs the events of the chosen types (or `*`) that happen from now on to `url`, signed as "
        "Standard Webhooks 1.0 says. The `secret` is shown once: a replay answers `secret: null`. Outside "
        "`--demo` the URL must be https:// on a public address (else 422 `url_not_allowed`); an unknown type "
        "is 422 `unknown_event_type`.",
    ),
    ("get", "/v1/webhook-endpoints"): ("List webhook endpoints", "Every endpoint, oldest first; no secrets." + _LIST),
    ("get", "/v1/webhook-endpoints/{endpoint_id}"): (
        "Get a webhook endpoint",
        "The endpoint, whether it is on, and why not (`disabledReason`: `office`, `gone` after a 410, "
        "`failing` after 3 days of failed deliveries).",
    ),
    ("patch", "/v1/webhook-endpoints/{endpoint_id}"): (
        "Update a webhook endpoint",
        "Change its URL (checked like a new one), its events or description, or turn it off or on. Turning it "
        "off fails what it was still owed; turning it on clears why it was off.",
    ),
    ("delete", "/v1/webhook-endpoints/{endpoint_id}"): (
        "Delete a webhook endpoint",
        "Nothing more is sent to it; its secrets and delivery log go with it (204).",
    ),
    ("post", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret"): (
        "Rotate a webhook endpoint's secret",
        "A new secret, shown once, signs from now on; the old one keeps signing beside it for 24 hours "
        "(`previousSecretExpiresAt`), both signatures in `webhook-signature`, so the receiver can switch over.",
    ),
    ("get", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): (
        "List an endpoint's deliveries",
        "The delivery log, newest first: each event sent to the endpoint, its attempts, the last answer and "
        "when it is tried again. Retries: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 24 h, 24 h." + _LIST,
    ),
    ("get", "/v1/webhook-deliveries/{delivery_id}"): ("Get a delivery", "One delivery of one event to one endpoint."),
    ("post", "/v1/webhook-deliveries/{delivery_id}/retry"): (
        "Send a delivery again",
        "Sends it again now with the same `webhook-id` (an earlier event of the same job still pending for the "
        "endpoint goes first). It counts as another attempt.",
    ),
}

"""Example values for the API reference, so what the docs UI shows reads like a real account: a
service business in Austin in dollars, amounts a job costs, phone numbers of the 555-01xx range
kept for examples, ids with their real prefixes. Given to each property of the document's schemas
that has none, by the property's name (and for a few names, by the schema too)."""

from __future__ import annotations

from typing import Any

CUSTOMER = "cus_3b8e1f4a2c9d7e6f0a1b5c2d"
TECHNICIAN = "tech_9a4c2e7f1b3d5a8c6e0f2b4d"
DEVICE = "dev_6e2a9c4f1d7b3e8a5c0f9d1b"
JOB = "job_7c1e5a9d3f2b8c4e6a0d1f3b"
ORDER = "ord_5d2c8a1e9b7f4a3c6e0d1b2a"
PAYMENT = "pay_2f6a9c3e1d8b5f7a4c0e2d6b"
CHARGE = "ch_8b3d1f6a9c2e5b7d4f0a1c3e"
LINK = "plink_4a9e2c7f1b5d8a3e6c0b9f2d"
REFUND = "ref_1c7e4a9f2d6b8c3e5a0f7d1b"
INVOICE = "inv_4e1a7c2b9d3f5a8e6c0b1d2f"
PLAN = "plan_8c3e1a5f7b9d2c4e6a0f1b3d"
SMS = "sms_9d2f6b1e4a8c3f7d5b0e2a6c"
EVENT = "evt_3a8f1c6e9b2d5a7f4c0e1b8d"
ENDPOINT = "we_5b1d8f3a6c9e2b7d4f0a1c5e"
DELIVERY = "whd_7e3b9d1f5a2c8e6b4d0f3a9c"
ESTIMATE = "est_2b7e4c9a1f6d3b8e5c0a7f2d"
OPTION = "opt_6c1a8e3f5b2d9c7a4e0f1b6d"
APPROVAL_REQUEST = "apr_3e9b2d6f1a8c5e4b7d0f2a9c"
APPROVAL = "apv_9f4c1e7a3d8b6f2c5a0e1d4b"
LINE_UID = "7f1c6a2e-4b9d-4e3a-8c5f-2d1b0a9e8c7f"
CONTENT_HASH = "4f2a9c1e7b3d8a6f5c0e2b9d1a7f3c6e8b4d0a2f9e1c7b5a3d6f8e0c2b4a9d1f"
PHONE = "+15125550143"
MONEY = {"amount": 18500, "currency": "USD"}

# The id each kind of object carries, by its schema's name.
IDS: dict[str, str] = {
    "Customer": CUSTOMER,
    "Technician": TECHNICIAN,
    "BoardTechnician": TECHNICIAN,
    "Device": DEVICE,
    "EnrolledDevice": DEVICE,
    "Job": JOB,
    "BoardJob": JOB,
    "Order": ORDER,
    "JobOrder": ORDER,
    "Payment": PAYMENT,
    "PaymentLink": LINK,
    "CardLink": "clink_2d7b9e4a1c6f3e8b5a0d7c1e",
    "Refund": REFUND,
    "Invoice": INVOICE,
    "ServicePlan": PLAN,
    "SmsMessage": SMS,
    "Event": EVENT,
    "WebhookEndpoint": ENDPOINT,
    "WebhookEndpointWithSecret": ENDPOINT,
    "WebhookDelivery": DELIVERY,
    "Estimate": ESTIMATE,
    "EstimateOption": OPTION,
    "ApprovalRequest": APPROVAL_REQUEST,
    "LinesApproval": APPROVAL,
    "Actor": DEVICE,
    "Change": ORDER,
}

# By (schema, property), where the name alone says too little.
BY_SCHEMA: dict[tuple[str, str], Any] = {
    ("Customer", "name"): "Dana Whitfield",
    ("CreateCustomer", "name"): "Dana Whitfield",
    ("Technician", "name"): "Luis Ortega",
    ("BoardTechnician", "name"): "Luis Ortega",
    ("CreateTechnician", "name"): "Luis Ortega",
    ("PaymentLink", "name"): "AC repair balance",
    ("CreatePaymentLink", "name"): "AC repair balance",
    ("ServicePlan", "name"): "Quarterly boiler service",
    ("CreateServicePlan", "name"): "Quarterly boiler service",
    ("Recipient", "name"): "Oakridge Property Management",
    ("RecipientIn", "name"): "Oakridge Property Management",
    ("Rejection", "name"): "order.addLineItem",
    ("PaymentLink", "url"): "https://pay.example.com/pay/Xk2v9QmB7rTz4LcW8nPq3Hs6YdJf1Ae5",
    ("CardLink", "url"): "https://pay.example.com/cards/Qm7rTz4LcW8nPq3Hs6YdJf1Ae5Xk2v9B",
    ("CardOnFile", "expMonth"): 12,
    ("CardOnFile", "expYear"): 2028,
    ("CardOnFile", "brand"): "visa",
    ("CardOnFile", "last4"): "4242",
    ("CyclePayment", "attempts"): 2,
    ("CyclePayment", "status"): "retrying",
    ("PastDuePlan", "name"): "Quarterly boiler service",
    ("PastDuePlan", "customerName"): "Oakridge Property Management",
    ("Problem", "title"): "Request breaks a rule",
    ("Problem", "type"): "urn:flint:problem:amount_exceeds_balance",
    ("Problem", "code"): "amount_exceeds_balance",
    ("Problem", "detail"): "the amount ($90.00) is more than the balance due ($75.00)",
    ("Problem", "status"): 422,
    ("Rejection", "code"): "order_closed",
    ("MutationResult", "code"): "order_closed",
    ("Rejection", "detail"): f"order {ORDER} is completed",
    ("MutationResult", "detail"): f"order {ORDER} is completed",
    ("MutationResult", "id"): 7,
    ("Change", "entity"): "order",
    ("WebhookEndpoint", "events"): ["payment.captured", "payment.declined", "invoice.paid"],
    ("WebhookEndpointWithSecret", "events"): ["payment.captured", "payment.declined", "invoice.paid"],
    ("CreateWebhookEndpoint", "events"): ["payment.captured", "payment.declined", "invoice.paid"],
    ("UpdateWebhookEndpoint", "events"): ["payment.captured", "payment.declined", "invoice.paid"],
    ("JobOrder", "state"): "open",
    ("Event", "type"): "payment.captured",
    ("WebhookDelivery", "type"): "payment.captured",
    ("TrailEvent", "type"): "payment.captured",
    ("Actor", "kind"): "device",
    ("PaymentRequest", "uid"): "req_1",
    ("WebhookDelivery", "lastStatusCode"): 503,
    ("WebhookDelivery", "lastError"): "HTTP 503",
    ("WebhookDelivery", "attempts"): 2,
    ("SmsMessage", "attempts"): 1,
    ("TrailEvent", "data"): {"chargeId": CHARGE, "amountMoney": MONEY, "method": "card", "source": "pay_link"},
    ("Change", "data"): {"id": ORDER, "jobId": JOB, "totalMoney": MONEY},
    ("Estimate", "title"): "Water heater replacement",
    ("CreateEstimate", "title"): "Water heater replacement",
    ("UpdateEstimate", "title"): "Water heater replacement",
    ("EstimateOption", "name"): "Better: 50-gallon tank",
    ("EstimateOptionIn", "name"): "Better: 50-gallon tank",
    ("EstimateLine", "name"): "Expansion tank",
    ("EstimateLineIn", "name"): "Expansion tank",
    ("Estimate", "declineReason"): "We went with a tankless heater",
    ("ApprovalRequest", "declineReason"): "Not this visit",
    ("ApprovalRequest", "smsId"): SMS,
    ("EstimateApproval", "channel"): "page",
    ("LinesApproval", "channel"): "sms_code",
    ("Quote", "total"): "$1,635.00",
    ("Quote", "deposit"): "$163.50",
    ("MutationResult", "data"): {"paymentLinkId": LINK, "smsId": SMS},
}

BY_NAME: dict[str, Any] = {
    "customerId": CUSTOMER,
    "technicianId": TECHNICIAN,
    "deviceId": DEVICE,
    "jobId": JOB,
    "orderId": ORDER,
    "paymentId": PAYMENT,
    "chargeId": CHARGE,
    "paymentLinkId": LINK,
    "invoiceId": INVOICE,
    "servicePlanId": PLAN,
    "savedAt": "2026-05-02T18:20:11.000Z",
    "eventId": EVENT,
    "estimateId": ESTIMATE,
    "optionId": OPTION,
    "approvalRequestId": APPROVAL_REQUEST,
    "lineUids": [LINE_UID],
    "optionalUids": [LINE_UID],
    "contentHash": CONTENT_HASH,
    "signerName": "Dana Whitfield",
    "ip": "203.0.113.24",
    "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "terms": "Payment due on completion. Work guaranteed for one year.",
    "sentAt": "2026-05-04T15:12:09.000Z",
    "endpointId": ENDPOINT,
    "clientId": "3f6c2b1e-9a7d-4c5e-8b0f-1d2a3c4e5f60",
    "uid": "7f1c6a2e-4b9d-4e3a-8c5f-2d1b0a9e8c7f",
    "createdAt": "2026-05-04T15:12:09.000Z",
    "updatedAt": "2026-05-04T15:40:31.000Z",
    "scheduledAt": "2026-05-04T15:00:00.000Z",
    "lastEventAt": "2026-05-04T15:40:31.000Z",
    "lastSyncAt": "2026-05-04T15:38:02.000Z",
    "at": "2026-05-04T15:40:31.000Z",
    "clientAt": "2026-05-04T15:39:58.000Z",
    "publishedAt": "2026-05-04T16:02:44.000Z",
    "cancelledAt": "2026-09-01T09:00:00.000Z",
    "revokedAt": "2026-06-12T10:15:00.000Z",
    "expiresAt": "2026-05-11T15:12:09.000Z",
    "nextAttemptAt": "2026-05-04T15:45:36.000Z",
    "lastAttemptAt": "2026-05-04T15:40:36.000Z",
    "deliveredAt": "2026-05-04T15:40:32.000Z",
    "failingSince": "2026-05-04T15:40:36.000Z",
    "previousSecretExpiresAt": "2026-05-05T15:12:09.000Z",
    "dueDate": "2026-06-03",
    "nextDueDate": "2026-06-03",
    "startDate": "2026-05-01",
    "nextBillingDate": "2026-08-01",
    "periodStart": "2026-05-01",
    "periodEnd": "2026-07-31",
    "asOf": "2026-05-01",
    "phone": PHONE,
    "to": PHONE,
    "email": "dana@example.com",
    "address": "1402 Elm St, Austin, TX 78702",
    "title": "AC not cooling",
    "customerName": "Dana Whitfield",
    "name": "Capacitor",
    "label": "Luis's phone",
    "body": "Flint Field Services: $185.00 is due for AC not cooling. Pay here: https://pay.example.com/pay/Xk2v9QmB",
    "url": "https://hooks.example.com/flint",
    "publicUrl": "https://pay.example.com/invoices/Qz7mK2pL9vR4tW8xB3nC6dF1",
    "reason": "Capacitor was not needed",
    "reference": "Check 1042",
    "poNumber": "PO-7781",
    "description": "Dispatch app (production)",
    "providerSid": "SM5b8e2c7a1f4d9b3e6c0a2f8d1b7e4c9a",
    "errorCode": 30003,
    "brand": "visa",
    "last4": "4242",
    "declineCode": "card_declined",
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw7d0bJfX3kS4=",
    "token": "fdt_Xk2v9QmB7rTz4LcW8nPq3Hs6YdJf1Ae5Ug0oRi",
    "field": "lineItems[0].quantity",
    "message": "Expected `int` >= 1",
    "paymentStage": "dispatch_deposit",
    "metadata": {"jobId": JOB, "paymentStage": "dispatch_deposit"},
    "currency": "USD",
    "amount": 18500,
    "number": 1042,
    "version": 3,
    "quantity": 1,
    "percentage": 25,
    "dueInDays": 30,
    "cyclesBilled": 2,
    "cyclesCreated": 3,
    "remindersSent": 2,
    "seq": 418,
    "mutationId": 7,
    "lastMutationId": 7,
    "currentVersion": 4,
    "limit": 500,
    "schemaVersion": 1,
    "cursor": "bjoyMzEx",
    "nextCursor": "bjoxMDQy",
}


def add_examples(schemas: dict[str, Any]) -> None:
    """Give every property of every schema that has no example one from the tables, and money its
    example as a whole."""
    for name, schema in schemas.items():
        if name in ("Money", "MoneyIn", "PositiveMoneyIn"):
            schema.setdefault("examples", [MONEY])
        for prop, spec in schema.get("properties", {}).items():
            if not isinstance(spec, dict) or "examples" in spec or "$ref" in spec:
                continue
            if (name, prop) in BY_SCHEMA:
                spec["examples"] = [BY_SCHEMA[(name, prop)]]
            elif prop == "id" and name in IDS:
                spec["examples"] = [IDS[name]]
            elif prop in BY_NAME:
                spec["examples"] = [BY_NAME[prop]]

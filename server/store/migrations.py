"""Schema migrations, applied at start-up and recorded by sqlite-utils in `_sqlite_migrations`.

A migration is never edited once it has landed; a change to the schema is a new one.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database as SqliteUtilsDatabase
from sqlite_utils.migrations import Migrations

from server.store import ledger_migration

migrations = Migrations("flint")


def _statements(db: SqliteUtilsDatabase, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations(name="0001_core")
def core(db: SqliteUtilsDatabase) -> None:
    _statements(
        db,
        """
        CREATE TABLE customers (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            phone TEXT NOT NULL,
            email TEXT,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE technicians (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            phone TEXT,
            last_sync_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE devices (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            technician_id TEXT NOT NULL REFERENCES technicians(id),
            label TEXT,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
        CREATE INDEX devices_technician ON devices(technician_id);

        CREATE TABLE jobs (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            customer_id TEXT NOT NULL REFERENCES customers(id),
            technician_id TEXT REFERENCES technicians(id),
            title TEXT NOT NULL,
            address TEXT NOT NULL,
            status TEXT NOT NULL,
            scheduled_at TEXT,
            version INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX jobs_technician ON jobs(technician_id);
        CREATE INDEX jobs_customer ON jobs(customer_id);

        CREATE TABLE orders (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            version INTEGER NOT NULL,
            state TEXT NOT NULL,
            customer_id TEXT REFERENCES customers(id),
            job_id TEXT REFERENCES jobs(id),
            metadata TEXT NOT NULL,
            currency TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX orders_job ON orders(job_id);

        CREATE TABLE line_items (
            n INTEGER PRIMARY KEY,
            order_id TEXT NOT NULL REFERENCES orders(id),
            uid TEXT NOT NULL,
            name TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            unit_amount INTEGER NOT NULL,
            kind TEXT NOT NULL,
            added_by_kind TEXT NOT NULL,
            added_by_id TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (order_id, uid)
        ) STRICT;

        CREATE TABLE payments (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL REFERENCES orders(id),
            amount INTEGER NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            status TEXT NOT NULL,
            method TEXT NOT NULL,
            card_brand TEXT,
            card_last4 TEXT,
            decline_code TEXT,
            payment_link_id TEXT,
            source TEXT NOT NULL,
            reference TEXT,
            uid TEXT UNIQUE,
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX payments_order ON payments(order_id);

        CREATE TABLE refunds (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            payment_id TEXT NOT NULL REFERENCES payments(id),
            order_id TEXT NOT NULL REFERENCES orders(id),
            amount INTEGER NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            reason TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX refunds_payment ON refunds(payment_id);
        CREATE INDEX refunds_order ON refunds(order_id);

        CREATE TABLE trail_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id TEXT,
            order_id TEXT,
            at TEXT NOT NULL,
            type TEXT NOT NULL,
            actor_kind TEXT NOT NULL,
            actor_id TEXT,
            client_at TEXT,
            data TEXT NOT NULL
        ) STRICT;
        CREATE INDEX trail_job ON trail_events(job_id, seq);
        CREATE INDEX trail_order ON trail_events(order_id, seq);

        CREATE TABLE changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            job_id TEXT,
            at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE idempotency_keys (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            status INTEGER NOT NULL,
            body BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        ) STRICT;
        CREATE INDEX idempotency_created ON idempotency_keys(created_at);
        """,
    )


@migrations(name="0002_collection")
def collection(db: SqliteUtilsDatabase) -> None:
    _statements(
        db,
        """
        CREATE TABLE payment_links (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            token TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL REFERENCES orders(id),
            name TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            status TEXT NOT NULL,
            metadata TEXT NOT NULL,
            expires_at TEXT,
            payment_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX payment_links_order ON payment_links(order_id);

        ALTER TABLE payments ADD COLUMN processor_ref TEXT;
        ALTER TABLE refunds ADD COLUMN processor_ref TEXT;
        ALTER TABLE refunds ADD COLUMN request_key TEXT;
        CREATE UNIQUE INDEX refunds_request_key ON refunds(request_key) WHERE request_key IS NOT NULL;
        CREATE UNIQUE INDEX payments_one_capture_per_link
            ON payments(payment_link_id) WHERE status = 'captured' AND payment_link_id IS NOT NULL;
        """,
    )


@migrations(name="0003_sms")
def sms(db: SqliteUtilsDatabase) -> None:
    _statements(
        db,
        """
        CREATE TABLE sms_messages (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            to_number TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL,
            provider_sid TEXT UNIQUE,
            error_code INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            in_doubt INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            claimed_at TEXT,
            payment_link_id TEXT,
            invoice_id TEXT,
            order_id TEXT,
            job_id TEXT,
            dedupe_key TEXT UNIQUE,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX sms_due ON sms_messages(status, next_attempt_at);
        CREATE INDEX sms_job ON sms_messages(job_id);
        CREATE INDEX sms_order ON sms_messages(order_id);

        CREATE TABLE sms_early_callbacks (
            n INTEGER PRIMARY KEY,
            sid TEXT NOT NULL,
            status TEXT NOT NULL,
            error_code INTEGER,
            received_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX sms_early_callbacks_sid ON sms_early_callbacks(sid);

        CREATE TABLE sms_opt_outs (
            phone TEXT PRIMARY KEY,
            opted_out INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;
        """,
    )


@migrations(name="0004_sync")
def sync(db: SqliteUtilsDatabase) -> None:
    _statements(
        db,
        """
        CREATE TABLE sync_clients (
            client_id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL REFERENCES devices(id),
            technician_id TEXT NOT NULL REFERENCES technicians(id),
            last_mutation_id INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE sync_mutations (
            client_id TEXT NOT NULL REFERENCES sync_clients(client_id),
            mutation_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            code TEXT,
            detail TEXT,
            data TEXT,
            applied_at TEXT NOT NULL,
            PRIMARY KEY (client_id, mutation_id)
        ) STRICT;
        CREATE INDEX sync_mutations_rejected ON sync_mutations(client_id, mutation_id) WHERE status = 'rejected';

        CREATE TABLE job_notes (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            job_id TEXT NOT NULL REFERENCES jobs(id),
            text TEXT NOT NULL,
            author_kind TEXT NOT NULL,
            author_id TEXT,
            client_at TEXT,
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX job_notes_job ON job_notes(job_id);

        ALTER TABLE changes ADD COLUMN moved_from TEXT;
        ALTER TABLE changes ADD COLUMN txn INTEGER;
        CREATE INDEX changes_txn ON changes(txn);
        CREATE INDEX payment_links_job ON payment_links(order_id, status);
        """,
    )


@migrations(name="0005_rejections_in_the_log")
def rejections_in_the_log(db: SqliteUtilsDatabase) -> None:
    """A rejected mutation gets a place in the change log, so pull can list it until the device
    has pulled past it once."""
    _statements(
        db,
        """
        ALTER TABLE sync_mutations ADD COLUMN seq INTEGER;
        CREATE INDEX sync_mutations_rejected_seq ON sync_mutations(client_id, seq) WHERE status = 'rejected';
        """,
    )


@migrations(name="0006_collection_by_job")
def collection_by_job(db: SqliteUtilsDatabase) -> None:
    """Money taken from a customer is a charge, applied to one or more orders as payments (its
    parts). A link collects for a job or an order: its balance when the customer pays, or a
    fixed amount; `paid` is worked out from its captured charge."""
    _statements(
        db,
        """
        CREATE TABLE charges (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            job_id TEXT REFERENCES jobs(id),
            amount INTEGER NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            status TEXT NOT NULL,
            method TEXT NOT NULL,
            source TEXT NOT NULL,
            payment_link_id TEXT,
            invoice_id TEXT,
            invoice_request TEXT,
            card_brand TEXT,
            card_last4 TEXT,
            decline_code TEXT,
            processor_ref TEXT,
            reference TEXT,
            uid TEXT UNIQUE,
            receipt_to TEXT,
            receipt_url TEXT,
            actor_kind TEXT NOT NULL,
            actor_id TEXT,
            created_at TEXT NOT NULL,
            settled_at TEXT
        ) STRICT;
        CREATE UNIQUE INDEX charges_one_capture_per_link
            ON charges(payment_link_id) WHERE status = 'captured' AND payment_link_id IS NOT NULL;
        CREATE UNIQUE INDEX charges_one_capture_per_request
            ON charges(invoice_id, invoice_request) WHERE status = 'captured' AND invoice_id IS NOT NULL;
        CREATE INDEX charges_status ON charges(status);
        CREATE INDEX charges_job ON charges(job_id);
        CREATE INDEX charges_link ON charges(payment_link_id);

        ALTER TABLE payments ADD COLUMN charge_id TEXT REFERENCES charges(id);
        CREATE INDEX payments_charge ON payments(charge_id);
        DROP INDEX payments_one_capture_per_link;
        INSERT INTO charges (id, job_id, amount, currency, status, method, source, payment_link_id, card_brand,
            card_last4, decline_code, processor_ref, reference, uid, actor_kind, actor_id, created_at, settled_at)
            SELECT 'ch_' || substr(p.id, 5), o.job_id, p.amount, p.currency, p.status, p.method, p.source,
                p.payment_link_id, p.card_brand, p.card_last4, p.decline_code, p.processor_ref, p.reference, p.uid,
                'system', 'migration', p.created_at, CASE WHEN p.status != 'pending' THEN p.created_at END
            FROM payments p JOIN orders o ON o.id = p.order_id;
        UPDATE payments SET charge_id = 'ch_' || substr(id, 5);

        CREATE TABLE payment_links_v2 (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            token TEXT NOT NULL UNIQUE,
            job_id TEXT REFERENCES jobs(id),
            order_id TEXT REFERENCES orders(id),
            name TEXT NOT NULL,
            fixed INTEGER NOT NULL,
            amount INTEGER CHECK (amount IS NULL OR amount > 0),
            currency TEXT NOT NULL,
            status TEXT NOT NULL,
            metadata TEXT NOT NULL,
            expires_at TEXT,
            last_texted_to TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK ((job_id IS NULL) != (order_id IS NULL)),
            CHECK (fixed = (amount IS NOT NULL))
        ) STRICT;
        INSERT INTO payment_links_v2 (n, id, token, job_id, order_id, name, fixed, amount, currency, status,
            metadata, expires_at, created_at, updated_at)
            SELECT n, id, token, NULL, order_id, name, 1, amount, currency,
                CASE status WHEN 'paid' THEN 'active' ELSE status END, metadata, expires_at, created_at, updated_at
            FROM payment_links;
        DROP TABLE payment_links;
        ALTER TABLE payment_links_v2 RENAME TO payment_links;
        CREATE INDEX payment_links_order ON payment_links(order_id);
        CREATE INDEX payment_links_job ON payment_links(job_id);
        CREATE UNIQUE INDEX payment_links_one_active_balance_per_job
            ON payment_links(job_id) WHERE fixed = 0 AND status = 'active' AND job_id IS NOT NULL;
        CREATE UNIQUE INDEX payment_links_one_active_balance_per_order
            ON payment_links(order_id) WHERE fixed = 0 AND status = 'active' AND order_id IS NOT NULL;
        """,
    )


@migrations(name="0007_billing")
def billing(db: SqliteUtilsDatabase) -> None:
    """Office billing. An invoice asks for an order's money in payment requests (deposits, then the
    balance); its `number` counts 1, 2, 3, ... and is taken in the transaction that makes it. What a
    request has been paid is the charges taken through it (`charges.invoice_id`, `invoice_request`).
    Each reminder is a row, so it is sent at most once. A service plan bills one cycle per period:
    the cycle row, unique by plan and period, is written with the cycle's order, job, invoice or
    link and text, so whatever runs billing, however often, a period is billed once."""
    _statements(
        db,
        """
        CREATE TABLE invoices (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            number INTEGER NOT NULL UNIQUE CHECK (number > 0),
            order_id TEXT NOT NULL REFERENCES orders(id),
            status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
            token TEXT UNIQUE,
            recipient_name TEXT NOT NULL,
            recipient_phone TEXT,
            recipient_email TEXT,
            po_number TEXT,
            last_texted_to TEXT,
            published_at TEXT,
            paid_at TEXT,
            cancelled_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK (status != 'published' OR token IS NOT NULL)
        ) STRICT;
        CREATE INDEX invoices_order ON invoices(order_id);
        CREATE UNIQUE INDEX invoices_one_open_per_order ON invoices(order_id) WHERE status != 'cancelled';
        CREATE INDEX invoices_open ON invoices(status, paid_at);

        CREATE TABLE invoice_requests (
            n INTEGER PRIMARY KEY,
            invoice_id TEXT NOT NULL REFERENCES invoices(id),
            uid TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('deposit', 'balance')),
            amount INTEGER CHECK (amount IS NULL OR amount > 0),
            percentage INTEGER CHECK (percentage IS NULL OR percentage BETWEEN 1 AND 9999),
            due_date TEXT NOT NULL,
            UNIQUE (invoice_id, uid),
            CHECK (type = 'deposit' OR (amount IS NULL AND percentage IS NULL)),
            CHECK (type = 'balance' OR ((amount IS NULL) != (percentage IS NULL)))
        ) STRICT;

        CREATE TABLE invoice_reminders (
            invoice_id TEXT NOT NULL REFERENCES invoices(id),
            request_uid TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('before', 'due', 'after')),
            sms_id TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (invoice_id, request_uid, kind)
        ) STRICT;

        CREATE TABLE service_plans (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            customer_id TEXT NOT NULL REFERENCES customers(id),
            name TEXT NOT NULL,
            address TEXT,
            line_items TEXT NOT NULL,
            currency TEXT NOT NULL,
            interval_unit TEXT NOT NULL CHECK (interval_unit IN ('week', 'month', 'quarter', 'year')),
            start_date TEXT NOT NULL,
            billing TEXT NOT NULL CHECK (billing IN ('invoice', 'text_to_pay')),
            due_in_days INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'cancelled')),
            next_period INTEGER NOT NULL DEFAULT 0,
            cancelled_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX service_plans_status ON service_plans(status);

        CREATE TABLE service_plan_pauses (
            n INTEGER PRIMARY KEY,
            plan_id TEXT NOT NULL REFERENCES service_plans(id),
            paused_on TEXT NOT NULL,
            resumed_on TEXT
        ) STRICT;
        CREATE INDEX service_plan_pauses_plan ON service_plan_pauses(plan_id);

        CREATE TABLE service_plan_cycles (
            n INTEGER PRIMARY KEY,
            plan_id TEXT NOT NULL REFERENCES service_plans(id),
            period INTEGER NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            job_id TEXT NOT NULL REFERENCES jobs(id),
            order_id TEXT NOT NULL REFERENCES orders(id),
            invoice_id TEXT REFERENCES invoices(id),
            payment_link_id TEXT REFERENCES payment_links(id),
            sms_id TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (plan_id, period_start),
            UNIQUE (plan_id, period)
        ) STRICT;
        CREATE INDEX charges_invoice ON charges(invoice_id);
        """,
    )


@migrations(name="0008_hardening")
def hardening(db: SqliteUtilsDatabase) -> None:
    """Inbound texts are handled once per Twilio `MessageSid`, whatever replays them; status
    callbacks held for sids never recorded are purged by age."""
    _statements(
        db,
        """
        CREATE TABLE sms_inbound_handled (
            sid TEXT PRIMARY KEY,
            from_number TEXT NOT NULL,
            keyword TEXT,
            received_at TEXT NOT NULL
        ) STRICT;

        CREATE INDEX sms_early_callbacks_received ON sms_early_callbacks(received_at);
        """,
    )


@migrations(name="0009_one_ledger")
def one_ledger(db: SqliteUtilsDatabase) -> None:
    """Orders and jobs keep their figures, worked out by the one rule (`ledger_migration`)."""
    ledger_migration.migrate(db.conn)


@migrations(name="0010_web_sessions")
def web_sessions(db: SqliteUtilsDatabase) -> None:
    """Browser sessions live in the store, so a restart logs nobody out."""
    _statements(
        db,
        """
        CREATE TABLE web_sessions (
            id TEXT PRIMARY KEY,
            data BLOB NOT NULL,
            expires_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);
        """,
    )


@migrations(name="0011_events_and_webhooks")
def events_and_webhooks(db: SqliteUtilsDatabase) -> None:
    """Account events (contract §11): each trail event as the platform sees it, its `data` the
    object it changed, rendered once per object per transaction (`event_objects`); the trail's
    last event made into account events (`events_published`: a store that had a trail before
    starts its feed here). Webhook endpoints, their signing secrets, and the delivery outbox."""
    _statements(
        db,
        """
        CREATE TABLE event_objects (
            n INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            object_id TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX event_objects_created ON event_objects(created_at);

        CREATE TABLE events (
            n INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            trail_seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            job_id TEXT,
            object_n INTEGER NOT NULL REFERENCES event_objects(n),
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX events_type ON events(type, n);
        CREATE INDEX events_job ON events(job_id, n);
        CREATE INDEX events_object ON events(object_n);
        CREATE INDEX events_created ON events(created_at);

        CREATE TABLE events_published (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            trail_seq INTEGER NOT NULL
        ) STRICT;
        INSERT INTO events_published (one, trail_seq) SELECT 1, coalesce(max(seq), 0) FROM trail_events;

        CREATE TABLE webhook_endpoints (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            description TEXT,
            status TEXT NOT NULL,
            disabled_reason TEXT,
            failing_since TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE webhook_secrets (
            n INTEGER PRIMARY KEY,
            endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
            secret TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT
        ) STRICT;
        CREATE INDEX webhook_secrets_endpoint ON webhook_secrets(endpoint_id);

        CREATE TABLE webhook_deliveries (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
            event_id TEXT NOT NULL REFERENCES events(id),
            type TEXT NOT NULL,
            job_id TEXT,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            sending_since TEXT,
            last_attempt_at TEXT,
            last_status_code INTEGER,
            last_error TEXT,
            delivered_at TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (endpoint_id, event_id)
        ) STRICT;
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
        CREATE INDEX webhook_deliveries_order ON webhook_deliveries(endpoint_id, job_id, n) WHERE status = 'pending';
        CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, n);
        CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);
        CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at);
        """,
    )


@migrations(name="0012_plan_texts")
def plan_texts(db: SqliteUtilsDatabase) -> None:
    """A cycle's `sms_id` is the text that told the customer about it, for either billing (a
    catch-up's cycles share one). Invoice cycles billed before kept it empty, though their
    invoice was texted on publishing: record that text."""
    _statements(
        db,
        """
        UPDATE service_plan_cycles SET sms_id = (
            SELECT m.id FROM sms_messages m WHERE m.invoice_id = service_plan_cycles.invoice_id ORDER BY m.n LIMIT 1
        ) WHERE sms_id IS NULL AND invoice_id IS NOT NULL;

        CREATE INDEX service_plan_cycles_untexted ON service_plan_cycles(plan_id, period) WHERE sms_id IS NULL;
        """,
    )


@migrations(name="0013_estimates_and_approvals")
def estimates_and_approvals(db: SqliteUtilsDatabase) -> None:
    """Estimates and the customer's approvals (contract §8). Every line now says its `approval` in
    the JSON kept beside it (`shown`, the last field of a line as the API shows it). An estimate's
    content is frozen under its `content_hash` when first sent; its `number` counts 1, 2, 3, ...
    An approval with a deposit is reserved with its charge (`estimate_attempts`, what the approval
    needs) and recorded in the transaction that settles the capture. Added work waits in
    `approval_requests` (a link and a 6-digit code texted, or an approval in person); each approval
    is a row of evidence in `approvals`, written once."""
    _statements(
        db,
        """
        UPDATE line_items SET shown = substr(shown, 1, length(shown) - 1) || ',"approval":"' || approval || '"}';

        CREATE TABLE estimates (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            number INTEGER NOT NULL UNIQUE CHECK (number > 0),
            job_id TEXT NOT NULL REFERENCES jobs(id),
            title TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('draft', 'open', 'approved', 'declined', 'expired', 'voided')),
            version INTEGER NOT NULL,
            currency TEXT NOT NULL,
            options TEXT NOT NULL,
            deposit_percentage INTEGER CHECK (deposit_percentage IS NULL OR deposit_percentage BETWEEN 1 AND 100),
            deposit_amount INTEGER CHECK (deposit_amount IS NULL OR deposit_amount > 0),
            terms TEXT,
            expires_at TEXT,
            content TEXT,
            content_hash TEXT,
            token TEXT UNIQUE,
            last_texted_to TEXT,
            sent_at TEXT,
            viewed_at TEXT,
            decline_reason TEXT,
            decided_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK (deposit_percentage IS NULL OR deposit_amount IS NULL),
            CHECK (state IN ('draft', 'voided') OR (content_hash IS NOT NULL AND token IS NOT NULL))
        ) STRICT;
        CREATE INDEX estimates_job ON estimates(job_id, n);
        CREATE INDEX estimates_open ON estimates(state, expires_at);

        ALTER TABLE charges ADD COLUMN estimate_id TEXT REFERENCES estimates(id);
        CREATE INDEX charges_estimate ON charges(estimate_id);
        CREATE UNIQUE INDEX charges_one_capture_per_estimate
            ON charges(estimate_id) WHERE status = 'captured' AND estimate_id IS NOT NULL;

        CREATE TABLE estimate_attempts (
            charge_id TEXT PRIMARY KEY REFERENCES charges(id),
            estimate_id TEXT NOT NULL REFERENCES estimates(id),
            option_id TEXT NOT NULL,
            optional_uids TEXT NOT NULL,
            signer_name TEXT NOT NULL,
            ip TEXT,
            user_agent TEXT,
            total_amount INTEGER NOT NULL,
            deposit_amount INTEGER NOT NULL CHECK (deposit_amount > 0),
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX estimate_attempts_estimate ON estimate_attempts(estimate_id);

        CREATE TABLE approval_requests (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL REFERENCES orders(id),
            line_uids TEXT NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('text', 'device')),
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'replaced', 'cancelled')),
            content_hash TEXT NOT NULL,
            total_amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            token TEXT UNIQUE,
            code TEXT,
            to_number TEXT,
            sms_id TEXT,
            expires_at TEXT,
            decline_reason TEXT,
            decided_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX approval_requests_order ON approval_requests(order_id, n);
        CREATE INDEX approval_requests_code ON approval_requests(to_number, code) WHERE status = 'pending';

        CREATE TABLE approval_code_misses (
            n INTEGER PRIMARY KEY,
            phone TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX approval_code_misses_phone ON approval_code_misses(phone, at);

        CREATE TABLE approvals (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            estimate_id TEXT UNIQUE REFERENCES estimates(id),
            approval_request_id TEXT UNIQUE REFERENCES approval_requests(id),
            order_id TEXT NOT NULL REFERENCES orders(id),
            job_id TEXT,
            channel TEXT NOT NULL CHECK (channel IN ('page', 'sms_code', 'device')),
            option_id TEXT,
            optional_uids TEXT,
            line_uids TEXT NOT NULL,
            signer_name TEXT,
            at TEXT NOT NULL,
            client_at TEXT,
            ip TEXT,
            user_agent TEXT,
            phone TEXT,
            device_id TEXT,
            content TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            total_amount INTEGER NOT NULL,
            deposit_amount INTEGER NOT NULL DEFAULT 0,
            currency TEXT NOT NULL,
            payment_id TEXT REFERENCES payments(id),
            charge_id TEXT REFERENCES charges(id),
            CHECK ((estimate_id IS NULL) != (approval_request_id IS NULL))
        ) STRICT;
        CREATE INDEX approvals_job ON approvals(job_id, n);
        CREATE INDEX approvals_order ON approvals(order_id);
        """,
    )


@migrations(name="0014_card_on_file")
def card_on_file(db: SqliteUtilsDatabase) -> None:
    """Card on file, autopay and dunning (contract §10). A customer's saved card (one active at a
    time) is the processor's reference and what a person reads (brand, last four, expiry), never
    the number. A card link is a one-use page that saves one; each try to save a card (a setup)
    is a row written before the processor is asked, its id the processor's idempotency key, like
    a charge. Plans take `billing: autopay` and the status `past_due`; each cycle keeps how its
    autopay went (every charge is a charge row with source `autopay`; `autopay_attempts` ties each
    to its cycle, unique by cycle and attempt, so concurrent runs never charge a cycle twice)."""
    _statements(
        db,
        """
        CREATE TABLE saved_cards (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            customer_id TEXT NOT NULL REFERENCES customers(id),
            processor TEXT NOT NULL,
            reference TEXT NOT NULL,
            processor_customer TEXT,
            brand TEXT NOT NULL,
            last4 TEXT NOT NULL,
            exp_month INTEGER NOT NULL,
            exp_year INTEGER NOT NULL,
            card_link_id TEXT,
            status TEXT NOT NULL CHECK (status IN ('active', 'replaced', 'removed')),
            created_at TEXT NOT NULL,
            ended_at TEXT
        ) STRICT;
        CREATE UNIQUE INDEX saved_cards_one_active ON saved_cards(customer_id) WHERE status = 'active';

        CREATE TABLE card_links (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            token TEXT NOT NULL UNIQUE,
            customer_id TEXT NOT NULL REFERENCES customers(id),
            plan_id TEXT REFERENCES service_plans(id),
            job_id TEXT REFERENCES jobs(id),
            expires_at TEXT NOT NULL,
            used_at TEXT,
            last_texted_to TEXT,
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX card_links_customer ON card_links(customer_id);

        CREATE TABLE card_setups (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            card_link_id TEXT NOT NULL REFERENCES card_links(id),
            customer_id TEXT NOT NULL REFERENCES customers(id),
            status TEXT NOT NULL CHECK (status IN ('pending', 'saved', 'declined')),
            processor_ref TEXT,
            decline_code TEXT,
            saved_card_id TEXT REFERENCES saved_cards(id),
            created_at TEXT NOT NULL,
            settled_at TEXT
        ) STRICT;
        CREATE INDEX card_setups_status ON card_setups(status);
        CREATE UNIQUE INDEX card_setups_one_saved_per_link ON card_setups(card_link_id) WHERE status = 'saved';

        CREATE TABLE autopay_attempts (
            n INTEGER PRIMARY KEY,
            plan_id TEXT NOT NULL REFERENCES service_plans(id),
            period INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            charge_id TEXT UNIQUE REFERENCES charges(id),
            saved_card_id TEXT REFERENCES saved_cards(id),
            scheduled INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'captured', 'declined')),
            decline_code TEXT,
            created_at TEXT NOT NULL,
            settled_at TEXT,
            UNIQUE (plan_id, period, attempt)
        ) STRICT;
        CREATE UNIQUE INDEX autopay_one_pending_per_cycle ON autopay_attempts(plan_id, period) WHERE status = 'pending';

        ALTER TABLE service_plan_cycles ADD COLUMN autopay TEXT
            CHECK (autopay IS NULL OR autopay IN ('due', 'paid', 'retrying', 'failed'));
        ALTER TABLE service_plan_cycles ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE service_plan_cycles ADD COLUMN first_declined_at TEXT;
        ALTER TABLE service_plan_cycles ADD COLUMN next_attempt_at TEXT;
        CREATE INDEX service_plan_cycles_autopay_due ON service_plan_cycles(next_attempt_at)
            WHERE autopay IN ('due', 'retrying')
        """,
    )
    _widen_plan_checks(db.conn)


def _widen_plan_checks(conn: sqlite3.Connection) -> None:
    """`service_plans` takes `billing: autopay` and `status: past_due`. SQLite cannot change a
    CHECK in place, so the table is made again from its own definition (whatever columns other
    migrations gave it) with the two checks widened, its rows put back, and its indexes made
    again; the plans' pauses and cycles point at it by id, checked when the migration commits."""
    table_sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'service_plans'")
    table_sql = table_sql.fetchone()[0]
    indexes = [
        row[0]
        for row in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'service_plans' AND sql IS NOT NULL"
        )
    ]
    widened = table_sql.replace(
        "CHECK (billing IN ('invoice', 'text_to_pay'))", "CHECK (billing IN ('invoice', 'text_to_pay', 'autopay'))"
    ).replace(
        "CHECK (status IN ('active', 'paused', 'cancelled'))",
        "CHECK (status IN ('active', 'paused', 'cancelled', 'past_due'))",
    )
    assert widened.count("'autopay'") == 1 and widened.count("'past_due'") == 1, "service_plans is not as 0007 made it"
    # Dropping the table leaves its pauses and cycles pointing at nothing until the same rows are
    # back under the same name; the checks wait for the commit, when they do again.
    conn.execute("PRAGMA defer_foreign_keys = ON")
    conn.execute("CREATE TEMP TABLE service_plans_kept AS SELECT * FROM service_plans")
    conn.execute("DROP TABLE service_plans")
    conn.execute(widened)
    conn.execute("INSERT INTO service_plans SELECT * FROM temp.service_plans_kept")
    conn.execute("DROP TABLE temp.service_plans_kept")
    for index in indexes:
        conn.execute(index)


def names() -> list[str]:
    """Every migration this version of Flint knows, in order (sqlite-utils keeps the list)."""
    return [migration.name for migration in migrations._migrations]


def migrate(path: str) -> list[str]:
    """Put the file in WAL mode and apply what has not run yet; return the names applied."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = SqliteUtilsDatabase(conn)
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
        return pending
    finally:
        conn.close()

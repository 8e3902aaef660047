"""The only door to the database: keyword-only functions over a session, returning plain views.

- ``customers``: customers by name, their track record, erasure
- ``erasure``: finding a person in every text of the book; the backups the book knows of
- ``promises``: the writes (add, deliver, done, amend, cancel, remedy), each with its history events
- ``queries``: ``due``, ``check`` and ``promise list``
- ``stats``: the track record in SQL
- ``sentlog``: what the morning mail told whom
- ``bulk``: import/export streams and ``pk db copy``
- ``supply``: supply orders and the promises waiting for them, pickup readiness, deposits

Inside the package the modules import each other downward only (``base`` at the bottom).
"""

from __future__ import annotations

from sqlmodel import Session

from promisekeeper.models import SCHEMA_VERSION
from promisekeeper.store.base import FORGOTTEN, clean_quantity, clean_text, judge, optional_text, view
from promisekeeper.store.bulk import (
    CsvImport,
    CsvPromise,
    JsonImport,
    Progress,
    SettledPromise,
    copy_book,
    export_promises,
    export_records,
    prepare_csv_row,
    rejudge,
    require_empty,
    section_keys,
)
from promisekeeper.store.contacts import log_contact
from promisekeeper.store.corrections import (
    fix_promise,
    merge_customers,
    near_miss,
    next_to_undo,
    recent_changes,
    rename_customer,
    undo,
    void_delivery,
)
from promisekeeper.store.customers import (
    Addressee,
    Forgotten,
    add_customer,
    addressee,
    customer_detail,
    customer_key,
    customer_list,
    forget_customer,
    forget_preview,
)
from promisekeeper.store.erasure import (
    MENTION,
    Backup,
    backups_before,
    clear_free_space,
    record_backup,
    remember_backup,
)
from promisekeeper.store.outbox import followups_due, record_message, sent_at, sent_keys
from promisekeeper.store.promises import (
    add_promise,
    amend,
    cancel,
    deliver,
    delivered_at,
    done,
    latest_remedy,
    record_notice,
    remedy,
)
from promisekeeper.store.queries import (
    check,
    customer_names,
    due_report,
    iter_promises,
    list_promises,
    open_promises,
    proposed_due,
    staff_names,
)
from promisekeeper.store.sentlog import (
    escalation_report,
    last_sent_at,
    newly_overdue_report,
    recipient_key,
    record_sent,
)
from promisekeeper.store.stats import stats
from promisekeeper.store.supply import (
    change_eta,
    check_deposit,
    link,
    list_orders,
    mark_ready,
    order_detail,
    place_order,
    receive,
    record_deposit,
)

__all__ = [
    "FORGOTTEN",
    "MENTION",
    "SCHEMA_VERSION",
    "Addressee",
    "Backup",
    "CsvImport",
    "CsvPromise",
    "Forgotten",
    "JsonImport",
    "Progress",
    "Session",
    "SettledPromise",
    "add_customer",
    "add_promise",
    "addressee",
    "amend",
    "backups_before",
    "cancel",
    "change_eta",
    "check",
    "check_deposit",
    "clean_quantity",
    "clean_text",
    "clear_free_space",
    "copy_book",
    "customer_detail",
    "customer_key",
    "customer_list",
    "customer_names",
    "deliver",
    "delivered_at",
    "done",
    "due_report",
    "escalation_report",
    "export_promises",
    "export_records",
    "fix_promise",
    "followups_due",
    "forget_customer",
    "forget_preview",
    "iter_promises",
    "judge",
    "last_sent_at",
    "latest_remedy",
    "link",
    "list_orders",
    "list_promises",
    "log_contact",
    "mark_ready",
    "merge_customers",
    "near_miss",
    "newly_overdue_report",
    "next_to_undo",
    "open_promises",
    "optional_text",
    "order_detail",
    "place_order",
    "prepare_csv_row",
    "proposed_due",
    "receive",
    "recent_changes",
    "recipient_key",
    "record_backup",
    "record_deposit",
    "record_message",
    "record_notice",
    "record_sent",
    "rejudge",
    "remedy",
    "remember_backup",
    "rename_customer",
    "require_empty",
    "section_keys",
    "sent_at",
    "sent_keys",
    "staff_names",
    "stats",
    "undo",
    "view",
    "void_delivery",
]

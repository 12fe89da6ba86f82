"""The records of the Freshdesk fake (:class:`tests.fakes.freshdesk.FakeFreshdesk`): tickets,
contacts and conversations as Freshdesk keeps them, and the validation it applies when they
are created or updated, with errors shaped like Freshdesk's
(``{"description": "Validation failed", "errors": [{"field", "message", "code"}]}``).

A contact's ``unique_external_id`` is unique (409 ``duplicate_value``); a ticket for an
unknown ``unique_external_id`` makes the contact; a reply is e-mailed to a requester who
has an e-mail address.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

__all__ = ["FreshdeskRecords", "Invalid", "now_iso", "validation_error"]


class Invalid(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


def validation_error(field: str, message: str, code: str = "invalid_value", status: int = 400) -> Invalid:
    return Invalid(
        status,
        {"description": "Validation failed", "errors": [{"field": field, "message": message, "code": code}]},
    )


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FreshdeskRecords:
    """One account's tickets, contacts and conversations, ids shared among them.

    Not thread-safe by itself: the fake reads and changes it under its lock.
    """

    def __init__(self, *, groups: set[int], agents: dict[int, str]) -> None:
        self.groups = groups
        self.agents = agents
        self.tickets: dict[int, dict[str, Any]] = {}
        self.contacts: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, list[dict[str, Any]]] = {}
        self.emails: list[dict[str, Any]] = []  # replies Freshdesk e-mailed to a requester
        self._ids = itertools.count(1001)

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise Invalid(404, {"description": "Resource not found", "errors": []})
        return ticket

    def _check_common(self, args: dict[str, Any]) -> None:
        if "group_id" in args and args["group_id"] not in self.groups:
            raise validation_error("group_id", "There is no group matching the given group_id")
        if "priority" in args and args["priority"] not in (1, 2, 3, 4):
            raise validation_error("priority", "It should be one of these values: '1,2,3,4'", "invalid_value")
        if "status" in args and args["status"] not in (2, 3, 4, 5):
            raise validation_error("status", "It should be one of these values: '2,3,4,5'", "invalid_value")
        if "responder_id" in args and args["responder_id"] not in self.agents:
            raise validation_error("responder_id", "There is no agent matching the given responder_id")
        tags = args.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 32 for t in tags):
            raise validation_error(
                "tags", "It should contain elements of type string of at most 32 characters"
            )

    def create_ticket(self, args: Any) -> dict[str, Any]:
        if not isinstance(args, dict):
            raise validation_error("body", "It should be a JSON object", "datatype_mismatch")
        for name in ("subject", "description"):
            if not isinstance(args.get(name), str) or not args[name].strip():
                raise validation_error(name, "It should be a non-empty string", "missing_field")
        self._check_common(args)
        uid = args.get("unique_external_id")
        if not uid and not args.get("requester_id") and not args.get("email"):
            raise validation_error(
                "requester_id",
                "Please fill at least 1 of email, requester_id, phone, twitter_id, "
                "facebook_id, unique_external_id fields",
                "missing_field",
            )
        if uid:
            contact = next((c for c in self.contacts.values() if c["unique_external_id"] == uid), None)
            if contact is None:  # Freshdesk makes the contact from the ticket's requester fields
                contact = self.create_contact({"name": args.get("name") or uid, "unique_external_id": uid})
            requester = contact["id"]
        else:
            requester = int(args.get("requester_id") or 0)
        ticket_id = next(self._ids)
        ticket = {
            "id": ticket_id,
            "subject": args["subject"],
            "description": args["description"],
            "requester_id": requester,
            "group_id": args.get("group_id"),
            "responder_id": args.get("responder_id"),
            "priority": args.get("priority", 1),
            "status": args.get("status", 2),
            "source": args.get("source", 2),
            "tags": list(args.get("tags", [])),
            "custom_fields": dict(args.get("custom_fields") or {}),
            "created_at": now_iso(),
            "updated_at": now_iso(),
        }
        self.tickets[ticket_id] = ticket
        self.conversations[ticket_id] = []
        return dict(ticket)

    def create_contact(self, args: Any) -> dict[str, Any]:
        if not isinstance(args, dict) or not args.get("name"):
            raise validation_error("name", "It should be a non-empty string", "missing_field")
        uid = args.get("unique_external_id")
        if uid and any(c["unique_external_id"] == uid for c in self.contacts.values()):
            raise validation_error(
                "unique_external_id", "It should be a unique value", "duplicate_value", status=409
            )
        contact = {
            "id": next(self._ids),
            "name": args["name"],
            "unique_external_id": uid,
            "email": args.get("email"),
        }
        self.contacts[contact["id"]] = contact
        return dict(contact)

    def update(self, ticket: dict[str, Any], args: Any) -> dict[str, Any]:
        if not isinstance(args, dict):
            raise validation_error("body", "It should be a JSON object", "datatype_mismatch")
        self._check_common(args)
        for name in ("priority", "status", "group_id", "responder_id", "tags", "subject"):
            if name in args:
                ticket[name] = list(args[name]) if name == "tags" else args[name]
        ticket["updated_at"] = now_iso()
        return dict(ticket)

    def email(self, ticket: dict[str, Any], body: str) -> None:
        """A reply is e-mailed to the requester, when the requester has an e-mail address
        (a contact known only by ``unique_external_id`` has none: nothing is sent)."""
        contact = self.contacts.get(ticket["requester_id"])
        if contact is not None and contact.get("email"):
            self.emails.append({"ticket_id": ticket["id"], "body": body, "to": contact["email"]})

    def conversation(
        self, ticket_id: int, body: str, *, private: bool, incoming: bool, user_id: Any
    ) -> dict[str, Any]:
        conversation = {
            "id": next(self._ids),
            "ticket_id": ticket_id,
            "body": body,
            "private": private,
            "incoming": incoming,
            "user_id": user_id,
            "created_at": now_iso(),
        }
        self.conversations.setdefault(ticket_id, []).append(conversation)
        return dict(conversation)

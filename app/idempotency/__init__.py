"""Idempotency-Key on POSTs that create things, with Stripe's semantics.

A client sends `Idempotency-Key: <any string up to 255 characters>` with a POST. The first
successful response is stored under (user, key) in the same database transaction as the
request's own changes, so the two commit together or not at all. A retry with the same key and
the same request returns the stored status and body (with `Idempotent-Replayed: true`) and
changes nothing; the same key with a different request is a 422. A duplicate that arrives while
the first is still running waits on the key's unique index and then replays its answer.
A request that fails stores nothing: it changed nothing, so retrying it is safe.
Keys expire after 24 hours; `flask prune-idempotency-keys` deletes the expired ones.

This is HTTP-level code (it reads the request), used by routes, not by services:

    @commits
    def post(self, data, headers, user_id):
        replay = idempotency.replay_or_claim(user_id, headers.get("idempotency_key"))
        if replay is not None:
            return replay
        thing = service.create(...)
        return idempotency.record(ThingSchema().dump(thing), 201)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import timedelta

from flask import current_app, g, request
from marshmallow import EXCLUDE, fields, validate
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.common import json as exact_json
from app.common.db import utcnow
from app.common.errors import Conflict, Unprocessable
from app.common.schemas import Schema
from app.extensions import db
from app.idempotency.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = timedelta(hours=24)


class IdempotencyHeadersSchema(Schema):
    """The optional Idempotency-Key request header (other headers are ignored)."""

    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        data_key=HEADER,
        validate=[validate.Length(min=1, max=255), validate.Regexp(r"^[\x20-\x7E]+$")],
        metadata={
            "description": (
                "Any unique string (a UUID, say) of up to 255 printable ASCII characters. "
                "A retry with the same key and body returns the first response and changes "
                "nothing (header Idempotent-Replayed: true); the same key with a different "
                "body is a 422. Keys are kept for 24 hours."
            ),
            "example": "5f0c6f3e-3b8e-4c55-9d43-2f8a1f7f9b21",
        },
    )


def fingerprint() -> str:
    """sha256 of the request's method, path and body (JSON bodies compared as data)."""
    body = request.get_data(cache=True)
    with contextlib.suppress(ValueError):  # not JSON: compare the bytes
        body = json.dumps(
            exact_json.loads(body), sort_keys=True, separators=(",", ":"), default=str
        ).encode()
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def replay_or_claim(user_id: int, key: str | None):
    """The stored response to replay for `key`, or None after claiming it for this request.

    Call before the request changes anything: on a duplicate it rolls the session back.
    """
    if key is None:
        return None
    wanted = fingerprint()
    # An expired key is free again.
    db.session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at < utcnow() - TTL,
        )
    )
    claim = IdempotencyKey(user_id=user_id, key=key, fingerprint=wanted)
    db.session.add(claim)
    try:
        # On PostgreSQL this waits while another transaction holds the same key uncommitted,
        # then fails if that one committed (and succeeds if it rolled back).
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        stored = db.session.scalars(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
            )
        ).one_or_none()
        if stored is None or stored.status_code is None:
            raise Conflict(
                "A request with this Idempotency-Key is still in progress; retry shortly."
            ) from None
        if stored.fingerprint != wanted:
            raise Unprocessable(
                "This Idempotency-Key was already used with a different request.",
                field=HEADER,
                location="headers",
            ) from None
        response = json_response(stored.response_body, stored.status_code)
        response.headers[REPLAYED_HEADER] = "true"
        return response
    g.idempotency_claim = claim
    return None


def record(body: dict, status: int):
    """Store the response under the claimed key (if any) and return it; the route's commit
    writes it together with the request's own changes."""
    text = current_app.json.dumps(body)
    claim = g.pop("idempotency_claim", None)
    if claim is not None:
        claim.status_code = status
        claim.response_body = text
    return json_response(text, status)


def json_response(text: str, status: int):
    return current_app.response_class(text, status=status, mimetype="application/json")


def prune(now=None) -> int:
    """Delete keys older than 24 hours; returns how many. The caller commits."""
    cutoff = (now or utcnow()) - TTL
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return result.rowcount

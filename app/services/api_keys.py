"""API keys: issued and revoked by the operator, one participant each, verified with a small cache."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import NotFound, Unauthenticated
from app.core.security import new_api_key, parse_token, secret_matches
from app.db.models import ApiKey, utcnow


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    participant: str
    label: str
    token: str
    created_at: datetime


class ApiKeyStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._verified: dict[str, tuple[str, str]] = {}  # token → (participant, key id)

    def issue(self, participant: str, label: str, created_by: str) -> IssuedKey:
        key = new_api_key()
        row = ApiKey(key_id=key.key_id, participant=participant, label=label, salt=key.salt,
                     secret_hash=key.secret_hash, created_by=created_by, created_at=utcnow())
        with self._sessions.begin() as session:
            session.add(row)
        return IssuedKey(key.key_id, participant, label, key.token, row.created_at)

    def revoke(self, key_id: str) -> ApiKey:
        with self._sessions.begin() as session:
            row = session.get(ApiKey, key_id)
            if row is None:
                raise NotFound("no such API key", {"key_id": key_id}, code="ApiKeyUnknown")
            if row.revoked_at is None:
                session.execute(update(ApiKey).where(ApiKey.key_id == key_id).values(revoked_at=utcnow()))
                session.refresh(row)
        self._verified = {t: v for t, v in self._verified.items() if v[1] != key_id}
        return row

    def forget(self, participant: str) -> None:
        """Drop the verified tokens of `participant` (its keys were re-pointed to another address)."""
        self._verified = {t: v for t, v in self._verified.items() if v[0] != participant}

    def get(self, key_id: str) -> ApiKey | None:
        with self._sessions() as session:
            return session.get(ApiKey, key_id)

    def list(self, participant: str | None = None) -> list[ApiKey]:
        with self._sessions() as session:
            query = select(ApiKey).order_by(ApiKey.created_at)
            if participant is not None:
                query = query.where(ApiKey.participant == participant)
            return list(session.scalars(query))

    async def authenticate(self, token: str) -> tuple[str, str]:
        """(participant, key id) of a valid, unrevoked token; raises Unauthenticated otherwise."""
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        parsed = parse_token(token)
        if parsed is None:
            raise Unauthenticated("malformed API key", headers={"WWW-Authenticate": "Bearer"})
        key_id, secret = parsed
        row = await asyncio.to_thread(self.get, key_id)
        if row is None or row.revoked_at is not None or not secret_matches(row.salt, secret, row.secret_hash):
            raise Unauthenticated("unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[token] = (row.participant, key_id)
        return row.participant, key_id

"""Service tests: SqlAlchemyUnitOfWork on in-memory SQLite (StaticPool)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from bank.db.engine import make_engine
from bank.db.models import Base
from bank.db.uow import SqlAlchemyUnitOfWork
from bank.domain.model import Actor, Role
from bank.services.uow import UnitOfWork


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def uow(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


def customer_actor(holder_id: uuid.UUID, user_id: uuid.UUID | None = None) -> Actor:
    return Actor(
        user_id=user_id or uuid.uuid4(),
        role=Role.CUSTOMER,
        holder_id=holder_id,
        jti=str(uuid.uuid4()),
    )

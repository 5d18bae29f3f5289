"""Dependencies injected into the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.engine import Engine, selected
from app.store.db import get_session

SessionDep = Annotated[Session, Depends(get_session)]


def get_rule_engine() -> Engine:
    return selected()


EngineDep = Annotated[Engine, Depends(get_rule_engine)]

"""A column matched against a list of ids (or other values without a comma, such as
hex digests) given as one parameter.

A batch names its hundreds of deliveries in several statements (what they were, the
claim, the count of outcomes). As an IN list each id is a placeholder: SQLAlchemy
expands them, the driver converts them one by one and PostgreSQL parses a statement
of another length each time; for 500 ids that took 3.6 ms of a worker's CPU per
statement. On PostgreSQL the ids go as one text parameter that the server splits
into an integer array (`= ANY`): 0.7 ms. SQLite has no arrays, and its placeholders
cost little: it keeps the IN list.

`among` is for a statement built where it runs; `among_parameter` for one built once
per process (building and keying a large statement can cost more than running it),
executed with `{name: value(ids)}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Integer, String, any_, bindparam, cast, func
from sqlalchemy.dialects.postgresql import ARRAY

from commsvc.extensions import db


def among(column: Any, ids: Sequence[int | str], element: Any = Integer) -> ColumnElement[bool]:
    """`column` is one of `ids`, values of the SQL type `element` holding no comma."""
    dialect = db.engine.dialect.name
    return _among(column, _parameter(None, dialect, value(ids)), dialect, element)


def among_parameter(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the ids the statement is executed with as `{name: value(ids)}`,
    in a statement for this SQL dialect ("postgresql", "sqlite")."""
    return _among(column, _parameter(name, dialect), dialect, Integer)


def value(ids: Sequence[int | str]) -> str | list[int | str]:
    """The ids as an `among_parameter` takes them."""
    if db.engine.dialect.name == "postgresql":
        return ",".join(map(str, ids))
    return list(ids)


def _parameter(name: str | None, dialect: str, ids: Any = None) -> BindParameter[Any]:
    if dialect == "postgresql":
        return bindparam(name, ids, type_=String, unique=name is None)
    return bindparam(name, ids, expanding=True, unique=name is None)


def _among(column: Any, ids: BindParameter[Any], dialect: str, element: Any) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return column == any_(cast(func.string_to_array(ids, ","), ARRAY(element)))
    return column.in_(ids)

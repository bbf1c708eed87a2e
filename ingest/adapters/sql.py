"""Databases through SQLAlchemy 2: :func:`read_sql`.

A source names either a ``table`` (reflected, so the name is quoted by the dialect and
never formatted into SQL; ``schema.table`` works where the plain name does not exist) or
one SELECT ``query``, which goes to the database exactly as written (no bind parameters).
Values come back as the database driver gives them (no SQLAlchemy type processing) and
become text as in the other adapters. Nothing is ever committed: the connection's
transaction is rolled back when the read ends. Every error is a
:class:`~ingest.errors.SourceError` with the database's first line, password masked;
an error while rows are fetched names only its kind, since a driver may quote the value it
could not read.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchTableError, SQLAlchemyError

from ingest.adapters._common import RowCollector, cell_text, check_columns, first_line, mask_url
from ingest.adapters._spec import RawTable
from ingest.errors import SourceError

__all__ = ["read_sql"]

_BATCH = 10_000


def read_sql(
    url: str,
    *,
    source: str,
    table: str | None = None,
    query: str | None = None,
    max_field_length: int = 1000,
) -> RawTable:
    """Read a whole table, or the rows of one query, of the database at ``url``.

    Every row counts (row numbers 1..n in the order the database returns them; give a
    query with ORDER BY for a stable order). A SQLite URL must name an existing file
    (SQLAlchemy would otherwise create an empty database).

    Raises
    ------
    SourceError
        If the URL is bad, the driver is missing, the database cannot be opened, the
        table does not exist, the query fails or returns no rows, or the columns have
        blank or duplicate names.
    """
    if (table is None) == (query is None):
        raise ValueError("read_sql needs exactly one of table and query")
    location = mask_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise SourceError(source, f"bad database URL {location}: {first_line(str(exc))}") from None
    password = parsed.password if isinstance(parsed.password, str) else None
    location = parsed.render_as_string(hide_password=True)
    _check_sqlite_file(source, parsed)

    def fail(what: str, exc: BaseException) -> SourceError:
        detail = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        return SourceError(source, f"{what} {location} failed: {mask_url(first_line(str(detail)), password)}")

    try:
        engine = sa.create_engine(parsed)
    except ImportError as exc:
        raise SourceError(
            source, f"the database driver for {parsed.drivername} is not installed ({exc.name})"
        ) from None
    except (SQLAlchemyError, ValueError, TypeError) as exc:
        raise fail("opening", exc) from None
    try:
        with engine.connect() as conn:
            streaming = conn.execution_options(yield_per=_BATCH)
            try:
                if table is not None:
                    result = streaming.execute(_select_table(conn, source, table, password))
                else:
                    # As written: sa.text() would take ':30' in '10:30' for a bind parameter.
                    result = streaming.exec_driver_sql(query or "", execution_options={"no_parameters": True})
            except (SQLAlchemyError, ValueError, TypeError) as exc:
                raise fail("the query on" if query is not None else "reading", exc) from None
            if not result.returns_rows:
                raise SourceError(source, f"the query on {location} returns no rows")
            columns = check_columns(source, list(result.keys()), what="result")
            collector = RowCollector(columns, max_field_length)
            n = 0
            try:
                for row in result:
                    n += 1
                    collector.add(n, [cell_text(v) for v in row])
            except SQLAlchemyError as exc:
                # A driver's message about a row may quote its value (SQLite: "Could not
                # decode to UTF-8 column 'x' with text '...'"), so only its kind is shown.
                detail = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
                raise SourceError(
                    source,
                    f"reading the rows of {location} failed ({type(detail).__name__}; "
                    "the database's message is not shown, as it may quote a value)",
                ) from None
            finally:
                result.close()
    except SourceError:
        raise
    except ImportError as exc:
        raise SourceError(
            source, f"the database driver for {parsed.drivername} is not installed ({exc.name})"
        ) from None
    except SQLAlchemyError as exc:
        raise fail("connecting to", exc) from None
    finally:
        engine.dispose()
    return collector.table(source, location=location, sha256=None)


def _check_sqlite_file(source: str, url: sa.URL) -> None:
    if url.get_backend_name() != "sqlite":
        return
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("uri"):
        return
    if not Path(database).is_file():
        raise SourceError(source, f"file not found: {database}")


def _select_table(conn: Connection, source: str, name: str, password: str | None) -> sa.Executable:
    """SELECT every column of table ``name``, values as the driver gives them."""
    candidates: list[tuple[str | None, str]] = [(None, name)]
    if "." in name:
        prefix, _, rest = name.partition(".")
        candidates.append((prefix, rest))
    for schema, bare in candidates:
        try:
            reflected = sa.Table(bare, sa.MetaData(), schema=schema, autoload_with=conn)
        except NoSuchTableError:
            continue
        except SQLAlchemyError as exc:
            detail = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
            message = mask_url(first_line(str(detail)), password)
            raise SourceError(source, f"cannot read table {name!r}: {message}") from None
        cols = [sa.type_coerce(c, sa.types.NullType()).label(c.name) for c in reflected.columns]
        return sa.select(*cols).select_from(reflected)
    raise SourceError(source, f"no such table: {name!r}")

"""Plain-SQL lists paged by slicing, for the hottest API lists."""

from django.db import connection


class SqlRows:
    """A list read as plain SQL, paged by slicing (`rows[offset:stop]`), rows as dicts.

    For the hottest API lists: building and compiling the equivalent annotated ORM query
    took more time than the rest of the request (docs/PERFORMANCE.md). `conditions` are
    (SQL with %s placeholders, parameter) pairs joined by AND; only constant SQL is formatted
    into the statement, never a value. `fields` names the model field behind each column
    that needs the database's value converted as the ORM would (SQLite keeps timestamps
    naive and decimals as floats; PostgreSQL needs nothing).
    """

    def __init__(
        self,
        select: str,
        conditions: list[tuple[str, object]],
        order_by: str,
        fields: dict | None = None,
    ):
        self.select, self.order_by, self.fields = select, order_by, fields or {}
        self.where = " AND ".join(sql for sql, _ in conditions) or "1 = 1"
        self.params = [param for _, param in conditions]

    def __getitem__(self, window: slice) -> list[dict]:
        offset = window.start or 0
        sql = f"{self.select} WHERE {self.where} ORDER BY {self.order_by} LIMIT %s OFFSET %s"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, window.stop - offset, offset])
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        for name, model_field in self.fields.items():
            column = model_field.get_col(model_field.model._meta.db_table)
            converters = connection.ops.get_db_converters(column)
            converters += model_field.get_db_converters(connection)
            if converters:
                for row in rows:
                    for convert in converters:
                        row[name] = convert(row[name], column, connection)
        return rows

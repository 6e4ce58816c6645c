"""The one error type: a refusal with an HTTP status, a machine `code`, a `message` for people
(English; pages say it in the reader's language by its code) and the `field` at fault.

Services raise it, or a subclass that names their area (PlayError, GameError...), before they
change anything; each surface turns it into its answer in one handler (web/errors.py): the JSON
`{"error": {"code", "message", "field"}}` of every API, or a page's translated message."""


class AppError(Exception):
    """A refused request. `extra` travels in the JSON error beside the four fields (for example
    `retry_after`, or `records` at fault in a sync batch)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.extra = status, code, message, field, extra

    def body(self) -> dict:
        """The JSON error every API answers with."""
        error = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        error.update(self.extra)
        return {"error": error}


def get_or_404(query, message: str, field: str | None = "id"):
    """The first row of a peewee `query`, or a 404 refusal saying `message`."""
    row = query.first()
    if row is None:
        raise AppError(404, "not_found", message, field=field)
    return row

"""Logging set-up: one line per event, as text or as JSON (for log shippers)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup(verbose: bool, fmt: str = "text") -> None:
    """Log to stderr: INFO with *verbose*, else WARNING; mail-parser's chatter only on verbose."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("mailparser").setLevel(logging.INFO if verbose else logging.ERROR)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a first start: 15 lines of steps
    # imapclient warns, in English, that it cannot decode a server's answer as ASCII (a
    # Chinese folder name in "Mailbox doesn't exist: 投稿"): mailbot says what matters itself
    logging.getLogger("imapclient.util").setLevel(logging.ERROR)

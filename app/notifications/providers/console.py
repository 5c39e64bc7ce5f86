"""Development adapters: nothing leaves the machine, everything lands in the outbox.

SMS: one JSON line per message in `$OUTBOX_DIR/sms.jsonl`:
`{"to", "text", "template", "params", "at"}`. Mail: one .eml file per message
in `$OUTBOX_DIR/mail/`.
"""
from __future__ import annotations

import fcntl
import json
import secrets
from email.message import EmailMessage
from pathlib import Path

from app.core.clock import utcnow


class ConsoleSms:
    name = "console"

    def __init__(self, outbox_dir: str) -> None:
        self.path = Path(outbox_dir) / "sms.jsonl"

    def send(self, to: str, text: str, template: str, params: dict) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"to": to, "text": text, "template": template, "params": params, "at": utcnow().isoformat()},
            ensure_ascii=False,
        )
        with self.path.open("a", encoding="utf-8") as fh:
            # Several workers may append at once; a lock keeps lines whole.
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.write(line + "\n")
        return f"console-{secrets.token_hex(6)}"


class ConsoleMail:
    name = "console"

    def __init__(self, outbox_dir: str) -> None:
        self.dir = Path(outbox_dir) / "mail"

    def send(self, message: EmailMessage) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        message_id = f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        (self.dir / f"{message_id}.eml").write_bytes(bytes(message))
        return message_id

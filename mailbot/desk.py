"""The desk: what every mail is judged and filed with (config, file store, rules), and the
database-free steps the pipeline and its worker processes share — classifying a parsed
mail with a snapshot of the known senders, filing its attachments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .classify.engine import Classification, RuleBook, classify, load_rulebook
from .config import Campaign, Config, roster_file
from .filing import FileStore
from .parse import ParsedMessage
from .rows import all_attachments


@dataclass(frozen=True)
class Desk:
    """What every message is processed with: built once per run from the config."""

    cfg: Config
    store: FileStore
    rules: RuleBook
    own_addresses: frozenset[str] = frozenset()
    send_receipts: bool = False

    @property
    def campaign(self) -> Campaign:
        return self.cfg.campaign


def own_addresses(cfg: Config) -> frozenset[str]:
    """mailbot's own addresses: mail from them is a loop."""
    return frozenset(a.lower() for a in (cfg.mailbox.username, cfg.smtp.from_address,
                                         cfg.smtp.username) if a and "@" in a)


def build_desk(cfg: Config, send_receipts: bool | None = None) -> Desk:
    """The desk for *cfg*; receipts as configured unless *send_receipts* says otherwise."""
    return Desk(cfg=cfg, store=FileStore(cfg.storage.data_dir), rules=load_rulebook(cfg.rules_dir, roster_file(cfg)),
                own_addresses=own_addresses(cfg),
                send_receipts=cfg.receipts.enabled if send_receipts is None else send_receipts)


def verdict_for(known: Mapping[str, str], desk: Desk, parsed: ParsedMessage,
                received_at: datetime, trusted: bool = False,
                forwarded_by: str | None = None) -> tuple[Classification, str, str]:
    """Classify *parsed* with the *known* senders (e.g. ``db.KnownSenders(session)``),
    and the school whose bundle forwarded it, if any; return the classification, the
    status and its reason."""
    verdict = classify(parsed, desk.rules, desk.campaign, received_at,
                       known, desk.own_addresses, trusted, forwarded_by)
    if not parsed.sender and verdict.status != "ignored":
        return verdict, "quarantined", "没有可识别的发件人地址 (no sender address)"
    return verdict, verdict.status, verdict.reason


def store_attachments(store: FileStore, parsed: ParsedMessage) -> list:
    """File every attachment (forwarded mail's too): [(position, attachment, stored, forwarded)]."""
    return [(pos, att, store.put("files", att.payload, att.filename, durable=False), forwarded)
            for pos, (att, forwarded) in enumerate(all_attachments(parsed))]

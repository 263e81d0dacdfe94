"""mailbot: an intake desk for a campaign's contact mailbox."""

__version__ = "0.1.0"

"""The notification outbox and its delivery (in-site, e-mail, SMS)."""

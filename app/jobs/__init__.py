"""RQ jobs, one module per purpose. Their dotted names (``app.jobs.<module>.<function>``) are
stored by RQ with every queued and scheduled job, so they stay as they are; the queue wiring
they use is ``app/core/queue.py``."""

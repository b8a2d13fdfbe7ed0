"""Background work for formflow: notification delivery through RQ.

``workers.channels`` sends one message (mail, webhook); ``workers.connection`` opens the Redis
connection every producer and worker uses, starting an embedded server in the instance folder
when no ``FORMFLOW_REDIS_URL`` is configured. Importing this package connects to nothing.
"""

from __future__ import annotations

__all__: list[str] = []

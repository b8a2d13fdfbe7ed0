"""formflow's domain core: definitions, rules, answers and workflows.

No I/O and no globals beyond what callers pass in; no flask, wtforms, redis or rq (a test
checks). The web app, the API, the CLI and the workers all stand on this one implementation.
"""

from __future__ import annotations

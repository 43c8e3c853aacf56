"""Use cases: one function each, keyword-only, taking the unit of work, the actor and `now`.

Each checks the actor's permission, runs in one transaction and writes its audit event.
Pages and the command line call only these.
"""

from portal.services import dues as _dues  # noqa: E402,F401  (registers the stored-clock hook)

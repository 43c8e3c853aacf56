"""A separate OS process that accepts cases as the GM office: `python -m tests.services.accept_worker
URL START_AT ID [ID …]`. It waits until START_AT (epoch seconds) so all workers start together, then
prints a JSON list: the number given to each case, or the name of the refusal."""
from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta

from portal.domain.errors import DomainError
from portal.persistence.database import UnitOfWork, make_engine
from portal.services import complaints
from portal.services.actors import load_actor

NOW = datetime(2025, 9, 30, 11, 0)


def main(url: str, start_at: float, ids: list[int]) -> None:
    uow = UnitOfWork(make_engine(url))
    gm = load_actor(uow, "gmo")
    time.sleep(max(0.0, start_at - time.time()))
    results = []
    for complaint_id in ids:
        try:
            results.append(complaints.accept_complaint(
                uow, actor=gm, complaint_id=complaint_id, category="claim", severity="general",
                departments=["operations"], now=NOW + timedelta(seconds=len(results))).number)
        except DomainError as refused:
            results.append(type(refused).__name__)
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), [int(a) for a in sys.argv[3:]])

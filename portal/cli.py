"""Command line: `python -m portal …` (the wall clock is read here, and only here, for the CLI)."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from portal import config
from portal.domain.clocks import Unit, explain
from portal.domain.errors import DomainError, ValidationFailed, first_line
from portal.i18n import render, translate
from portal.i18n.format import describe, fmt_day


class UsageError(Exception):
    """A command line argument the command cannot use: one line on standard error, exit code 2."""


MAX_DEADLINE = {"working_days": 2000, "days": 3000, "hours": 72000}


def _month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(p) for p in text.split("-"))
        date(year, month, 1)
    except ValueError:
        raise UsageError(f"month must be YYYY-MM with a month 01-12, not {text!r}") from None
    return year, month


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"day must be a real date as YYYY-MM-DD, not {text!r}") from None


def _now() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


def _uow(url: str | None = None):  # noqa: ANN202
    from portal.services.setup import open_database
    return open_database(url or config.database_url())


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    _uow()
    print(f"database ready: {config.database_url().split('@')[-1]}")
    return 0


def _backup_settings() -> tuple[bytes | None, str]:
    from portal.adapters.notices import outbox_folder
    from portal.services.backups import backup_key
    return backup_key(config.secret("PORTAL_BACKUP_KEY", "backup", "key")), str(outbox_folder(config.database_url()))


def _operator_errors():  # noqa: ANN202
    """What a backup or restore can meet that is the installation's, not a bug: said in one line, exit 1."""
    import sqlite3
    from sqlalchemy.exc import SQLAlchemyError
    from portal.services.backups import BackupError
    return (BackupError, ValueError, OSError, SQLAlchemyError, sqlite3.Error)


def cmd_db_backup(args: argparse.Namespace) -> int:
    from portal.services.backups import make_backup
    key, outbox = _backup_settings()
    keep = args.keep if args.keep is not None else config.secret("PORTAL_BACKUP_KEEP", "backup", "keep")
    try:
        made = make_backup(config.database_url(), Path(args.file), outbox=Path(outbox), key=key,
                           keep=int(keep) if keep is not None else None, now=_now())
    except _operator_errors() as problem:
        print(f"error: {first_line(problem)}", file=sys.stderr)
        return 1
    rows = sum(made.counts.values())
    print(f"backup written: {made.path} ({made.size:,} bytes, {'encrypted' if made.encrypted else 'NOT encrypted'}, "
          f"owner-only 0600): {len(made.counts)} tables, {rows:,} rows, {made.outbox_files} outbox file(s)")
    for old in made.pruned:
        print(f"removed old backup {old}")
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    from portal.services.backups import restore_backup
    key, outbox = _backup_settings()
    try:
        restored = restore_backup(config.database_url(), Path(args.file), outbox=Path(outbox), key=key,
                                  force=args.force, allow_unencrypted=args.allow_unencrypted, now=_now())
    except _operator_errors() as problem:
        print(f"error: {first_line(problem)}", file=sys.stderr)
        return 1
    for line in restored.differences:
        print(f"difference: {line}", file=sys.stderr)
    print(f"restored the {restored.backend} backup made {restored.made_at}: {len(restored.counts)} tables, "
          f"{sum(restored.counts.values()):,} rows, {restored.outbox_files} outbox file(s); "
          + ("row counts and the audit trail's digest match the backup" if not restored.differences
             else f"{len(restored.differences)} difference(s) from the backup"))
    if restored.differences:
        return 1
    _uow()      # migrated to this version's head when the backup is older; the calendar's new years loaded
    return 0


def cmd_db_grant(args: argparse.Namespace) -> int:
    from portal.services.grants import grant_app_role
    for statement in grant_app_role(_uow(), role=args.role):
        print(statement)
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from portal.services import users
    password = _read_password(args.username)
    users.add_user(_uow(), actor=None, username=args.username, display_name=args.name or args.username,
                   password=password, roles=args.role, department=args.department,
                   approval_level=args.approval_level, email=args.email, now=_now())
    print(f"user {args.username} added with roles {', '.join(args.role)}")
    return 0


def _read_password(username: str) -> str:
    return sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else \
        getpass.getpass(f"password for {username}: ")


def cmd_users_reset_password(args: argparse.Namespace) -> int:
    from portal.services import users
    users.reset_password(_uow(), actor=None, username=args.username, password=_read_password(args.username),
                         now=_now())
    print(f"password of {args.username} reset; their sessions have ended")
    return 0


def cmd_users_active(args: argparse.Namespace) -> int:
    from portal.services import users
    users.set_user_active(_uow(), actor=None, username=args.username, active=args.active, now=_now())
    print(f"user {args.username} {'enabled' if args.active else 'disabled'}")
    return 0


def cmd_users_sso(args: argparse.Namespace) -> int:
    from portal.services import users
    users.set_sso_subject(_uow(), actor=None, username=args.username, subject=None if args.clear else args.subject,
                          now=_now())
    print(f"user {args.username}: " + ("no company-account subject" if args.clear else f"company-account subject "
                                                                                       f"{args.subject}"))
    return 0


def cmd_demo_seed(args: argparse.Namespace) -> int:
    from portal import demo
    uow = _uow()
    if demo.has_users(uow):
        if args.if_empty:
            print("database already has users; demo seed skipped")
            return 0
        if not args.append:
            raise UsageError("the database already has users and data; add --append to add demo cases to it "
                             "(or --if-empty to skip)")
    if not 0 <= args.complaints <= 100_000:
        raise UsageError(f"--complaints must be between 0 and 100000, not {args.complaints}")
    counts = demo.seed(uow, complaints_count=args.complaints, seed_value=args.seed, now=_now())
    print("demo users: " + ", ".join(f"{u.username}/{u.password}" for u in demo.DEMO_USERS))
    print(f"demo complaints: {counts}")
    return 0


def cmd_calendar_show(args: argparse.Namespace) -> int:
    from portal.services.rules import load_calendar
    year, month = _month(args.month)
    calendar = load_calendar(_uow())
    day = date(year, month, 1)
    while day.month == month:
        info = calendar.get(day)
        if info is None:
            print(f"{day:%Y-%m-%d} {translate(f'weekday.{day.weekday()}', args.lang)}  "
                  f"{translate('admin.calendar.unknown', args.lang)}")
        else:
            working = translate("admin.calendar.is_working", args.lang) if info.is_working else "-"
            print(f"{fmt_day(info, args.lang)}  {working}")
        day += timedelta(days=1)
    return 0


def cmd_calendar_set(args: argparse.Namespace) -> int:
    from portal.services.calendar import set_calendar_day
    day = _day(args.day)
    set_calendar_day(_uow(), actor=None, day=day, is_working=args.working, note=args.note, now=_now(),
                     force=args.force)
    print(f"{day} set: {'working' if args.working else 'day off'} {args.note}")
    return 0


def cmd_deadline(args: argparse.Namespace) -> int:
    from portal.services.rules import load_calendar
    try:
        start = datetime.strptime(args.start, "%Y-%m-%d %H:%M")
    except ValueError:
        raise UsageError(f'--from must be "YYYY-MM-DD HH:MM" (a real date and time), not {args.start!r}') from None
    if args.working_days is not None:
        unit, target, name = Unit.WORKING_DAYS, args.working_days, "working_days"
    elif args.days is not None:
        unit, target, name = Unit.DAYS, args.days, "days"
    else:
        unit, target, name = Unit.HOURS, args.hours, "hours"
    if not 0 < target <= MAX_DEADLINE[name]:
        raise UsageError(f"--{name.replace('_', '-')} must be between 1 and {MAX_DEADLINE[name]}, not {target}")
    explanation = explain(unit, target, start, load_calendar(_uow()))
    for line in describe(explanation, args.lang):
        print(line)
    return 0 if explanation.missing_year is None else 2


def cmd_notices_send(args: argparse.Namespace) -> int:
    """Deliver the notices due (once, or every --loop seconds until interrupted); see the README,
    "Notices to the customer". Safe to run beside the app's own background sender."""
    import logging
    from portal.adapters.notices import configured_transports
    from portal.services.notices_outbox import run_sender, send_due
    if args.limit < 1 or (args.loop is not None and args.loop <= 0):
        raise UsageError("--limit and --loop must be positive")
    uow = _uow()
    transport = configured_transports()
    email, sms = transport.email, transport.sms
    print(f"notices: e-mail via {email.name} {email.where()}, SMS via {sms.name} {sms.where()}", flush=True)
    if args.loop is None:
        print(f"notices: {send_due(uow, now=_now(), transport=transport, limit=args.limit)}")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        run_sender(uow, clock=_now, transport=transport, interval=args.loop)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_sla_sweep(args: argparse.Namespace) -> int:
    from portal.services.reminders import issue_reminders
    uow = _uow()
    issued = issue_reminders(uow, now=_now())
    print(f"{issued} reminder(s) / late-inquiry(ies) issued")
    return 0


def cmd_stats_verify(args: argparse.Namespace) -> int:
    import time
    from portal.services.statistics import verify_rollups
    month = None
    if args.month:
        year, number = _month(args.month)
        month = date(year, number, 1)
    began = time.perf_counter()
    differences = verify_rollups(_uow(), month=month)
    for line in differences:
        print(line)
    scope = f"month {args.month}" if args.month else "every day and month"
    print(f"stats verify ({scope}): {len(differences)} difference(s) from the raw tables "
          f"in {time.perf_counter() - began:.1f} s")
    return 1 if differences else 0


def cmd_stats_rebuild(args: argparse.Namespace) -> int:
    import time
    from portal.services.statistics import rebuild_rollups
    began = time.perf_counter()
    rows = rebuild_rollups(_uow())
    print(f"stats rebuild: {rows:,} rollup rows from the raw tables in {time.perf_counter() - began:.1f} s")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from portal.services.doctor import Limits, run_checks
    checks = run_checks(config.database_url(), now=_now(),
                        limits=Limits(outbox_minutes=args.outbox_minutes, max_sessions=args.max_sessions))
    for check in checks:
        print(check.line())
    return 0 if all(check.ok for check in checks) else 1


def cmd_sessions_purge(args: argparse.Namespace) -> int:
    from portal.services.sessions import purge_ended
    if args.older_than_days < 1:
        raise UsageError("--older-than-days must be at least 1")
    gone = purge_ended(_uow(), now=_now(), older_than_days=args.older_than_days)
    print(f"{gone:,} ended session(s) purged")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.workshop:
        from portal import bench_workshop
        return bench_workshop.run(sessions=args.workshop, clicks=args.clicks, think=tuple(args.think),
                                  browsers=args.browsers, start_within=args.start_within)
    from portal.bench import run
    return run(sizes=args.complaints, backends=args.backends, repeat=args.repeat, postgres_url=args.postgres_url,
               sandbox=args.sandbox, only=args.only, keep=args.keep, reuse=args.reuse,
               statements=args.statements)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m portal", description="Complaint portal tools")
    sub = top.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="create or migrate the database").set_defaults(func=cmd_db_upgrade)
    backup = db.add_parser("backup", help="the database and the notices' outbox folder in one file, readable by its "
                                          "owner only; encrypted when a key is set ([backup] key)")
    backup.add_argument("file", help="a new file (e.g. /var/backups/portal/portal-$(date +%%F-%%H%%M).backup)")
    backup.add_argument("--keep", type=int, metavar="N",
                        help="then delete all but the N newest portal backups in that folder ([backup] keep)")
    backup.set_defaults(func=cmd_db_backup)
    restore = db.add_parser("restore", help="restore a backup into an empty database (and its outbox files), then "
                                            "check every table's row count and the audit trail's digest")
    restore.add_argument("file")
    restore.add_argument("--force", action="store_true", help="replace what a non-empty database holds (and outbox "
                                                              "files that differ)")
    restore.add_argument("--allow-unencrypted", action="store_true",
                         help="restore an unencrypted backup although a key is set")
    restore.set_defaults(func=cmd_db_restore)
    grant = db.add_parser("grant-app-role", help="PostgreSQL: let a login role run the portal, with audit "
                                                 "events append-only for it (run as the owner)")
    grant.add_argument("role")
    grant.set_defaults(func=cmd_db_grant)

    users = sub.add_parser("users").add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", help="add a user; the password is read from standard input or a prompt")
    add.add_argument("username")
    add.add_argument("--name", help="display name")
    add.add_argument("--role", action="append", required=True, help="repeat for several roles")
    add.add_argument("--department", help="department code, e.g. operations")
    add.add_argument("--approval-level", choices=["dept_manager", "deputy_gm", "gm"])
    add.add_argument("--email", default="")
    add.set_defaults(func=cmd_users_add)
    sso = users.add_parser("sso", help="tie a user to the subject (sub) of their company account for single sign-on "
                                       "(without one, a sign-on is matched by the user's e-mail)")
    sso.add_argument("username")
    tie = sso.add_mutually_exclusive_group(required=True)
    tie.add_argument("--subject")
    tie.add_argument("--clear", action="store_true")
    sso.set_defaults(func=cmd_users_sso)
    reset = users.add_parser("reset-password", help="set a new password (read from standard input or a "
                                                   "prompt); ends every session of the user")
    reset.add_argument("username")
    reset.set_defaults(func=cmd_users_reset_password)
    for name, active in (("disable", False), ("enable", True)):
        cmd = users.add_parser(name)
        cmd.add_argument("username")
        cmd.set_defaults(func=cmd_users_active, active=active)

    demo = sub.add_parser("demo").add_subparsers(dest="demo_command", required=True)
    seed = demo.add_parser("seed", help="demo users (one per role) and realistic complaints")
    seed.add_argument("--complaints", type=int, default=60)
    seed.add_argument("--seed", type=int, default=7)
    existing = seed.add_mutually_exclusive_group()
    existing.add_argument("--if-empty", action="store_true", help="do nothing when users already exist")
    existing.add_argument("--append", action="store_true", help="add demo cases to a database that has data")
    seed.set_defaults(func=cmd_demo_seed)

    cal = sub.add_parser("calendar").add_subparsers(dest="calendar_command", required=True)
    show = cal.add_parser("show", help="each day of a month, working or not, and why")
    show.add_argument("month", help="YYYY-MM")
    show.add_argument("--lang", default="zh", choices=["zh", "en"])
    show.set_defaults(func=cmd_calendar_show)
    setday = cal.add_parser("set", help="record an official day the package does not cover yet")
    setday.add_argument("day", help="YYYY-MM-DD")
    kind = setday.add_mutually_exclusive_group(required=True)
    kind.add_argument("--working", dest="working", action="store_true")
    kind.add_argument("--off", dest="working", action="store_false")
    setday.add_argument("--note", default="")
    setday.add_argument("--force", action="store_true", help="override a day the official calendar covers")
    setday.set_defaults(func=cmd_calendar_set)

    deadline = sub.add_parser("deadline", help="the due time the portal would show, and why")
    deadline.add_argument("--from", dest="start", required=True, help='"YYYY-MM-DD HH:MM"')
    amount = deadline.add_mutually_exclusive_group(required=True)
    amount.add_argument("--working-days", type=int)
    amount.add_argument("--days", type=int)
    amount.add_argument("--hours", type=int)
    deadline.add_argument("--lang", default="zh", choices=["zh", "en"])
    deadline.set_defaults(func=cmd_deadline)

    notices = sub.add_parser("notices").add_subparsers(dest="notices_command", required=True)
    send = notices.add_parser("send", help="deliver the notices to customers that are due (for a scheduler)")
    send.add_argument("--loop", type=float, metavar="SECONDS", help="keep sending, a round every SECONDS")
    send.add_argument("--limit", type=int, default=100, help="at most this many notices a round")
    send.set_defaults(func=cmd_notices_send)

    sla = sub.add_parser("sla").add_subparsers(dest="sla_command", required=True)
    sla.add_parser("sweep", help="issue due reminders and late-inquiries (idempotent; for a scheduler)") \
        .set_defaults(func=cmd_sla_sweep)

    stats = sub.add_parser("stats").add_subparsers(dest="stats_command", required=True)
    verify = stats.add_parser("verify", help="recompute the statistics rollups from the raw tables and report any "
                                             "difference (exit 1 when there is one)")
    verify.add_argument("--month", metavar="YYYY-MM", help="only this month's days and month row")
    verify.set_defaults(func=cmd_stats_verify)
    stats.add_parser("rebuild", help="rebuild every statistics rollup row from the raw tables (after a restore, an "
                                     "upgrade or a bulk load)").set_defaults(func=cmd_stats_rebuild)

    doctor = sub.add_parser("doctor", help="check the installation, one line a check; exit 1 on a problem "
                                           "(for monitoring)")
    doctor.add_argument("--outbox-minutes", type=int, default=30, metavar="M",
                        help="a notice due longer than this and not sent is a problem (default 30)")
    doctor.add_argument("--max-sessions", type=int, default=100_000, metavar="N",
                        help="more rows than this in the login sessions table is a problem (default 100000)")
    doctor.set_defaults(func=cmd_doctor)
    login_sessions = sub.add_parser("sessions").add_subparsers(dest="sessions_command", required=True)
    purge = login_sessions.add_parser("purge", help="delete login sessions that ended more than N days ago")
    purge.add_argument("--older-than-days", type=int, default=30, metavar="N")
    purge.set_defaults(func=cmd_sessions_purge)
    bench = sub.add_parser("bench", help="every page's server time and bare SQL on throw-away databases")
    bench.add_argument("--complaints", type=int, nargs="*", default=[100_000],
                       help="sizes to seed, e.g. --complaints 100000 1000000")
    bench.add_argument("--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    bench.add_argument("--postgres-url", default=os.environ.get(
        "PORTAL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="a server where a throw-away database may be created")
    bench.add_argument("--repeat", type=int, default=5)
    bench.add_argument("--only", nargs="+", metavar="TEXT",
                       help="measure only the pages whose label contains one of these (e.g. \"GM office\")")
    bench.add_argument("--keep", type=Path, metavar="DIR",
                       help="leave the seeded databases for --reuse (SQLite files in DIR, PostgreSQL databases "
                            "portal_bench_kept_<size>)")
    bench.add_argument("--reuse", nargs="+", metavar="URL", default=[],
                       help="measure the pages on databases a --keep run left, without seeding (give --complaints "
                            "with no size to seed nothing else)")
    bench.add_argument("--statements", type=int, default=0, metavar="N",
                       help="under each page, its N slowest statements with their time (to find what to index)")
    bench.add_argument("--sandbox", action="store_true",
                       help="also time the trainer's sandbox rebuild (the complaint sizes may be left empty)")
    bench.add_argument("--workshop", type=int, metavar="N", default=0,
                       help="instead: N trainees at once on a fresh sandbox, over Streamlit's websocket protocol; "
                            "click-to-render p50/p95/max per page and the errors seen")
    bench.add_argument("--clicks", type=int, default=10, help="with --workshop: clicks per trainee after logging in")
    bench.add_argument("--think", type=float, nargs=2, default=[3.0, 10.0], metavar=("MIN", "MAX"),
                       help="with --workshop: seconds between a trainee's clicks (uniform)")
    bench.add_argument("--start-within", type=float, default=10.0, metavar="SECONDS",
                       help="with --workshop: every trainee opens the portal within this many seconds")
    bench.add_argument("--browsers", type=int, default=0, metavar="M",
                       help="with --workshop: afterwards the same steps in M real Chromium contexts, reported beside")
    bench.set_defaults(func=cmd_bench)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`… | head`): stop writing, quietly for the rest of the output.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("error: output closed before the command finished", file=sys.stderr)
        return 2
    except ValidationFailed as refused:
        for field, message in refused.errors.items():
            print(f"{field}: {render(message, 'en')}", file=sys.stderr)
        return 1
    except DomainError as refused:
        print(render(refused.message, "en"), file=sys.stderr)
        return 1

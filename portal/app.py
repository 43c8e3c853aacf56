"""Entry script: who is signed in → which pages → st.navigation → run.

It lives inside the package, away from the top-level `pages/` folder, so Streamlit never serves a
page script by itself; every page is registered here, and a page the user's roles do not include is
registered as a refusal at the same address.
"""
from __future__ import annotations

import streamlit as st

from portal.i18n import LANGUAGES
from portal.ui import auth, chrome_words
from portal.services import aftersales_queries, queries
from portal.ui.context import in_sandbox, lang, now, open_cases_without_calendar, page_run, reference, t, uow
from portal.ui.navigation import BY_KEY, PAGES, PageSpec, allowed
from portal.ui.notices import start_background_sender
from portal.ui.widgets import labels, note_page


def _refusal(spec: PageSpec):  # noqa: ANN202
    def page() -> None:
        auth.refuse(spec.key)
    page.__name__ = f"refused_{spec.key}"
    return page


def _login(key: str):  # noqa: ANN202
    def page() -> None:
        auth.login_page()
    page.__name__ = f"login_{key}"
    return page


def _not_found(home: st.Page):  # noqa: ANN202
    def page() -> None:
        st.title(t("notfound.title"))
        st.write(t("notfound.text"))
        st.page_link(home, label=t("notfound.home"), icon="🏠")
    page.__name__ = "not_found"
    return page


def _unknown_address(known: set[str]) -> str | None:
    """The address typed in the browser when no page has it (Streamlit would otherwise run the
    home page under an English "Page not found" notice), so that it can get a page of its own."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    manager = getattr(get_script_run_ctx(), "pages_manager", None)
    name = (getattr(manager, "intended_page_name", None) or "").strip().strip("/")
    if not name or name in known or "/" in name or getattr(manager, "intended_page_script_hash", None):
        return None
    return name


# Each home-page to-do opens the tab where it is done (`widgets.lazy_tabs`: ?tab=<the key's last part>).
TODO_TABS = {"accept": "gm.tab.accept", "consolidate": "gm.tab.consolidate", "close": "gm.tab.close",
             "stuck": "gm.tab.stuck", "follow_up_task": "gm.tab.follow_up", "negotiate": "neg.tab.negotiate",
             "follow_up": "neg.tab.follow_up", "contact_due": "neg.tab.contacts", "review": "neg.tab.review",
             "investigate": "dept.tab.investigate", "report_to_gm": "dept.tab.report", "assign": "dept.tab.investigate",
             "approve": "appr.queue", "final_approve": "appr.final_queue", "instruct_report": "appr.instruct_queue",
             "reports_to_decide": "desk.tab.queue", "major_to_report": "desk.tab.queue",
             "incomplete": "desk.tab.queue", "confirm_month": "review.tab.department",
             "review_disputes": "review.tab.disputes", "quality_waiting": "dept.tab.quality",
             "effect_due": "gm.tab.rectifications", "follow_up_due": "neg.tab.follow_up",
             "follow_up_action": "dept.tab.follow_ups", "archive_ready": "gm.tab.archive"}
# What waits at the service desk: for its clerks (售后受理), and for 运营部's hand-over to the insurer (理赔移交):
# `aftersales_queries.desk_counts` → the page where it is done
DESK_TODOS = {"reports_to_decide": "desk", "major_to_report": "desk", "incomplete": "desk",
              "to_hand_over": "handover", "handover_overdue": "handover"}


def _desk_todos(actor) -> list[queries.Todo]:  # noqa: ANN001
    if not (allowed(BY_KEY["desk"], actor.roles) or allowed(BY_KEY["handover"], actor.roles)):
        return []
    counts = aftersales_queries.desk_counts(uow(), actor=actor, now=now())
    return [queries.Todo(key, counts[key], page) for key, page in DESK_TODOS.items() if key in counts]


def _review_todos(actor) -> list[queries.Todo]:  # noqa: ANN001
    """月度检查 (002 art.13.9): a department head confirms last month's ratios; the GM office resolves disputes."""
    if not allowed(BY_KEY["monthly_review"], actor.roles):
        return []
    from portal.services import monthly_review
    out = []
    if monthly_review.month_to_confirm(uow(), actor=actor, now=now()):
        out.append(queries.Todo("confirm_month", 1, "monthly_review"))
    disputes = monthly_review.open_dispute_count(uow(), actor=actor)
    if disputes:
        out.append(queries.Todo("review_disputes", disputes, "monthly_review"))
    return out


def _warning_todos(actor) -> list[queries.Todo]:  # noqa: ANN001
    """预警 (004 ch.9): raised warnings nobody has answered yet, for the GM office and managers."""
    from portal.services import warning_alerts
    waiting = warning_alerts.open_count(uow(), actor=actor)
    return [queries.Todo("warnings_open", waiting, "statistics")] if waiting else []


def _rectify_todos(actor) -> list[queries.Todo]:  # noqa: ANN001
    """整改 (issue 18): an owner's open and overdue items; 运营部's closed cases waiting for its quality check; the
    GM office's effect confirmations due."""
    from portal.domain.roles import Role
    from portal.services import quality, rectification
    out = []
    if actor.has(Role.HANDLER):
        mine = rectification.count_items(uow(), actor=actor, which="mine")
        if mine:
            out.append(queries.Todo("rect_mine", mine, "department"))
            overdue = rectification.count_overdue_mine(uow(), actor=actor, now=now())
            if overdue:
                out.append(queries.Todo("rect_overdue", overdue, "department"))
        if actor.department_code == quality.QUALITY_DEPARTMENT:
            waiting = quality.count_waiting(uow(), actor=actor)
            if waiting:
                out.append(queries.Todo("quality_waiting", waiting, "department"))
    if actor.has(Role.GM_OFFICE):
        due = rectification.count_items(uow(), actor=actor, which="effect_due", now=now())
        if due:
            out.append(queries.Todo("effect_due", due, "gm_office"))
    return out


def _closing_todos(actor) -> list[queries.Todo]:  # noqa: ANN001
    """After closure (issue 18): scheduled follow-ups due, dissatisfied follow-ups sent to the handler's
    department, closed cases ready to archive."""
    from portal.services import closing
    return closing.closing_todos(uow(), actor=actor, now=now())


def _todo_card(item) -> None:  # noqa: ANN001
    """A to-do: how many wait, and a link to the page (and the tab) where they are done."""
    spec = BY_KEY[item.page]
    tab = TODO_TABS.get(item.key)
    st.metric(t(f"todo.{item.key}"), item.count)
    label = t(f"nav.{item.page}") + (f" › {t(tab)}" if tab else "")
    st.page_link(spec.path, label=label, icon=spec.icon,
                 query_params={"tab": tab.rsplit(".", 1)[-1]} if tab else None)


def _home(actor):  # noqa: ANN001, ANN202
    def home() -> None:
        st.title(t("home.welcome", name=actor.display_name))
        st.write(t("home.roles", roles=auth.role_names(actor.roles)))
        if actor.department_code:
            names = labels(reference().departments)
            st.write(t("home.department", department=names.get(actor.department_code, "")))
        todo = queries.todo_counts(uow(), actor=actor, now=now()) + _desk_todos(actor) + _review_todos(actor) \
            + _warning_todos(actor) + _rectify_todos(actor) + _closing_todos(actor)
        if todo:
            st.subheader(t("home.todo"))
            for start in range(0, len(todo), 4):
                for column, item in zip(st.columns(4), todo[start:start + 4]):
                    with column.container(border=True):
                        _todo_card(item)
        mine = [spec for spec in PAGES if allowed(spec, actor.roles)]
        if mine:
            st.write(t("home.pages"))
            for spec in mine:
                st.page_link(spec.path, label=t(spec.title_key), icon=spec.icon)
        else:
            st.info(t("home.no_pages"))
    return home


def main() -> None:
    st.set_page_config(page_title=t("app.title"), page_icon="📮", layout="wide")
    uow()  # creates and migrates the database on the first request of this process
    start_background_sender()  # the notices outbox: one sender thread per process (the wall clock, real DB)
    with st.sidebar:
        st.selectbox(t("app.language"), list(LANGUAGES), format_func=LANGUAGES.get, key="lang")
        chrome_words.install(lang())      # Streamlit's own widget words in the chosen language
    actor = auth.signed_in_this_run()
    if actor is None:
        # Every address shows the login form, so a typed address lands on its page after login.
        pages = [st.Page(_login("login"), title=t("nav.login"), url_path="login",
                         default=True)]
        pages += [st.Page(_login(spec.key), title=t("nav.login"), url_path=spec.key)
                  for spec in PAGES]
        pages.append(st.Page(_login("home"), title=t("nav.login"), url_path="home"))
        unknown = _unknown_address({p.url_path for p in pages} | {"login"})
        if unknown:
            pages.append(st.Page(_not_found(pages[0]), title=t("notfound.title"), url_path=unknown))
        st.navigation(pages, position="hidden").run()
        return
    auth.keep_cookie()
    home = st.Page(_home(actor), title=t("nav.home"), icon="🏠", url_path="start", default=True)
    # The default page is served at the root only; /home (where a login typed there lands) is its twin.
    twin = _home(actor)
    twin.__name__ = "home_at_home"
    pages = [home]
    for spec in PAGES:
        if allowed(spec, actor.roles):
            pages.append(st.Page(spec.path, title=t(spec.title_key), icon=spec.icon, url_path=spec.key))
        else:
            pages.append(st.Page(_refusal(spec), title=t(spec.title_key), url_path=spec.key))
    pages.append(st.Page(twin, title=t("nav.home"), icon="🏠", url_path="home"))
    unknown = _unknown_address({p.url_path for p in pages} | {"start"})
    if unknown:
        pages.append(st.Page(_not_found(home), title=t("notfound.title"), url_path=unknown))
    current = st.navigation(pages, position="hidden")
    if in_sandbox():                    # every page says so, with the sandbox's own clock
        st.info(t("sandbox.banner", at=f"{now():%Y-%m-%d %H:%M}"), icon="🎓")
    missing = open_cases_without_calendar()
    slot = st.empty()                   # its place kept either way: the page below keeps its open tab
    if missing:                         # on every page until the administrator adds the year
        slot.warning(t("calendar.missing_open_cases", count=missing), icon="⚠️")
    note_page(current.url_path)
    with st.sidebar:
        st.caption(t("app.signed_in_as", name=actor.display_name, roles=auth.role_names(actor.roles)))
        st.page_link(home, label=t("nav.home"), icon="🏠")
        for spec, page in zip(PAGES, pages[1:]):
            if allowed(spec, actor.roles):
                st.page_link(page, label=t(spec.title_key), icon=spec.icon)
        if st.button(t("sandbox.leave") if in_sandbox() else t("app.logout"), key="logout_button"):
            auth.log_out()
    current.run()


with page_run():
    main()

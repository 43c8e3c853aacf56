"""The README's production set-up, run: two PostgreSQL-backed portal processes behind Debian's nginx over TLS.

The nginx configuration is the README's example, filled in by the test (its ports, the certificate the test makes)
and wrapped in the few top-level lines an unprivileged nginx needs (`-p DIR`: pid, logs and temp folders in the
test's folder). Through the proxy a user logs in (the cookie is Secure); the same login works on the other process;
case numbers handed out on both stay unique; a logout on one process ends the session on the other; a setting an
administrator saves on one process is in force on the other at the next login; then the process serving the
browser is killed and the browser, reconnected through nginx to the other one, is still signed in.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from portal.config import ROOT
from portal.persistence.database import UnitOfWork, make_engine
from portal.services import complaints
from portal.services.actors import load_actor
from portal.ui.auth import COOKIE_NAME
from tests.conftest import IN_CI, PASSWORD, T0, _drop_postgres, _fresh_postgres, _pg_url
from tests.e2e.conftest import _free_port
from tests.e2e.test_browser import log_in, open_page, settle
from tests.e2e.test_configuration import edit_cell
from tests.e2e.test_process import open_tab, submit
from tests.helpers import a_form

pytestmark = pytest.mark.postgres

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SIGNED_IN = re.compile("当前用户：")


def readme_nginx() -> str:
    """The nginx example of the README's production section."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```nginx\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "the README holds one nginx example"
    return blocks[0]


def fill(template: str, *, upstreams: tuple[int, int], http: int, https: int, cert: Path, key: Path) -> str:
    """The README's example with this test's ports and certificate: every placeholder must be there, so the README
    stays the template (a changed example fails here rather than going untested)."""
    replacements = {
        "server 127.0.0.1:8501;": f"server 127.0.0.1:{upstreams[0]};",
        "server 127.0.0.1:8502;": f"server 127.0.0.1:{upstreams[1]};",
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;",
        "/etc/ssl/certs/complaints.pem": str(cert),
        "/etc/ssl/private/complaints.key": str(key),
    }
    for old, new in replacements.items():
        assert template.count(old) == 1, f"the README's nginx example no longer has {old!r}"
        template = template.replace(old, new)
    return template


def main_config(folder: Path, site: str) -> str:
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                          "scgi"))
    return f"""worker_processes 1;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} info;
events {{ worker_connections 512; }}
http {{
    log_format upstream '$remote_addr "$request" $status $upstream_addr';
    access_log {folder / 'access.log'} upstream;
{temp}
{site}
}}
"""


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as an internal CA's would be."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    cert, private = folder / "portal.pem", folder / "portal.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    os.chmod(private, 0o600)
    return cert, private


def _wait_for(url: str, context: ssl.SSLContext | None = None, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2, context=context).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@contextmanager
def portal_process(database_url: str, port: int, folder: Path):
    """One portal process as the README starts it behind the proxy (its output in `folder`, for a failure's reader)."""
    env = {**os.environ, "PORTAL_DATABASE_URL": database_url, "PORTAL_FORWARDED_FOR": "1"}
    log = open(folder / f"portal-{port}.log", "wb")   # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "portal" / "server.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


@pytest.fixture(scope="module")
def production(postgres_template, tmp_path_factory):  # noqa: ANN001, ANN201
    if not Path(NGINX).exists():
        if IN_CI:
            pytest.fail(f"nginx is required in CI but {NGINX} is missing (.ci/run installs it)")
        pytest.skip("no nginx (apt-get install nginx)")
    folder = tmp_path_factory.mktemp("proxy")
    if os.geteuid() == 0:        # nginx's workers drop to `nobody` when started by root: let them use the folders
        folder.chmod(0o755)
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / kind).mkdir(mode=0o777)
        (folder / kind).chmod(0o777)
    name = _fresh_postgres(postgres_template)
    url = _pg_url(name)
    uow = UnitOfWork(make_engine(url))
    clerk = load_actor(uow, "clerk")
    for phone in ("13700000001", "13700000002"):       # two cases waiting for the GM office
        complaints.register_complaint(uow, actor=clerk, form=a_form(customer_phone=phone, received_at=T0),
                                      attachments=[], now=T0)
    uow.engine.dispose()
    cert, key = make_certificate(folder)
    ports = (_free_port(), _free_port())
    http, https = _free_port(), _free_port()
    config = folder / "nginx.conf"
    config.write_text(main_config(folder, fill(readme_nginx(), upstreams=ports, http=http, https=https, cert=cert,
                                               key=key)))
    command = [NGINX, "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log")]
    tested = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stderr
    with ExitStack() as stack:
        processes = {port: stack.enter_context(portal_process(url, port, folder)) for port in ports}
        nginx = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE)
        try:
            for port in ports:
                _wait_for(f"http://127.0.0.1:{port}/_stcore/health")
            insecure = ssl.create_default_context(cafile=str(cert))
            _wait_for(f"https://127.0.0.1:{https}/_stcore/health", insecure)
            yield {"url": url, "ports": ports, "processes": processes, "http": http, "https": https,
                   "proxy": f"https://127.0.0.1:{https}", "folder": folder, "ssl": insecure}
        finally:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
    _drop_postgres(name)


def _serving(production) -> int:  # noqa: ANN001
    """The port of the process nginx sends this machine's requests to (ip_hash: all local traffic to one): a
    request through the proxy, and the upstream its access log line names."""
    urllib.request.urlopen(f"{production['proxy']}/_stcore/health", timeout=10, context=production["ssl"]).read()
    for _ in range(50):
        lines = (production["folder"] / "access.log").read_text().splitlines()
        health = [line for line in lines if "/_stcore/health" in line]
        if health:
            return int(health[-1].rsplit(":", 1)[1])
        time.sleep(0.1)
    raise AssertionError("nginx logged no request")


def _context(browser, **options):  # noqa: ANN001, ANN003, ANN202
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}, **options)
    context.set_default_timeout(60_000)
    return context


def _same_login_on(browser, page: Page, port: int):  # noqa: ANN001, ANN202
    """A second browser on one process's own port, holding the login cookie `page` got through the proxy."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE_NAME)
    other = _context(browser)
    other.add_cookies([{"name": COOKIE_NAME, "value": token, "url": f"http://127.0.0.1:{port}"}])
    return other.new_page()


def _accept_first(page: Page) -> str:
    open_page(page, "总经理室", "待受理队列")
    page.get_by_role("button", name="受理并分派").click()
    notice = page.get_by_text(re.compile(r"已受理，投诉编号：\d{4}-\d{4}"))
    expect(notice).to_be_visible()
    return re.search(r"\d{4}-\d{4}", notice.inner_text()).group(0)


def test_two_processes_behind_nginx_share_logins_numbers_rules_and_survive_a_killed_process(production, browser):
    try:                # plain http only sends the browser to https
        urllib.request.build_opener(_NoRedirect).open(f"http://127.0.0.1:{production['http']}/gm_office", timeout=10)
        raise AssertionError("plain http was served")
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 301 and redirect.headers["Location"].startswith("https://")
    headers = urllib.request.urlopen(f"{production['proxy']}/", timeout=10, context=production["ssl"]).headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")

    serving = _serving(production)
    other = next(port for port in production["ports"] if port != serving)
    gm_context = _context(browser, ignore_https_errors=True)
    gm = gm_context.new_page()
    log_in(gm, production["proxy"], "gmo")
    cookie = next(c for c in gm_context.cookies() if c["name"] == COOKIE_NAME)
    assert cookie["secure"] and cookie["sameSite"] == "Strict"         # behind TLS the cookie is Secure

    # the same login on the other process (its own port: ip_hash sends all local traffic to one)
    gm_there = _same_login_on(browser, gm, other)
    gm_there.goto(f"http://127.0.0.1:{other}/gm_office")
    expect(gm_there.get_by_text(SIGNED_IN)).to_be_visible()
    settle(gm_there)

    # numbers from one counter, whichever process hands them out
    first, second = _accept_first(gm), _accept_first(gm_there)
    assert first != second
    engine = make_engine(production["url"])
    with engine.connect() as connection:
        numbers = connection.exec_driver_sql("SELECT number FROM complaints WHERE number IS NOT NULL").scalars().all()
    assert sorted(numbers) == sorted([first, second])

    # a logout through the proxy (on `serving`) ends the session on the other process too
    gm.get_by_role("button", name="退出登录").click()
    expect(gm.get_by_label("用户名")).to_be_visible()
    gm_there.reload()
    expect(gm_there.get_by_label("用户名")).to_be_visible()
    expect(gm_there.get_by_text(SIGNED_IN)).to_have_count(0)

    # an administrator's setting saved on one process is in force on the other at its next login
    admin_context = _context(browser, ignore_https_errors=True)
    admin = admin_context.new_page()
    log_in(admin, production["proxy"], "admin", "admin_config")
    open_tab(admin, "业务参数")
    edit_cell(admin, "同一用户连续登录失败次数上限", "取值", "3")
    submit(admin, "校验并保存", "已保存 1 行修改")
    clerk = _context(browser).new_page()
    clerk.goto(f"http://127.0.0.1:{other}/")
    expect(clerk.get_by_label("用户名")).to_be_visible()
    settle(clerk)
    for attempt in range(4):
        clerk.get_by_label("用户名").fill("clerk")
        clerk.get_by_label("密码").fill(PASSWORD if attempt == 3 else "wrong-password")
        clerk.get_by_role("button", name="登录").click()
        settle(clerk)
    expect(clerk.get_by_text(re.compile("登录失败次数过多"))).to_be_visible()     # the fourth, right one: locked
    expect(clerk.get_by_text(SIGNED_IN)).to_have_count(0)

    # the process serving the administrator dies; the browser reconnects through nginx to the other one
    with admin.expect_websocket(timeout=90_000):
        production["processes"][serving].kill()
    production["processes"][serving].wait(timeout=10)
    for attempt in range(6):    # a click made before the page counts itself reconnected is lost: a person clicks again
        admin.get_by_role("region", name="Sidebar").get_by_role("link", name="用户管理").click()
        try:
            expect(admin.get_by_role("heading", name="用户管理")).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            if attempt == 5:
                raise
    settle(admin)
    expect(admin.get_by_text(SIGNED_IN)).to_be_visible()       # the cookie, read by the other process: signed in
    expect(admin.get_by_label("用户名", exact=True)).to_have_count(0)
    assert _serving(production) == other


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None

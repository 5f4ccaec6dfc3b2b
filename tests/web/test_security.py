"""Security: CSRF, cross-site API calls, tokens, upload caps, zip-slip, links, IDs, headers."""

from __future__ import annotations

import io
import logging
import re
import stat
import zipfile
from pathlib import Path

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from tests.web.conftest import make_settings, upload
from typer.testing import CliRunner

from rechallenge.cli import app as cli_app
from rechallenge.web import SettingsError, WebSettings, create_app
from rechallenge.web.models import Run
from rechallenge.web.services import output_file
from rechallenge.web.settings import load_settings

TOKEN = "s3cret-token-for-tests-0123456789"


def csrf_of(client: TestClient, page: str = "/") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- CSRF
def test_a_form_post_without_the_csrf_token_is_refused(
    client: TestClient, cohort_zip: bytes
) -> None:
    files = {"file": ("c.zip", cohort_zip, "application/zip")}
    response = client.post("/studies", files=files, follow_redirects=False)
    assert response.status_code == 403
    assert "security token" in response.text


def test_a_form_post_with_a_forged_token_is_refused(client: TestClient) -> None:
    client.get("/")
    response = client.post("/eligibility", data={"csrf_token": "0" * 64})
    assert response.status_code == 403


def test_the_same_form_with_its_token_is_accepted(client: TestClient, cohort_zip: bytes) -> None:
    token = csrf_of(client)
    files = {"file": ("c.zip", cohort_zip, "application/zip")}
    response = client.post(
        "/studies", files=files, data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/studies/")


def test_a_cross_site_api_post_is_refused(client: TestClient, cohort_zip: bytes) -> None:
    response = client.post(
        "/api/studies",
        files={"file": ("c.zip", cohort_zip, "application/zip")},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403


# ----------------------------------------------------------------------------- binding and tokens
@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_a_reachable_address_without_a_token_is_refused(tmp_path: Path, host: str) -> None:
    with pytest.raises(SettingsError, match="no access token is set"):
        load_settings(host=host, data_dir=tmp_path)


def test_serve_refuses_to_start_off_loopback_without_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECHALLENGE_WEB_TOKEN", raising=False)
    result = CliRunner().invoke(
        cli_app, ["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output


def test_serve_reads_its_options_from_the_environment_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECHALLENGE_WEB_TOKEN", raising=False)
    monkeypatch.setenv("RECHALLENGE_WEB_HOST", "0.0.0.0")
    result = CliRunner().invoke(cli_app, ["serve", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output


def test_loopback_and_token_settings_are_accepted(tmp_path: Path) -> None:
    assert WebSettings(data_dir=tmp_path).token is None
    assert WebSettings(host="0.0.0.0", token=TOKEN, data_dir=tmp_path).token is not None  # type: ignore[arg-type]


def test_with_a_token_the_api_wants_it_and_pages_want_a_login(
    tmp_path: Path, cohort_zip: bytes
) -> None:
    settings = make_settings(tmp_path / "data", token=TOKEN)
    with TestClient(create_app(settings)) as client:
        files = {"file": ("c.zip", cohort_zip, "application/zip")}
        assert client.post("/api/studies", files=files).status_code == 401
        ok = client.post("/api/studies", files=files, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 201
        page = client.get("/", follow_redirects=False)
        assert (page.status_code, page.headers["location"]) == (303, "/login")
        token = csrf_of(client, "/login")
        wrong = client.post("/login", data={"csrf_token": token, "token": "x" * 20})
        assert wrong.status_code == 401
        client.post("/login", data={"csrf_token": token, "token": TOKEN})
        assert client.get("/").status_code == 200
        assert TOKEN not in str(client.cookies.jar)


# ----------------------------------------------------------------------------- uploads
def test_an_oversized_upload_is_refused_with_the_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", max_upload_bytes=10_000)
    with TestClient(create_app(settings)) as client:
        big = zip_of({"cohort/patients.csv": b"x" * 50_000})
        big += b"\0" * 20_000
        response = client.post("/api/studies", files={"file": ("c.zip", big, "application/zip")})
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert "limit is 0.0 MiB" in response.json()["detail"]
    assert not list((tmp_path / "data" / "tmp").iterdir())  # nothing left behind


def test_an_archive_unpacking_past_the_cap_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", max_unpacked_bytes=100_000)
    with TestClient(create_app(settings)) as client:
        bomb = zip_of({"cohort/patients.csv": b"0" * 5_000_000})  # a few KiB compressed
        response = client.post("/api/studies", files={"file": ("c.zip", bomb, "application/zip")})
    assert response.status_code == 422
    assert "too large" in response.json()["detail"]


@pytest.mark.parametrize(
    "name", ["../evil.csv", "cohort/../../evil.csv", "/etc/evil.csv", "C:/evil.csv"]
)
def test_a_zip_slip_archive_is_refused(client: TestClient, tmp_path: Path, name: str) -> None:
    archive = zip_of({"cohort/patients.csv": b"patient_id\n", name: b"owned"})
    response = client.post("/api/studies", files={"file": ("c.zip", archive, "application/zip")})
    assert response.status_code == 422
    assert "outside the study folder" in response.json()["detail"]
    assert not list(tmp_path.rglob("evil.csv"))


def test_a_symbolic_link_in_an_archive_is_refused(client: TestClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        link = zipfile.ZipInfo("cohort/patients.csv")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    files = {"file": ("c.zip", buffer.getvalue(), "application/zip")}
    response = client.post("/api/studies", files=files)
    assert response.status_code == 422
    assert "symbolic link" in response.json()["detail"]


def test_a_file_that_is_neither_zip_nor_xlsx_is_refused(client: TestClient) -> None:
    response = client.post("/api/studies", files={"file": ("x.csv", b"a,b\n", "text/csv")})
    assert response.status_code == 422
    assert ".zip" in response.json()["detail"]


def test_a_link_out_of_the_data_folder_is_not_served(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    out = settings.data_dir / "runs" / "r1" / "out"
    out.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (out / "results.json").symlink_to(secret)
    run = Run(id="r1", status="done", out_path="runs/r1/out")
    with pytest.raises(HTTPException) as caught:
        output_file(run, "results.json", settings)
    assert caught.value.status_code == 404
    with pytest.raises(HTTPException):
        output_file(run, "../../../secret.txt", settings)


# ----------------------------------------------------------------------------- identifiers
def test_ids_are_hidden_unless_the_study_switch_is_on(
    client: TestClient, broken_zip: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    study = upload(client, broken_zip)
    page = client.get(f"/studies/{study}")
    assert "ID-001" in page.text and "QZ-00" not in page.text
    csv_text = client.get(f"/studies/{study}/problems.csv").text
    assert "ID-001" in csv_text and "QZ-00" not in csv_text
    token = csrf_of(client, f"/studies/{study}")
    client.post(f"/studies/{study}/show-ids", data={"csrf_token": token, "show": "on"})
    assert "QZ-0024" in client.get(f"/studies/{study}").text
    assert "QZ-0024" in client.get(f"/api/studies/{study}").text
    assert "QZ-00" not in caplog.text  # never in the server's logs


# ----------------------------------------------------------------------------- headers
def test_pages_carry_a_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_templates_escape_what_users_type(client: TestClient, cohort_zip: bytes) -> None:
    token = csrf_of(client)
    client.post(
        "/studies",
        files={"file": ("c.zip", cohort_zip, "application/zip")},
        data={"csrf_token": token, "name": "<script>alert(1)</script>"},
    )
    page = client.get("/").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_cookies_are_secure_over_https_behind_a_proxy_on_loopback(settings: WebSettings) -> None:
    with TestClient(create_app(settings), base_url="https://rechallenge.example") as https:
        cookie = https.get("/").headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie
    with TestClient(create_app(settings)) as plain:  # http on loopback: a browser would drop it
        assert "Secure" not in plain.get("/").headers["set-cookie"]

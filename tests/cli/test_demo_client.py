"""The demo CLI (clients/demo_client.py), run as a subprocess against a live service."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_CLIENT = REPO_ROOT / "clients" / "demo_client.py"
DEMO_FLOW = REPO_ROOT / "clients" / "flows" / "demo.json"
PASSWORD = "correct-horse-battery"


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO_CLIENT), *args],
        cwd=REPO_ROOT,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_flow(tmp_path: Path, steps: list[dict[str, Any]] | Any) -> Path:
    path = tmp_path / "flow.json"
    document = {"steps": steps} if isinstance(steps, list) else steps
    path.write_text(json.dumps(document))
    return path


def customer_steps() -> list[dict[str, Any]]:
    return [
        {
            "id": "ada",
            "action": "signup",
            "email": "ada-${run}@example.com",
            "password": PASSWORD,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "dob": "1990-12-10",
        },
        {
            "id": "ada_login",
            "action": "login",
            "email": "${steps.ada.user.email}",
            "password": PASSWORD,
        },
        {"id": "checking", "action": "create_account", "type": "checking", "currency": "EUR"},
    ]


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


# --- config mode ----------------------------------------------------------------------------


def test_demo_flow_runs_every_step(live_server: str) -> None:
    result = run_cli("--config", str(DEMO_FLOW), "--base-url", live_server)

    assert result.returncode == 0, result.stderr
    assert "All 18 steps passed." in result.stdout
    assert "expected error: insufficient_funds" in result.stdout
    assert "799.50 USD" in result.stdout  # Alice: 2,500.00 - 500.00 - 1,200.50
    assert "1,000.50 USD" in result.stdout  # Bob: 1,200.50 - 200.00
    assert "-1,200.50 USD" in result.stdout  # the rent, as a debit on Alice's statement
    assert_no_traceback(result)


def test_flow_shows_money_in_major_units_and_sends_minor_units(
    live_server: str, tmp_path: Path
) -> None:
    steps = [
        *customer_steps(),
        {
            "id": "pay",
            "action": "deposit",
            "account_id": "${steps.checking.id}",
            "amount": "1234.5",
        },
        {"action": "get_account", "account_id": "${steps.checking.id}"},
    ]

    result = run_cli("--config", str(write_flow(tmp_path, steps)), "--base-url", live_server)

    assert result.returncode == 0, result.stderr
    assert "1,234.50 EUR" in result.stdout


def test_failing_step_exits_1_and_shows_the_error_code(live_server: str, tmp_path: Path) -> None:
    steps = [
        *customer_steps(),
        {
            "id": "overdraw",
            "action": "withdraw",
            "account_id": "${steps.checking.id}",
            "amount": "10.00",
        },
        {"id": "never_runs", "action": "list_accounts"},
    ]

    result = run_cli("--config", str(write_flow(tmp_path, steps)), "--base-url", live_server)

    assert result.returncode == 1
    assert "step 4 'overdraw' (withdraw) failed: insufficient_funds" in result.stderr
    assert "HTTP 409" in result.stderr
    assert "never_runs" not in result.stdout
    assert_no_traceback(result)


def test_expected_error_that_does_not_happen_fails_the_step(
    live_server: str, tmp_path: Path
) -> None:
    steps = [
        *customer_steps(),
        {
            "id": "ok_deposit",
            "action": "deposit",
            "account_id": "${steps.checking.id}",
            "amount": "1.00",
            "expect_error": "insufficient_funds",
        },
    ]

    result = run_cli("--config", str(write_flow(tmp_path, steps)), "--base-url", live_server)

    assert result.returncode == 1
    assert "expected to fail with insufficient_funds" in result.stderr


def test_reference_to_a_missing_result_field_exits_2(live_server: str, tmp_path: Path) -> None:
    steps = [
        *customer_steps(),
        {
            "id": "dep",
            "action": "deposit",
            "account_id": "${steps.checking.number}",
            "amount": "1.00",
        },
    ]

    result = run_cli("--config", str(write_flow(tmp_path, steps)), "--base-url", live_server)

    assert result.returncode == 2
    assert "step 4 'dep' (deposit): field 'account_id'" in result.stderr
    assert "has no 'number'" in result.stderr
    assert_no_traceback(result)


def test_unreachable_service_exits_1_with_connection_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = run_cli("--config", str(write_flow(tmp_path, customer_steps())), "--base-url", url)

    assert result.returncode == 1
    assert "connection_error" in result.stderr
    assert_no_traceback(result)


BAD_FLOWS: list[tuple[str, Any, list[str]]] = [
    (
        "bad currency",
        [
            *customer_steps()[:2],
            {"id": "open", "action": "create_account", "type": "checking", "currency": "XYZ"},
        ],
        ["step 3 'open' (create_account)", "field 'currency'", "USD"],
    ),
    (
        "missing field",
        [
            *customer_steps(),
            {"id": "dep", "action": "deposit", "account_id": "${steps.checking.id}"},
        ],
        ["step 4 'dep' (deposit)", "field 'amount'", "is required"],
    ),
    (
        "unknown field",
        [
            *customer_steps(),
            {
                "id": "dep",
                "action": "deposit",
                "account_id": "${steps.checking.id}",
                "amount": "1.00",
                "balance": 5,
            },
        ],
        ["step 4 'dep' (deposit)", "field 'balance'", "unknown field"],
    ),
    (
        "too many decimals",
        [
            *customer_steps(),
            {
                "id": "dep",
                "action": "deposit",
                "account_id": "${steps.checking.id}",
                "amount": "1.005",
            },
        ],
        ["step 4 'dep' (deposit)", "field 'amount'", "more than 2 decimals"],
    ),
    (
        "unknown action",
        [*customer_steps(), {"id": "rob", "action": "rob_bank"}],
        ["step 4 'rob'", "field 'action'", "unknown action 'rob_bank'"],
    ),
    (
        "reference to a later step",
        [
            *customer_steps()[:2],
            {"id": "dep", "action": "deposit", "account_id": "${steps.later.id}", "amount": "1.00"},
        ],
        ["step 3 'dep' (deposit)", "field 'account_id'", "no earlier step 'later'"],
    ),
    (
        "login needed",
        [{"id": "open", "action": "create_account", "type": "checking", "currency": "USD"}],
        ["step 1 'open' (create_account)", "field 'as'", "no earlier login step"],
    ),
    (
        "unknown session",
        [*customer_steps(), {"id": "ls", "action": "list_accounts", "as": "bob_login"}],
        ["step 4 'ls' (list_accounts)", "field 'as'", "'bob_login'"],
    ),
    (
        "bad uuid",
        [*customer_steps(), {"id": "get", "action": "get_account", "account_id": "12"}],
        ["step 4 'get' (get_account)", "field 'account_id'", "must be a UUID"],
    ),
    (
        "duplicate id",
        [*customer_steps(), {"id": "checking", "action": "list_accounts"}],
        ["step 4", "field 'id'", "duplicate step id 'checking'"],
    ),
    ("no steps", {"steps": []}, ["field 'steps'"]),
    ("not an object", [1], ["step 1", "must be an object"]),
]


@pytest.mark.parametrize(
    ("flow", "fragments"), [(f, m) for _, f, m in BAD_FLOWS], ids=[name for name, _, _ in BAD_FLOWS]
)
def test_bad_config_exits_2_naming_step_and_field(
    tmp_path: Path, flow: Any, fragments: list[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: validation happens first

    result = run_cli("--config", str(write_flow(tmp_path, flow)), "--base-url", url)

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("config error: ")
    for fragment in fragments:
        assert fragment in result.stderr
    assert result.stdout == ""
    assert_no_traceback(result)


def test_config_that_is_not_json_exits_2_with_the_position(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_text('{"steps": [\n  {"action": "login",}\n]}')

    result = run_cli("--config", str(path))

    assert result.returncode == 2
    assert "is not valid JSON" in result.stderr
    assert "line 2" in result.stderr


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "nope.json"))

    assert result.returncode == 2
    assert "cannot read" in result.stderr


# --- interactive mode -----------------------------------------------------------------------


def answers(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def signup_answers(email: str) -> list[str]:
    return [
        "1",  # Sign up
        "not-an-email",
        email,
        "short",
        PASSWORD,
        "Ada",
        "Lovelace",
        "2999-01-01",
        "1990-12-10",
        "",  # log in now? default yes
    ]


def test_interactive_session_signs_up_deposits_and_shows_a_statement(live_server: str) -> None:
    email = f"cli-{uuid.uuid4().hex[:12]}@example.com"
    script = answers(
        "ftp://nowhere",
        live_server,
        "x",
        "42",  # bad menu choices are asked again
        *signup_answers(email),
        "4",
        "",
        "usd",  # open a checking account in USD
        "5",
        "7",
        "1",
        "-5",
        "12.345",
        "abc",
        "100.50",
        "Salary",  # deposit, after bad answers
        "6",
        "1",
        "1000",
        "",  # withdraw too much: the error is shown, the menu goes on
        "3",  # accounts and balances
        "8",
        "1",
        "31-12-2020",
        "",
        "",  # statement, after a bad date
        "0",
    )

    result = run_cli(stdin=script)

    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert f"Connected to {live_server}." in out
    assert f"Logged in as {email}." in out
    assert out.count("invalid:") >= 10
    assert "enter a number from 0 to 11" in out
    assert "is not an email address" in out
    assert "the date of birth must be in the past" in out
    assert "more than 2 decimals" in out
    assert "New balance: 100.50 USD" in out
    assert "error: insufficient_funds:" in out
    assert "+100.50 USD" in out  # the statement's deposit line
    assert "Bye." in out
    assert_no_traceback(result)


def test_interactive_transfer_to_another_customers_account(live_server: str) -> None:
    bob_account = open_account_over_http(live_server)
    email = f"cli-{uuid.uuid4().hex[:12]}@example.com"
    script = answers(
        live_server,
        *signup_answers(email),
        "4",
        "savings",
        "GBP",
        "5",
        "1",
        "50",
        "",
        "7",
        "1",
        "not-a-uuid",
        bob_account["id"],
        "20.25",
        "Lunch",  # transfer to Bob by id
        "3",
        "9",
        "1",
        "plastic",
        "physical",  # issue a card, after a bad type
        "10",
        "1",  # freeze it
        "11",  # log out
        "3",  # now refused: not logged in
        "0",
    )

    result = run_cli(stdin=script)

    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "20.25 GBP" in out
    assert "29.75 GBP" in out  # 50.00 - 20.25
    assert "must be a UUID" in out
    assert "physical" in out and "frozen" in out
    assert f"Logged out {email}." in out
    assert "Please log in first" in out
    assert_no_traceback(result)
    assert account_balance(live_server, bob_account) == 2_025


def test_interactive_login_with_a_wrong_password_shows_the_error_code(live_server: str) -> None:
    script = answers(live_server, "2", "nobody@example.com", "wrong-password", "0")

    result = run_cli(stdin=script)

    assert result.returncode == 0
    assert "error: invalid_credentials:" in result.stdout
    assert_no_traceback(result)


def test_interactive_input_ending_mid_question_exits_1(live_server: str) -> None:
    result = run_cli(stdin=answers(live_server, "1", "someone@example.com"))

    assert result.returncode == 1
    assert "Input ended." in result.stderr
    assert_no_traceback(result)


def open_account_over_http(base_url: str) -> dict[str, Any]:
    email = f"bob-{uuid.uuid4().hex[:12]}@example.com"
    with httpx.Client(base_url=f"{base_url}/v1", timeout=15.0) as http:
        http.post(
            "/auth/signup",
            json={
                "email": email,
                "password": PASSWORD,
                "first_name": "Bob",
                "last_name": "Builder",
                "dob": "1985-11-23",
            },
        )
        token = http.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        created = http.post("/accounts", json={"type": "checking", "currency": "GBP"})
        assert created.status_code == 201, created.text
        account: dict[str, Any] = created.json()
        account["token"] = token["access_token"]
        return account


def account_balance(base_url: str, account: dict[str, Any]) -> int:
    response = httpx.get(
        f"{base_url}/v1/accounts/{account['id']}",
        timeout=15.0,
        headers={"Authorization": f"Bearer {account['token']}"},
    )
    assert response.status_code == 200, response.text
    balance: int = response.json()["balance"]
    return balance


class Terminal:
    """The demo client on a pseudo-terminal: `expect` text, then `send` a line."""

    def __init__(self, *args: str) -> None:
        import pty

        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, str(DEMO_CLIENT), *args],
            cwd=REPO_ROOT,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            close_fds=True,
        )
        os.close(slave)
        self.screen = ""
        self.cursor = 0  # `expect` looks only past the previous match, like expect(1)

    def expect(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen[self.cursor :]:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{text!r} never appeared in:\n{self.screen}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                assert chunk, f"the client exited before {text!r}:\n{self.screen}"
                self.screen += chunk.decode(errors="replace")
        self.cursor = self.screen.index(text, self.cursor) + len(text)

    def send(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def close(self) -> int:
        try:
            return self.process.wait(timeout=30)
        finally:
            os.close(self.master)


def test_interactive_on_a_terminal_hides_the_password(live_server: str) -> None:
    email = f"tty-{uuid.uuid4().hex[:12]}@example.com"
    term = Terminal("--base-url", live_server)

    term.expect("Choose 0-11: ")
    term.send("1")
    term.expect("Email: ")
    term.send(email)
    term.expect("Password (8+ characters): ")
    term.send(PASSWORD)
    for prompt, answer in [
        ("First name: ", "Ada"),
        ("Last name: ", "Lovelace"),
        ("Date of birth (YYYY-MM-DD): ", "1990-12-10"),
        ("Log in now? (y/n) [y]: ", "y"),
    ]:
        term.expect(prompt)
        term.send(answer)
    term.expect(f"Logged in as {email}.")
    term.expect("Choose 0-11: ")
    term.send("0")
    term.expect("Bye.")

    assert term.close() == 0
    assert PASSWORD not in term.screen  # getpass does not echo it
    assert "Traceback" not in term.screen

"""The static frontend, driven through Chromium against the real service.

Every test fails on a console error or an uncaught exception (see `conftest.page`). Screenshots
of each screen go to reports/screenshots/ (git-ignored); set BANK_UPDATE_DOCS_SCREENSHOT=1 to
also refresh docs/frontend.png for the README.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from browser_support import REPO_ROOT, PageErrors
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class User:
    first_name: str
    last_name: str
    email: str
    password: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def new_user(first_name: str) -> User:
    token = uuid.uuid4().hex[:12]
    return User(
        first_name, "Tester", f"{first_name.lower()}-{token}@example.com", f"pw-{token}-secret"
    )


def shoot(page: Page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Screens").get_by_role("button", name=name).click()
    expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()


def status(page: Page) -> Locator:
    return page.locator("#status")


def sign_up(page: Page, user: User) -> None:
    if page.locator("#tabs").is_visible():
        tab(page, "Users")
    form = page.locator("#signup-form")
    form.get_by_label("Email").fill(user.email)
    form.get_by_label("Password").fill(user.password)
    form.get_by_label("First name").fill(user.first_name)
    form.get_by_label("Last name").fill(user.last_name)
    form.get_by_label("Date of birth").fill("1990-12-10")
    form.get_by_role("button", name="Sign up and log in").click()
    expect(status(page)).to_have_text(f"Signed up and logged in as {user.name}.")
    expect(page.get_by_role("heading", level=2, name="Accounts")).to_be_focused()


def log_in(page: Page, user: User) -> None:
    tab(page, "Users")
    form = page.locator("#login-form")
    form.get_by_label("Email").fill(user.email)
    form.get_by_label("Password").fill(user.password)
    form.get_by_role("button", name="Log in").click()
    expect(status(page)).to_have_text(f"Logged in as {user.name}.")


def switch_user(page: Page, user: User) -> None:
    page.get_by_label("Signed-in user").select_option(label=f"{user.name} <{user.email}>")
    expect(page.get_by_label("Signed-in user")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    expect(page.locator("#sessions-table tr.current")).to_have_attribute("data-user", user.email)


def open_account(page: Page, kind: str, currency: str) -> str:
    """Opens an account on the Accounts screen and returns its id, read from the table."""
    tab(page, "Accounts")
    rows = page.locator("#accounts-table tbody tr")
    before = rows.count() if page.locator("#accounts-table").is_visible() else 0
    form = page.locator("#account-form")
    form.get_by_label("Type").select_option(label=kind)
    form.get_by_label("Currency").select_option(currency)
    form.get_by_role("button", name="Open account").click()
    expect(status(page)).to_have_text(re.compile(rf"^Opened {kind} {currency} …[0-9a-f]{{4}}\.$"))
    expect(rows).to_have_count(before + 1)
    account_id = rows.last.locator("td.account-id").inner_text()
    assert UUID_RE.match(account_id)
    return account_id


def account_row(page: Page, account_id: str) -> Locator:
    return page.locator(f'#accounts-table tbody tr[data-account-id="{account_id}"]')


def move_money(page: Page, kind: str, amount: str, description: str = "") -> None:
    tab(page, "Move money")
    form = page.locator("#transaction-form")
    form.get_by_label(kind).check()
    form.get_by_label("Amount").fill(amount)
    form.get_by_label("Description").fill(description)
    form.get_by_role("button", name="Submit").click()


def test_demo_flow_for_two_users(page: Page, screenshot_dir: Path) -> None:
    alice, bob = new_user("Alice"), new_user("Bob")
    page.goto("/")
    expect(page).to_have_title("Bank")
    shoot(page, screenshot_dir, "01-users-signup-login")

    # Both users sign up; Alice logs out and back in through the login form.
    sign_up(page, alice)
    sign_up(page, bob)
    tab(page, "Users")
    sessions = page.locator("#sessions-table tbody tr")
    expect(sessions).to_have_count(2)
    page.get_by_role("button", name=f"Log out {alice.name}").click()
    expect(status(page)).to_have_text(f"{alice.name} logged out.")
    expect(sessions).to_have_count(1)
    log_in(page, alice)
    expect(sessions).to_have_count(2)
    expect(page.get_by_label("Signed-in user").locator("option")).to_have_text(
        [f"{bob.name} <{bob.email}>", f"{alice.name} <{alice.email}>"]
    )
    tab(page, "Users")
    shoot(page, screenshot_dir, "02-users-two-sessions")

    # Each opens a USD account.
    alice_account = open_account(page, "Checking", "USD")
    expect(account_row(page, alice_account).locator("td.balance")).to_have_text("0.00")
    switch_user(page, bob)
    bob_account = open_account(page, "Savings", "USD")
    expect(page.locator("#accounts-table tbody tr")).to_have_count(1)

    # Alice deposits, then transfers to Bob's account.
    switch_user(page, alice)
    move_money(page, "Deposit", "100.00", "Salary")
    expect(status(page)).to_have_text(
        re.compile(r"^Deposited 100\.00 USD\. New balance .*: 100\.00 USD\.$")
    )
    form = page.locator("#transfer-form")
    form.get_by_label("From account").select_option(alice_account)
    form.get_by_label("To account id").fill(bob_account)
    form.get_by_label("Amount").fill("25.50")
    form.get_by_label("Description").fill("Rent")
    shoot(page, screenshot_dir, "03-move-money")
    form.get_by_role("button", name="Transfer").click()
    expect(status(page)).to_have_text(
        f"Transferred 25.50 USD from Checking USD …{alice_account[-4:]} to …{bob_account[-4:]}."
    )
    expect(form.get_by_label("Amount")).to_have_value("")

    tab(page, "Accounts")
    expect(account_row(page, alice_account).locator("td.balance")).to_have_text("74.50")
    shoot(page, screenshot_dir, "04-accounts")

    # Bob sees the transfer on his statement.
    switch_user(page, bob)
    tab(page, "Accounts")
    expect(account_row(page, bob_account).locator("td.balance")).to_have_text("25.50")
    tab(page, "Statement")
    statement = page.locator("#statement-form")
    statement.get_by_label("Account").select_option(bob_account)
    statement.get_by_role("button", name="Show statement").click()
    rows = page.locator("#statement-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-type", "transfer_in")
    expect(rows.first.locator("td")).to_have_text(
        [re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"), "Transfer in", "+25.50", "25.50", "Rent"]
    )
    expect(page.locator("#st-closing")).to_have_text("25.50 USD")
    expect(page.locator("#st-credits")).to_have_text("25.50 USD")
    expect(page.locator("#balance-chart path.balance-line")).to_have_attribute(
        "d", re.compile(r"^M[\d.]+,[\d.]+ H")
    )
    expect(page.locator("#balance-chart circle.balance-dot")).to_have_count(1)
    expect(page.locator("#balance-chart-caption")).to_have_text(
        "Balance over time: 0.00 to 25.50 USD across 1 transaction"
    )
    shoot(page, screenshot_dir, "05-statement")

    # Alice's statement shows both movements, oldest first.
    switch_user(page, alice)
    tab(page, "Statement")
    statement.get_by_label("Account").select_option(alice_account)
    statement.get_by_role("button", name="Show statement").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-type", "deposit")
    expect(rows.nth(1)).to_have_attribute("data-type", "transfer_out")
    expect(rows.nth(1).locator("td").nth(2)).to_have_text("\u221225.50")  # U+2212 MINUS SIGN
    expect(page.locator("#st-closing")).to_have_text("74.50 USD")
    shoot(page, screenshot_dir, "05-statement-sender")
    if os.environ.get("BANK_UPDATE_DOCS_SCREENSHOT") == "1":
        (REPO_ROOT / "docs").mkdir(exist_ok=True)
        page.screenshot(path=str(REPO_ROOT / "docs" / "frontend.png"), full_page=True)


def test_statement_csv_downloads(page: Page) -> None:
    user = new_user("Csv")
    page.goto("/")
    sign_up(page, user)
    account = open_account(page, "Checking", "EUR")
    move_money(page, "Deposit", "12.34")
    expect(status(page)).to_have_text(re.compile(r"^Deposited 12\.34 EUR\."))
    tab(page, "Statement")
    page.locator("#statement-form").get_by_label("Account").select_option(account)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()

    download = download_info.value
    assert download.suggested_filename == f"statement-{account}.csv"
    lines = Path(download.path()).read_text().strip().splitlines()
    assert lines[0] == "id,created_at,type,amount,currency,balance_after,transfer_id,description"
    assert ",deposit,1234,EUR,1234," in lines[1]


def test_token_countdown_prompt_and_refresh(page: Page, screenshot_dir: Path) -> None:
    user = new_user("Refresh")
    page.clock.install()
    page.goto("/")
    sign_up(page, user)
    countdown = page.locator("#token-countdown")
    prompt = page.locator("#token-prompt")
    expect(countdown).to_have_text(re.compile(r"^(1:00|0:5\d)$"))
    expect(prompt).to_be_hidden()

    # The countdown is live.
    first = countdown.inner_text()
    page.clock.fast_forward(2_000)
    expect(countdown).not_to_have_text(first)

    # Near expiry (the last half of a 60 s token) the page prompts for a refresh.
    page.clock.fast_forward(30_000)
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text(f"The access token of {user.name} expires soon.")
    expect(countdown).to_have_class(re.compile(r"\bsoon\b"))
    shoot(page, screenshot_dir, "06-token-refresh-prompt")

    prompt.get_by_role("button", name="Refresh now").click()
    expect(status(page)).to_have_text(f"Access token refreshed for {user.name}.")
    expect(prompt).to_be_hidden()
    expect(countdown).to_have_text(re.compile(r"^(1:00|0:5\d)$"))

    # The manual button rotates again, and the new access token works.
    page.get_by_role("button", name="Refresh token").click()
    expect(status(page)).to_have_text(f"Access token refreshed for {user.name}.")
    expect(page.get_by_role("button", name="Refresh token")).to_be_enabled()
    open_account(page, "Savings", "GBP")

    # Past expiry the prompt says so.
    page.clock.fast_forward(61_000)
    expect(countdown).to_have_text("expired")
    expect(prompt).to_contain_text(f"The access token of {user.name} has expired.")


def test_invalid_amount_is_rejected_before_any_request(page: Page) -> None:
    user = new_user("Amount")
    page.goto("/")
    sign_up(page, user)
    open_account(page, "Checking", "USD")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    move_money(page, "Deposit", "12.345")

    error = page.locator("#transaction-error")
    expect(error).to_have_text("Amount: Use at most 2 decimal places.")
    expect(page.locator("#transaction-amount")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#transaction-amount")).to_be_focused()
    assert [url for url in requests if "/v1/transactions" in url] == []


def test_overdrawn_transfer_shows_insufficient_funds_inline(
    page: Page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    page_errors.expect_status(409)
    alice, bob = new_user("Payer"), new_user("Payee")
    page.goto("/")
    sign_up(page, bob)
    bob_account = open_account(page, "Checking", "USD")
    sign_up(page, alice)
    alice_account = open_account(page, "Checking", "USD")
    move_money(page, "Deposit", "10.00")
    expect(status(page)).to_have_text(re.compile(r"^Deposited 10\.00 USD\."))
    form = page.locator("#transfer-form")
    form.get_by_label("From account").select_option(alice_account)
    form.get_by_label("To account id").fill(bob_account)
    form.get_by_label("Amount").fill("10.01")
    page.evaluate("""() => {
            const fieldset = document.querySelector("#transfer-form fieldset");
            window.transferFormWasDisabled = false;
            new MutationObserver(() => {
                if (fieldset.disabled) window.transferFormWasDisabled = true;
            }).observe(fieldset, { attributes: true, attributeFilter: ["disabled"] });
        }""")

    form.get_by_role("button", name="Transfer").click()

    error = page.locator("#transfer-error")
    expect(error).to_have_text(re.compile(r"^\S.* \(insufficient_funds\)$"))
    expect(error).to_have_attribute("role", "alert")
    expect(form.get_by_role("button", name="Transfer")).to_be_enabled()
    assert page.evaluate("window.transferFormWasDisabled") is True, "the form stayed enabled"
    expect(form.get_by_label("Amount")).to_have_value("10.01")
    shoot(page, screenshot_dir, "07-error-insufficient-funds")
    tab(page, "Accounts")
    expect(account_row(page, alice_account).locator("td.balance")).to_have_text("10.00")


def test_overdrawn_withdrawal_shows_insufficient_funds_inline(
    page: Page, page_errors: PageErrors
) -> None:
    page_errors.expect_status(409)
    user = new_user("Overdraw")
    page.goto("/")
    sign_up(page, user)
    account = open_account(page, "Checking", "USD")
    move_money(page, "Deposit", "10.00")
    expect(status(page)).to_have_text(re.compile(r"^Deposited 10\.00 USD\."))

    move_money(page, "Withdrawal", "20.00")

    error = page.locator("#transaction-error")
    expect(error).to_have_text(re.compile(r"^\S.* \(insufficient_funds\)$"))
    expect(page.locator("#transaction-form fieldset").first).to_be_enabled()
    tab(page, "Accounts")
    expect(account_row(page, account).locator("td.balance")).to_have_text("10.00")


def test_card_issued_then_frozen(page: Page, screenshot_dir: Path) -> None:
    user = new_user("Cards")
    page.goto("/")
    sign_up(page, user)
    account = open_account(page, "Checking", "USD")
    tab(page, "Cards")
    expect(page.locator("#cards-empty")).to_be_visible()
    form = page.locator("#card-form")
    form.get_by_label("Account").select_option(account)
    form.get_by_label("Type").select_option(label="Virtual")
    form.get_by_role("button", name="Issue card").click()
    expect(status(page)).to_have_text(re.compile(r"^Issued virtual card ending \d{4}\.$"))
    row = page.locator("#cards-table tbody tr")
    expect(row).to_have_count(1)
    last4 = row.get_attribute("data-last4")
    assert last4 is not None and re.fullmatch(r"\d{4}", last4)
    expect(row.locator(".card-status")).to_have_text("active")

    page.get_by_role("button", name=f"Freeze card ending {last4}").click()

    expect(row.locator(".card-status")).to_have_text("frozen")
    expect(status(page)).to_have_text(f"Card ending {last4} is now frozen.")
    expect(page.get_by_role("button", name=f"Unfreeze card ending {last4}")).to_be_visible()
    shoot(page, screenshot_dir, "08-cards")
    page.get_by_role("button", name=f"Unfreeze card ending {last4}").click()
    expect(row.locator(".card-status")).to_have_text("active")
    page.get_by_role("button", name=f"Cancel card ending {last4}").click()
    expect(row.locator(".card-status")).to_have_text("canceled")
    expect(row.get_by_role("button")).to_have_count(0)


def test_readable_at_375px_without_horizontal_scroll(page: Page, screenshot_dir: Path) -> None:
    user = new_user("Mobile")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/")
    sign_up(page, user)
    open_account(page, "Checking", "USD")

    for name in ("Users", "Accounts", "Move money", "Statement", "Cards"):
        tab(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{name}: the page is {width}px wide at a 375px viewport"
    tab(page, "Accounts")
    shoot(page, screenshot_dir, "09-mobile-accounts")


def test_every_control_is_labelled(page: Page) -> None:
    page.goto("/")

    unlabelled = page.evaluate("""() => [...document.querySelectorAll("input, select, button")]
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                            && !el.textContent.trim())
            .map((el) => el.outerHTML)""")

    assert unlabelled == []
    expect(page.locator("#status")).to_have_attribute("aria-live", "polite")
    for error in page.locator("p.error").all():
        expect(error).to_have_attribute("role", "alert")


def test_frontend_is_served_with_a_strict_csp(bank_url: str) -> None:
    response = httpx.get(f"{bank_url}/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers.get("content-security-policy", "")
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp, f"missing {directive!r} in {csp!r}"
    bundle = httpx.get(f"{bank_url}/generated/bank-api.js")
    assert bundle.status_code == 200
    assert "javascript" in bundle.headers["content-type"]

"""Pure rules: no fixtures needed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bank.domain import errors, rules


@pytest.mark.parametrize("number", ["4242424242424242", "4000056655665556", "79927398713"])
def test_known_numbers_pass_luhn(number: str) -> None:
    assert rules.luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424241", "1234", "", "abcd", "7"])
def test_bad_numbers_fail_luhn(number: str) -> None:
    assert not rules.luhn_valid(number)


def test_generated_card_numbers_are_luhn_valid_and_random() -> None:
    numbers = [rules.new_card_number() for _ in range(500)]

    assert all(len(n) == 16 and n.isdigit() and rules.luhn_valid(n) for n in numbers)
    assert len(set(numbers)) == 500


@pytest.mark.parametrize(("current", "target"), sorted(rules.ACCOUNT_TRANSITIONS))
def test_allowed_account_transitions(current: str, target: str) -> None:
    rules.ensure_account_transition(current, target, balance=0)


@pytest.mark.parametrize("target", ["active", "frozen", "closed"])
def test_closed_account_is_terminal(target: str) -> None:
    with pytest.raises(errors.InvalidStateTransition):
        rules.ensure_account_transition("closed", target, balance=0)


def test_closing_with_money_is_refused() -> None:
    with pytest.raises(errors.AccountNotEmpty):
        rules.ensure_account_transition("active", "closed", balance=1)


@pytest.mark.parametrize("target", ["active", "frozen", "canceled"])
def test_canceled_card_is_terminal(target: str) -> None:
    with pytest.raises(errors.InvalidStateTransition):
        rules.ensure_card_transition("canceled", target)


def test_same_status_is_not_a_transition() -> None:
    with pytest.raises(errors.InvalidStateTransition):
        rules.ensure_card_transition("active", "active")


def test_period_must_be_ordered() -> None:
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)

    rules.ensure_period(early, late)
    with pytest.raises(errors.InvalidPeriod):
        rules.ensure_period(late, early)


@pytest.mark.parametrize("dob", [date(2030, 1, 1), date(2026, 11, 28), date(1850, 1, 1)])
def test_dob_must_be_a_real_past_date(dob: date) -> None:
    with pytest.raises(errors.ValidationFailed):
        rules.ensure_past_date(dob, date(2026, 11, 28))

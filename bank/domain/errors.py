"""Domain errors: each names a fact and carries a stable API `code` and an HTTP status."""

from __future__ import annotations

from typing import Any


class BankError(Exception):
    code = "bank_error"
    status = 400
    message = "The request cannot be processed."
    # Whether an idempotent retry replays this outcome (business rules: yes; input or auth: no).
    replayable = True
    replayed = False

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or type(self).message
        self.details: dict[str, Any] = details
        super().__init__(self.message)


class ValidationFailed(BankError):
    code, status, message = "validation_error", 400, "The request is invalid."
    replayable = False


class SameAccount(BankError):
    code, status, message = "same_account", 400, "A transfer needs two different accounts."


class CurrencyMismatch(BankError):
    code, status = "currency_mismatch", 400
    message = "The currency does not match the account's currency."


class InvalidPeriod(BankError):
    code, status, message = "invalid_period", 400, "'from' must not be after 'to'."


class HolderRequired(BankError):
    code, status, message = "holder_required", 400, "An admin must name holder_id."


class Unauthenticated(BankError):
    code, status, message = "unauthorized", 401, "Authentication is required."
    replayable = False


class InvalidCredentials(BankError):
    code, status, message = "invalid_credentials", 401, "The email or password is wrong."
    replayable = False


class TokenRevoked(BankError):
    code, status, message = "token_revoked", 401, "The access token has been revoked."
    replayable = False


class InvalidRefreshToken(BankError):
    code, status = "invalid_refresh_token", 401
    message = "The refresh token is invalid or expired."
    replayable = False


class RefreshTokenReused(BankError):
    code, status = "refresh_token_reused", 401
    message = "The refresh token was already used; its session has been revoked."
    replayable = False


class Forbidden(BankError):
    code, status, message = "forbidden", 403, "Your role may not take this action."
    replayable = False


class NotFound(BankError):
    code, status, message = "not_found", 404, "The resource was not found."


class NotAcceptable(BankError):
    code, status = "not_acceptable", 406
    message = "Accept allows none of the representations this operation serves."
    replayable = False


class EmailTaken(BankError):
    code, status, message = "email_taken", 409, "This email is already registered."


class InsufficientFunds(BankError):
    code, status, message = "insufficient_funds", 409, "The balance is lower than the amount."


class BalanceLimitExceeded(BankError):
    code, status = "balance_limit_exceeded", 409
    message = "The destination balance would exceed the maximum balance."


class AccountNotActive(BankError):
    code, status, message = "account_not_active", 409, "The account is frozen or closed."


class AccountNotEmpty(BankError):
    code, status = "account_not_empty", 409
    message = "An account can be closed only at a zero balance."


class InvalidStateTransition(BankError):
    code, status = "invalid_state_transition", 409
    message = "This status change is not allowed."


class CardLimitReached(BankError):
    code, status = "card_limit_reached", 409
    message = "The account already has the maximum number of cards."


class IdempotencyKeyReused(BankError):
    code, status = "idempotency_key_reused", 409
    message = "This Idempotency-Key was already used with a different request."
    replayable = False


class IdempotencyInProgress(BankError):
    code, status = "idempotency_request_in_progress", 409
    message = "A request with this Idempotency-Key is still being processed."
    replayable = False


class TooManyRequests(BankError):
    code, status, message = "too_many_requests", 429, "Too many attempts; try again later."
    replayable = False

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class ServiceUnavailable(BankError):
    code, status = "service_unavailable", 503
    message = "The service is temporarily unavailable."
    replayable = False


class ReplayedError(BankError):
    """A stored business error, answered again to an idempotent retry."""

    replayed = True

    def __init__(self, code: str, status: int, message: str, details: dict[str, Any]) -> None:
        super().__init__(message, **details)
        self.code = code
        self.status = status


class InvalidToken(BankError):
    code, status, message = "invalid_token", 401, "The access token is invalid."
    replayable = False


class TokenExpired(BankError):
    code, status, message = "token_expired", 401, "The access token has expired."
    replayable = False

"""Contains all the data models used in inputs/outputs"""

from .account import Account
from .account_create import AccountCreate
from .account_holder import AccountHolder
from .account_holder_list import AccountHolderList
from .account_list import AccountList
from .account_status import AccountStatus
from .account_type import AccountType
from .account_update import AccountUpdate
from .card import Card
from .card_brand import CardBrand
from .card_create import CardCreate
from .card_list import CardList
from .card_status import CardStatus
from .card_type import CardType
from .card_update import CardUpdate
from .currency import Currency
from .error_body import ErrorBody
from .error_body_details import ErrorBodyDetails
from .error_envelope import ErrorEnvelope
from .health import Health
from .health_checks import HealthChecks
from .health_checks_database import HealthChecksDatabase
from .health_status import HealthStatus
from .health_unavailable import HealthUnavailable
from .health_unavailable_status import HealthUnavailableStatus
from .liveness import Liveness
from .liveness_status import LivenessStatus
from .login_request import LoginRequest
from .me import Me
from .me_role import MeRole
from .pagination import Pagination
from .refresh_request import RefreshRequest
from .signup_request import SignupRequest
from .signup_response import SignupResponse
from .statement import Statement
from .token_pair import TokenPair
from .token_pair_token_type import TokenPairTokenType
from .transaction import Transaction
from .transaction_create import TransactionCreate
from .transaction_create_type import TransactionCreateType
from .transaction_list import TransactionList
from .transaction_type import TransactionType
from .transfer import Transfer
from .transfer_create import TransferCreate
from .transfer_list import TransferList
from .user import User

__all__ = (
    "Account",
    "AccountCreate",
    "AccountHolder",
    "AccountHolderList",
    "AccountList",
    "AccountStatus",
    "AccountType",
    "AccountUpdate",
    "Card",
    "CardBrand",
    "CardCreate",
    "CardList",
    "CardStatus",
    "CardType",
    "CardUpdate",
    "Currency",
    "ErrorBody",
    "ErrorBodyDetails",
    "ErrorEnvelope",
    "Health",
    "HealthChecks",
    "HealthChecksDatabase",
    "HealthStatus",
    "HealthUnavailable",
    "HealthUnavailableStatus",
    "Liveness",
    "LivenessStatus",
    "LoginRequest",
    "Me",
    "MeRole",
    "Pagination",
    "RefreshRequest",
    "SignupRequest",
    "SignupResponse",
    "Statement",
    "TokenPair",
    "TokenPairTokenType",
    "Transaction",
    "TransactionCreate",
    "TransactionCreateType",
    "TransactionList",
    "TransactionType",
    "Transfer",
    "TransferCreate",
    "TransferList",
    "User",
)

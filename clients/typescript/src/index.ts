/**
 * Bank API client: a thin, typed wrapper over openapi-fetch.
 *
 * The types come from `schema.d.ts`, generated from `openapi/bank.yaml` by openapi-typescript;
 * this file is the only hand-written part. Every helper resolves to the response body of the
 * operation's success status and rejects with an {@link ApiError} built from the error envelope.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema";

export type { components, operations, paths };

type Schemas = components["schemas"];
export type Account = Schemas["Account"];
export type AccountCreate = Schemas["AccountCreate"];
export type AccountHolder = Schemas["AccountHolder"];
export type AccountHolderList = Schemas["AccountHolderList"];
export type AccountList = Schemas["AccountList"];
export type AccountStatus = Schemas["AccountStatus"];
export type AccountType = Schemas["AccountType"];
export type Card = Schemas["Card"];
export type CardCreate = Schemas["CardCreate"];
export type CardList = Schemas["CardList"];
export type CardStatus = Schemas["CardStatus"];
export type CardType = Schemas["CardType"];
export type Currency = Schemas["Currency"];
export type ErrorBody = Schemas["ErrorBody"];
export type Health = Schemas["Health"];
export type Liveness = Schemas["Liveness"];
export type LoginRequest = Schemas["LoginRequest"];
export type Me = Schemas["Me"];
export type Pagination = Schemas["Pagination"];
export type SignupRequest = Schemas["SignupRequest"];
export type SignupResponse = Schemas["SignupResponse"];
export type Statement = Schemas["Statement"];
export type TokenPair = Schemas["TokenPair"];
export type Transaction = Schemas["Transaction"];
export type TransactionCreate = Schemas["TransactionCreate"];
export type TransactionList = Schemas["TransactionList"];
export type TransactionType = Schemas["TransactionType"];
export type Transfer = Schemas["Transfer"];
export type TransferCreate = Schemas["TransferCreate"];
export type TransferList = Schemas["TransferList"];

/** The error codes of the contract's error table. Clients branch on these, never on messages. */
export type ErrorCode =
  | "validation_error"
  | "malformed_body"
  | "same_account"
  | "currency_mismatch"
  | "invalid_period"
  | "holder_required"
  | "unauthorized"
  | "invalid_token"
  | "token_expired"
  | "token_revoked"
  | "invalid_credentials"
  | "invalid_refresh_token"
  | "refresh_token_reused"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "email_taken"
  | "insufficient_funds"
  | "balance_limit_exceeded"
  | "account_not_active"
  | "account_not_empty"
  | "invalid_state_transition"
  | "card_limit_reached"
  | "idempotency_key_reused"
  | "idempotency_request_in_progress"
  | "payload_too_large"
  | "unsupported_media_type"
  | "too_many_requests"
  | "internal_error"
  | "not_implemented"
  | "service_unavailable";

/** A non-2xx answer, carrying the fields of the `{"error": {...}}` envelope. */
export class ApiError extends Error {
  readonly status: number;
  /** A code from {@link ErrorCode}; `unexpected_response` when the body was not an envelope. */
  readonly code: ErrorCode | "unexpected_response" | (string & {});
  readonly details: Record<string, unknown>;
  readonly requestId: string | null;

  constructor(status: number, body: ErrorBody, requestId?: string | null) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.details = body.details ?? {};
    this.requestId = body.request_id || requestId || null;
  }

  /** Builds the error from a response and its (already parsed) body. */
  static fromResponse(response: Response, body: unknown): ApiError {
    const headerId = response.headers.get("X-Request-Id");
    if (isEnvelope(body)) {
      return new ApiError(response.status, body.error, headerId);
    }
    const message = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    return new ApiError(
      response.status,
      { code: "unexpected_response", message, details: {}, request_id: headerId ?? "" },
      headerId,
    );
  }
}

function isEnvelope(body: unknown): body is { error: ErrorBody } {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = (body as { error: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as ErrorBody).code === "string" &&
    typeof (error as ErrorBody).message === "string"
  );
}

/** Supplies the current access token; `undefined` sends the request without one. */
export type TokenProvider = () => string | undefined | null | Promise<string | undefined | null>;

export interface BankClientOptions {
  /** The API root including the base path, e.g. `/v1` or `https://bank.example/v1`. */
  baseUrl?: string;
  /** Called before every authenticated request. */
  getToken?: TokenProvider;
  /** A custom fetch (tests, instrumentation). Defaults to `globalThis.fetch`. */
  fetch?: (input: Request) => Promise<Response>;
}

/** Per-call options of the mutating helpers. */
export interface MutationOptions {
  /** Reuse a key to retry safely; a fresh UUID is sent when omitted. */
  idempotencyKey?: string;
}

export interface PageQuery {
  limit?: number;
  offset?: number;
}

export interface AccountPageQuery extends PageQuery {
  account_id?: string;
}

export interface StatementQuery extends PageQuery {
  /** Start of the period, inclusive (RFC 3339). */
  from?: string;
  /** End of the period, exclusive (RFC 3339). */
  to?: string;
}

const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  "/auth/signup",
  "/auth/login",
  "/auth/refresh",
  "/health",
  "/health/live",
]);
const MUTATING_METHODS: ReadonlySet<string> = new Set(["POST", "PATCH", "PUT", "DELETE"]);

/** Adds `Authorization: Bearer <token>` to every operation that is not public. */
export function bearerAuth(getToken: TokenProvider): Middleware {
  return {
    async onRequest({ request, schemaPath }) {
      if (PUBLIC_PATHS.has(schemaPath) || request.headers.has("Authorization")) return undefined;
      const token = await getToken();
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
}

/** Adds a fresh `Idempotency-Key` to every mutating call that does not carry one. */
export const idempotencyKeys: Middleware = {
  onRequest({ request }) {
    if (!MUTATING_METHODS.has(request.method) || request.headers.has("Idempotency-Key")) {
      return undefined;
    }
    request.headers.set("Idempotency-Key", globalThis.crypto.randomUUID());
    return request;
  },
};

type Outcome<T> = { data?: T; error?: unknown; response: Response };

/** Resolves to the body of a 2xx answer, or throws the {@link ApiError} of the envelope. */
async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw ApiError.fromResponse(response, error);
  return data as T;
}

function keyHeader(options?: MutationOptions): Record<string, string> {
  return options?.idempotencyKey ? { "Idempotency-Key": options.idempotencyKey } : {};
}

/** Creates a client; see the README for the conventions (minor units, errors, idempotency). */
export function createBankClient(options: BankClientOptions = {}) {
  // Typed for JSON answers; the CSV helper asks for text explicitly.
  const raw: Client<paths, "application/json"> = createClient<paths, "application/json">({
    baseUrl: options.baseUrl ?? "/v1",
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  raw.use(idempotencyKeys);
  if (options.getToken) raw.use(bearerAuth(options.getToken));

  return {
    /** The underlying openapi-fetch client, for anything the helpers do not cover. */
    raw,

    // auth
    signup: (body: SignupRequest) => unwrap(raw.POST("/auth/signup", { body })),
    login: (body: LoginRequest) => unwrap(raw.POST("/auth/login", { body })),
    /** Rotates the refresh token: the one presented dies, use the returned pair from now on. */
    refresh: (refreshToken: string) =>
      unwrap(raw.POST("/auth/refresh", { body: { refresh_token: refreshToken } })),
    logout: () => unwrap(raw.POST("/auth/logout")).then(() => undefined),
    me: () => unwrap(raw.GET("/auth/me")),

    // account holders
    listAccountHolders: (query: PageQuery = {}) =>
      unwrap(raw.GET("/account-holders", { params: { query } })),
    getAccountHolder: (holderId: string) =>
      unwrap(raw.GET("/account-holders/{holder_id}", { params: { path: { holder_id: holderId } } })),

    // accounts
    createAccount: (body: AccountCreate, opts?: MutationOptions) =>
      unwrap(raw.POST("/accounts", { body, headers: keyHeader(opts) })),
    listAccounts: (query: PageQuery = {}) => unwrap(raw.GET("/accounts", { params: { query } })),
    getAccount: (accountId: string) =>
      unwrap(raw.GET("/accounts/{account_id}", { params: { path: { account_id: accountId } } })),
    updateAccount: (accountId: string, status: AccountStatus) =>
      unwrap(
        raw.PATCH("/accounts/{account_id}", {
          params: { path: { account_id: accountId } },
          body: { status },
        }),
      ),

    // transactions
    createTransaction: (body: TransactionCreate, opts?: MutationOptions) =>
      unwrap(raw.POST("/transactions", { body, headers: keyHeader(opts) })),
    deposit: (
      accountId: string,
      amount: number,
      currency: Currency,
      description?: string,
      opts?: MutationOptions,
    ) =>
      unwrap(
        raw.POST("/transactions", {
          body: { account_id: accountId, type: "deposit", amount, currency, ...opt(description) },
          headers: keyHeader(opts),
        }),
      ),
    withdraw: (
      accountId: string,
      amount: number,
      currency: Currency,
      description?: string,
      opts?: MutationOptions,
    ) =>
      unwrap(
        raw.POST("/transactions", {
          body: { account_id: accountId, type: "withdrawal", amount, currency, ...opt(description) },
          headers: keyHeader(opts),
        }),
      ),
    listTransactions: (query: AccountPageQuery = {}) =>
      unwrap(raw.GET("/transactions", { params: { query } })),
    getTransaction: (transactionId: string) =>
      unwrap(
        raw.GET("/transactions/{transaction_id}", {
          params: { path: { transaction_id: transactionId } },
        }),
      ),

    // transfers
    createTransfer: (body: TransferCreate, opts?: MutationOptions) =>
      unwrap(raw.POST("/transfers", { body, headers: keyHeader(opts) })),
    listTransfers: (query: AccountPageQuery = {}) =>
      unwrap(raw.GET("/transfers", { params: { query } })),
    getTransfer: (transferId: string) =>
      unwrap(raw.GET("/transfers/{transfer_id}", { params: { path: { transfer_id: transferId } } })),

    // cards
    createCard: (body: CardCreate, opts?: MutationOptions) =>
      unwrap(raw.POST("/cards", { body, headers: keyHeader(opts) })),
    listCards: (query: AccountPageQuery = {}) => unwrap(raw.GET("/cards", { params: { query } })),
    getCard: (cardId: string) =>
      unwrap(raw.GET("/cards/{card_id}", { params: { path: { card_id: cardId } } })),
    updateCard: (cardId: string, status: CardStatus) =>
      unwrap(
        raw.PATCH("/cards/{card_id}", { params: { path: { card_id: cardId } }, body: { status } }),
      ),
    freezeCard: (cardId: string) =>
      unwrap(
        raw.PATCH("/cards/{card_id}", {
          params: { path: { card_id: cardId } },
          body: { status: "frozen" },
        }),
      ),
    unfreezeCard: (cardId: string) =>
      unwrap(
        raw.PATCH("/cards/{card_id}", {
          params: { path: { card_id: cardId } },
          body: { status: "active" },
        }),
      ),
    cancelCard: (cardId: string) =>
      unwrap(
        raw.PATCH("/cards/{card_id}", {
          params: { path: { card_id: cardId } },
          body: { status: "canceled" },
        }),
      ),

    // statements
    getStatement: (accountId: string, query: StatementQuery = {}) =>
      unwrap(
        raw.GET("/statements/{account_id}", {
          params: { path: { account_id: accountId }, query },
          headers: { Accept: "application/json" },
        }),
      ),
    /** The same page of the statement as CSV text (`Accept: text/csv`). */
    getStatementCsv: (accountId: string, query: StatementQuery = {}) =>
      unwrap<string>(
        raw.GET("/statements/{account_id}", {
          params: { path: { account_id: accountId }, query },
          headers: { Accept: "text/csv" },
          parseAs: "text",
        }),
      ),

    // health
    health: () => unwrap(raw.GET("/health")),
    liveness: () => unwrap(raw.GET("/health/live")),
  };
}

export type BankClient = ReturnType<typeof createBankClient>;

function opt(description: string | undefined): { description?: string } {
  return description ? { description } : {};
}

// ---------------------------------------------------------------------------------------------
// Money: integer minor units on the wire, decimal strings for people. No float arithmetic.

/** Minor-unit digits per currency (all supported currencies have 2). */
export const CURRENCY_EXPONENT: Readonly<Record<Currency, number>> = { USD: 2, EUR: 2, GBP: 2 };
/** The largest amount the contract accepts, in minor units (10^15). */
export const MAX_AMOUNT = 1_000_000_000_000_000;

/**
 * Parses a major-unit decimal string ("12.34", "5", "0.5") into integer minor units (1234).
 * Throws a `RangeError` with a readable message when the text is not a valid amount.
 */
export function parseAmount(text: string, currency: Currency = "USD"): number {
  const exponent = CURRENCY_EXPONENT[currency];
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new RangeError("Enter an amount such as 12.34 (digits and one dot).");
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  if (fraction.length > exponent) {
    throw new RangeError(`Use at most ${exponent} decimal places.`);
  }
  const digits = (whole + fraction.padEnd(exponent, "0")).replace(/^0+(?=\d)/, "");
  if (digits.length > String(MAX_AMOUNT).length) throw new RangeError("The amount is too large.");
  const minor = Number(digits);
  if (minor < 1) throw new RangeError("The amount must be greater than zero.");
  if (minor > MAX_AMOUNT) throw new RangeError("The amount is too large.");
  return minor;
}

/** Formats integer minor units (1234) as a major-unit decimal string ("12.34"). */
export function formatAmount(minor: number | bigint, currency: Currency = "USD"): string {
  const exponent = CURRENCY_EXPONENT[currency];
  const value = typeof minor === "bigint" ? minor : BigInt(Math.trunc(minor));
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? "-" : ""}${whole}${exponent ? `.${fraction}` : ""}`;
}

// The SDK bundle against a LIVE service: BANK_BASE_URL=http://127.0.0.1:8000 node --test test/
// Skipped when BANK_BASE_URL is not set (scripts/test-typescript-sdk.sh requires it).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, it } from "node:test";

import { ApiError, createBankClient, parseAmount } from "../../../frontend/generated/bank-api.js";

const BASE = process.env.BANK_BASE_URL;
const skip = BASE ? false : "BANK_BASE_URL is not set";
/** The API root: the service URL plus the contract's base path, `/v1`. */
const API = BASE ? `${BASE.replace(/\/+$/, "").replace(/\/v1$/, "")}/v1` : "";

/** A signed-in user with its own client, whose token provider reads the current token. */
async function signUpAndLogIn(firstName) {
  const session = { email: `${firstName.toLowerCase()}-${randomUUID()}@example.com`, tokens: null };
  const client = createBankClient({ baseUrl: API, getToken: () => session.tokens?.access_token });
  const password = `pw-${randomUUID()}`;
  const signup = await client.signup({
    email: session.email,
    password,
    first_name: firstName,
    last_name: "Tester",
    dob: "1990-12-10",
  });
  session.tokens = await client.login({ email: session.email, password });
  return { ...session, session, client, signup, password };
}

/** Awaits `promise`, expecting it to reject with an ApiError of `status` and `code`. */
async function expectApiError(promise, status, code) {
  const error = await promise.then(
    () => assert.fail(`expected ${status} ${code}, got a success`),
    (e) => e,
  );
  assert.ok(error instanceof ApiError, `expected an ApiError, got ${error}`);
  assert.equal(error.code, code, error.message);
  assert.equal(error.status, status);
  assert.equal(typeof error.message, "string");
  assert.ok(error.message.length > 0);
  assert.equal(typeof error.details, "object");
  assert.ok(error.requestId, "the envelope carries request_id");
  return error;
}

describe("live service", { skip }, () => {
  let alice;
  let bob;
  let aliceAccount;
  let bobAccount;
  let transfer;

  before(async () => {
    alice = await signUpAndLogIn("Alice");
    bob = await signUpAndLogIn("Bob");
  });

  it("reports health", async () => {
    const client = createBankClient({ baseUrl: API });
    assert.deepEqual(await client.liveness(), { status: "ok" });
    const health = await client.health();
    assert.equal(health.status, "ok");
    assert.equal(health.checks.database, "ok");
  });

  it("signs up and logs in", async () => {
    assert.equal(alice.signup.user.email, alice.email);
    assert.equal(alice.signup.account_holder.first_name, "Alice");
    assert.equal(alice.tokens.token_type, "Bearer");
    assert.ok(alice.tokens.expires_in > 0);
    const me = await alice.client.me();
    assert.equal(me.user.id, alice.signup.user.id);
    assert.equal(me.role, "customer");
    assert.equal(me.account_holder?.id, alice.signup.account_holder.id);
  });

  it("opens an account for each user", async () => {
    aliceAccount = await alice.client.createAccount({ type: "checking", currency: "USD" });
    bobAccount = await bob.client.createAccount({ type: "savings", currency: "USD" });

    assert.equal(aliceAccount.balance, 0);
    assert.equal(aliceAccount.status, "active");
    assert.equal(aliceAccount.holder_id, alice.signup.account_holder.id);
    const listed = await alice.client.listAccounts();
    assert.deepEqual(listed.data.map((a) => a.id), [aliceAccount.id]);
    assert.equal(listed.pagination.total, 1);
  });

  it("deposits, and replays a retry with the same Idempotency-Key", async () => {
    const key = randomUUID();
    const amount = parseAmount("100.00", "USD");

    const first = await alice.client.deposit(aliceAccount.id, amount, "USD", "Salary", { idempotencyKey: key });
    const retry = await alice.client.deposit(aliceAccount.id, amount, "USD", "Salary", { idempotencyKey: key });

    assert.equal(first.type, "deposit");
    assert.equal(first.amount, 10000);
    assert.equal(first.balance_after, 10000);
    assert.deepEqual(retry, first);
    assert.equal((await alice.client.getAccount(aliceAccount.id)).balance, 10000);
  });

  it("transfers to another user's account", async () => {
    transfer = await alice.client.createTransfer({
      from_account_id: aliceAccount.id,
      to_account_id: bobAccount.id,
      amount: 2500,
      currency: "USD",
      description: "Rent",
    });

    assert.equal(transfer.amount, 2500);
    assert.equal((await alice.client.getAccount(aliceAccount.id)).balance, 7500);
    assert.equal((await bob.client.getAccount(bobAccount.id)).balance, 2500);
    assert.equal((await bob.client.getTransfer(transfer.id)).id, transfer.id);
  });

  it("lists both sides of the statement", async () => {
    const mine = await alice.client.getStatement(aliceAccount.id);
    const theirs = await bob.client.getStatement(bobAccount.id);

    assert.deepEqual(mine.transactions.map((t) => t.type), ["deposit", "transfer_out"]);
    assert.equal(mine.opening_balance + mine.total_credits - mine.total_debits, mine.closing_balance);
    assert.equal(mine.closing_balance, 7500);
    assert.equal(theirs.transactions.length, 1);
    assert.equal(theirs.transactions[0].type, "transfer_in");
    assert.equal(theirs.transactions[0].transfer_id, transfer.id);
    assert.equal(theirs.transactions[0].amount, 2500);
  });

  it("exports the statement as CSV", async () => {
    const csv = await alice.client.getStatementCsv(aliceAccount.id);
    const [header, ...rows] = csv.trim().split(/\r?\n/);

    assert.equal(header, "id,created_at,type,amount,currency,balance_after,transfer_id,description");
    assert.equal(rows.length, 2);
    assert.match(rows[1], /,transfer_out,2500,USD,7500,/);
  });

  it("issues a card and freezes it", async () => {
    const card = await alice.client.createCard({ account_id: aliceAccount.id, type: "virtual" });
    const frozen = await alice.client.freezeCard(card.id);

    assert.equal(card.status, "active");
    assert.match(card.last4, /^[0-9]{4}$/);
    assert.equal(frozen.status, "frozen");
    assert.equal((await alice.client.unfreezeCard(card.id)).status, "active");
    const listed = await alice.client.listCards({ account_id: aliceAccount.id });
    assert.deepEqual(listed.data.map((c) => c.id), [card.id]);
  });

  it("rejects an overdraft with insufficient_funds and changes nothing", async () => {
    await expectApiError(alice.client.withdraw(aliceAccount.id, 1_000_000, "USD"), 409, "insufficient_funds");

    assert.equal((await alice.client.getAccount(aliceAccount.id)).balance, 7500);
  });

  it("rejects an overdrawn transfer with insufficient_funds and changes nothing", async () => {
    const body = { from_account_id: bobAccount.id, to_account_id: aliceAccount.id, amount: 2501, currency: "USD" };
    const error = await expectApiError(bob.client.createTransfer(body), 409, "insufficient_funds");

    assert.equal(error.details.account_id, bobAccount.id);
    assert.equal((await bob.client.getAccount(bobAccount.id)).balance, 2500);
    assert.equal((await alice.client.getAccount(aliceAccount.id)).balance, 7500);
  });

  it("answers 404 not_found for another user's account", async () => {
    await expectApiError(bob.client.getAccount(aliceAccount.id), 404, "not_found");
  });

  it("answers 401 unauthorized without a token", async () => {
    await expectApiError(createBankClient({ baseUrl: API }).me(), 401, "unauthorized");
  });

  it("rotates the refresh token and detects reuse", async () => {
    const old = bob.session.tokens;
    const fresh = await bob.client.refresh(old.refresh_token);
    bob.session.tokens = fresh;

    assert.notEqual(fresh.refresh_token, old.refresh_token);
    assert.equal((await bob.client.me()).user.id, bob.signup.user.id);
    await expectApiError(bob.client.refresh(old.refresh_token), 401, "refresh_token_reused");
  });

  it("revokes the access token on logout", async () => {
    await alice.client.logout();

    await expectApiError(alice.client.me(), 401, "token_revoked");
  });
});

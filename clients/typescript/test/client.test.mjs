// Offline tests of the client's middleware and error mapping, against a fake fetch.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ApiError, createBankClient } from "../../../frontend/generated/bank-api.js";

const BASE = "http://bank.invalid/v1";

/** A fake fetch that records requests and answers with `reply(request)`. */
function fakeFetch(reply) {
  const requests = [];
  const fetch = async (request) => {
    requests.push(request);
    return reply(request);
  };
  return { fetch, requests };
}

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });

const ACCOUNT = {
  id: "3fa85f64-5717-4562-b3fc-2c963f66afa6",
  holder_id: "9b2d6c1f-2a41-4f0b-8f3e-6c1d2e3f4a5b",
  type: "checking",
  currency: "USD",
  balance: 0,
  status: "active",
  created_at: "2026-11-28T09:30:00Z",
};

describe("createBankClient", () => {
  it("sends the bearer token from the provider on authenticated operations", async () => {
    const { fetch, requests } = fakeFetch(() => json(200, ACCOUNT));
    const client = createBankClient({ baseUrl: BASE, fetch, getToken: async () => "tok-1" });

    await client.getAccount(ACCOUNT.id);

    assert.equal(requests[0].url, `${BASE}/accounts/${ACCOUNT.id}`);
    assert.equal(requests[0].headers.get("Authorization"), "Bearer tok-1");
  });

  it("never sends the token to signup, login, refresh or health", async () => {
    const { fetch, requests } = fakeFetch(() => json(200, { status: "ok" }));
    const client = createBankClient({ baseUrl: BASE, fetch, getToken: () => "tok-1" });

    await client.liveness();
    await client.refresh("rt_1").catch(() => {});

    for (const request of requests) assert.equal(request.headers.get("Authorization"), null);
  });

  it("adds a fresh Idempotency-Key to every POST and PATCH, and none to GET", async () => {
    const { fetch, requests } = fakeFetch(() => json(201, ACCOUNT));
    const client = createBankClient({ baseUrl: BASE, fetch });

    await client.createAccount({ type: "checking", currency: "USD" });
    await client.createAccount({ type: "checking", currency: "USD" });
    await client.updateAccount(ACCOUNT.id, "frozen").catch(() => {});
    await client.listAccounts().catch(() => {});

    const keys = requests.map((r) => r.headers.get("Idempotency-Key"));
    assert.match(keys[0], /^[0-9a-f-]{36}$/);
    assert.notEqual(keys[0], keys[1]);
    assert.match(keys[2], /^[0-9a-f-]{36}$/);
    assert.equal(keys[3], null);
  });

  it("keeps a caller-chosen Idempotency-Key", async () => {
    const { fetch, requests } = fakeFetch(() => json(201, ACCOUNT));
    const client = createBankClient({ baseUrl: BASE, fetch });

    await client.createAccount({ type: "savings", currency: "EUR" }, { idempotencyKey: "retry-1" });

    assert.equal(requests[0].headers.get("Idempotency-Key"), "retry-1");
    assert.deepEqual(await requests[0].json(), { type: "savings", currency: "EUR" });
  });

  it("throws an ApiError carrying the envelope", async () => {
    const envelope = {
      error: {
        code: "insufficient_funds",
        message: "The balance is lower than the amount.",
        details: { account_id: ACCOUNT.id },
        request_id: "req-42",
      },
    };
    const { fetch } = fakeFetch(() => json(409, envelope, { "X-Request-Id": "req-42" }));
    const client = createBankClient({ baseUrl: BASE, fetch });

    const error = await client.withdraw(ACCOUNT.id, 100, "USD").catch((e) => e);

    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 409);
    assert.equal(error.code, "insufficient_funds");
    assert.equal(error.message, "The balance is lower than the amount.");
    assert.deepEqual(error.details, { account_id: ACCOUNT.id });
    assert.equal(error.requestId, "req-42");
  });

  it("maps a body that is not an envelope to unexpected_response", async () => {
    const { fetch } = fakeFetch(
      () => new Response("<h1>Bad gateway</h1>", { status: 502, headers: { "X-Request-Id": "r1" } }),
    );
    const client = createBankClient({ baseUrl: BASE, fetch });

    const error = await client.health().catch((e) => e);

    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 502);
    assert.equal(error.code, "unexpected_response");
    assert.equal(error.requestId, "r1");
  });

  it("asks for CSV and returns the text", async () => {
    const csv = "id,created_at,type,amount,currency,balance_after,transfer_id,description\n";
    const { fetch, requests } = fakeFetch(
      () => new Response(csv, { status: 200, headers: { "Content-Type": "text/csv" } }),
    );
    const client = createBankClient({ baseUrl: BASE, fetch, getToken: () => "t" });

    const text = await client.getStatementCsv(ACCOUNT.id, { from: "2026-11-01T00:00:00Z" });

    assert.equal(text, csv);
    assert.equal(requests[0].headers.get("Accept"), "text/csv");
    assert.equal(
      requests[0].url,
      `${BASE}/statements/${ACCOUNT.id}?from=2026-11-01T00%3A00%3A00Z`,
    );
  });

  it("resolves logout's 204 to undefined", async () => {
    const { fetch } = fakeFetch(() => new Response(null, { status: 204 }));
    const client = createBankClient({ baseUrl: BASE, fetch, getToken: () => "t" });

    assert.equal(await client.logout(), undefined);
  });
});

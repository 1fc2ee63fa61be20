// Bank frontend: plain ES modules over the generated SDK bundle. Tokens live in memory only.
import { ApiError, createBankClient, formatAmount, parseAmount } from "./generated/bank-api.js";
import { drawBalanceChart } from "./chart.js";
import { $, fill, formatDuration, formatTimestamp, h, say } from "./dom.js";

const API_ROOT = "/v1";
const PAGE_SIZE = 100;
const STATEMENT_PAGE = 50;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TYPE_LABEL = { checking: "Checking", savings: "Savings", virtual: "Virtual", physical: "Physical" };
const TX_LABEL = { deposit: "Deposit", withdrawal: "Withdrawal", transfer_in: "Transfer in", transfer_out: "Transfer out" };

/** The client for operations that need no token (signup, login, refresh). */
const publicApi = createBankClient({ baseUrl: API_ROOT });

/**
 * Signed-in users, by user id. Each session owns a client whose token provider reads the
 * session's current access token, so several users can act side by side.
 * @type {Map<string, Session>}
 */
const sessions = new Map();
let currentId = null;
let statementQuery = null;
/** The arguments of the last chart drawn, to redraw it at a new width. */
let lastChart = null;

/**
 * @typedef {object} Session
 * @property {string} id
 * @property {string} email
 * @property {string} name
 * @property {string} role
 * @property {{access_token: string, refresh_token: string, expires_in: number}} tokens
 * @property {number} expiresAt  epoch milliseconds
 * @property {number} ttl        seconds, as last issued
 * @property {boolean} refreshing
 * @property {ReturnType<typeof createBankClient>} client
 * @property {Array<object>} accounts
 * @property {Array<object>} cards
 */

const current = () => (currentId ? sessions.get(currentId) ?? null : null);

// ---------------------------------------------------------------------------------------------
// Errors, status and busy forms

/** The text shown for a failure: the envelope's message and code, or a readable fallback. */
function describeError(error) {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  if (error instanceof RangeError) return error.message;
  if (error instanceof TypeError) return "Could not reach the service. Check the connection and try again.";
  return String(error?.message ?? error);
}

function setStatus(text) {
  $("#status").textContent = text;
}

/**
 * Runs `action` for `form`: disables its controls while the request is in flight, clears and
 * then shows the form's inline error, and reports token failures to the session bar.
 */
async function busy(form, errorNode, action) {
  const fieldset = form.querySelector("fieldset");
  let failed = null;
  say(errorNode, "");
  form.setAttribute("aria-busy", "true");
  if (fieldset) fieldset.disabled = true;
  try {
    await action();
  } catch (error) {
    failed = error;
    say(errorNode, describeError(error));
    noteAuthFailure(error);
  } finally {
    form.removeAttribute("aria-busy");
    if (fieldset) fieldset.disabled = false;
  }
  // Disabled controls cannot take focus: move it to the offending field once re-enabled.
  failed?.field?.focus();
}

/** A validation failure tied to one field, which gets marked and focused. */
function fieldError(input, message) {
  markInvalid(input, true);
  const error = new RangeError(message);
  error.field = input;
  return error;
}

/** A token error on an authenticated call: prompt the user to refresh or sign in again. */
function noteAuthFailure(error) {
  if (!(error instanceof ApiError) || error.status !== 401) return;
  const session = current();
  if (!session) return;
  if (error.code === "token_expired") {
    session.expiresAt = Math.min(session.expiresAt, Date.now());
    tick();
  } else if (error.code === "token_revoked" || error.code === "invalid_token") {
    say($("#session-error"), `${session.name}: ${error.message} (${error.code}). Log in again.`);
  }
}

/** Marks `input` invalid (or valid) for assistive technology and the stylesheet. */
function markInvalid(input, invalid) {
  if (invalid) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

/** Checks the browser constraints of `form`; focuses and describes the first failing field. */
function checkRequired(form) {
  for (const input of form.querySelectorAll("input, select")) markInvalid(input, false);
  for (const input of form.querySelectorAll("input, select")) {
    if (!input.checkValidity()) {
      const label = form.querySelector(`label[for="${input.id}"]`);
      const name = label ? label.firstChild.textContent.trim() : input.name;
      throw fieldError(input, `${name}: ${input.validationMessage}`);
    }
  }
}

/** Parses an amount field in major units into minor units, marking the field when invalid. */
function readAmount(input, currency) {
  try {
    const minor = parseAmount(input.value, currency);
    markInvalid(input, false);
    return minor;
  } catch (error) {
    throw fieldError(input, `Amount: ${error.message}`);
  }
}

/**
 * The Idempotency-Key for a money-moving submit: the same key while the same request is retried
 * after a network failure or a 5xx, a fresh one for anything else.
 */
function idempotencyKeyFor(form, body) {
  const fingerprint = JSON.stringify(body);
  if (form.pendingKey && form.pendingKey.fingerprint === fingerprint) return form.pendingKey.key;
  form.pendingKey = { fingerprint, key: crypto.randomUUID() };
  return form.pendingKey.key;
}

function settleIdempotencyKey(form, error) {
  const retryable = error && (!(error instanceof ApiError) || error.status >= 500);
  if (!retryable) form.pendingKey = null;
}

async function withIdempotency(form, body, send) {
  const key = idempotencyKeyFor(form, body);
  try {
    const result = await send({ idempotencyKey: key });
    settleIdempotencyKey(form, null);
    return result;
  } catch (error) {
    settleIdempotencyKey(form, error);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Sessions and tokens

function setTokens(session, tokens) {
  session.tokens = tokens;
  session.ttl = tokens.expires_in;
  session.expiresAt = Date.now() + tokens.expires_in * 1000;
}

/** Seconds before expiry at which the refresh prompt appears. */
const promptLead = (session) => Math.min(60, Math.max(5, Math.floor(session.ttl / 2)));
const secondsLeft = (session) => Math.ceil((session.expiresAt - Date.now()) / 1000);

/** Signs in with a fresh token pair: looks the user up and adds (or updates) its session. */
async function startSession(tokens) {
  const session = { tokens: null, accounts: [], cards: [], refreshing: false };
  setTokens(session, tokens);
  session.client = createBankClient({ baseUrl: API_ROOT, getToken: () => session.tokens?.access_token });
  const me = await session.client.me();
  const holder = me.account_holder;
  Object.assign(session, {
    id: me.user.id,
    email: me.user.email,
    role: me.role,
    name: holder ? `${holder.first_name} ${holder.last_name}` : me.user.email,
  });
  const existing = sessions.get(session.id);
  if (existing) {
    setTokens(existing, tokens);
  } else {
    sessions.set(session.id, session);
  }
  const active = sessions.get(session.id);
  await loadAccounts(active);
  return active;
}

async function refreshSession(session) {
  if (session.refreshing) return;
  session.refreshing = true;
  renderSessionBar();
  try {
    setTokens(session, await publicApi.refresh(session.tokens.refresh_token));
    say($("#session-error"), "");
    setStatus(`Access token refreshed for ${session.name}.`);
  } catch (error) {
    say($("#session-error"), `${session.name}: ${describeError(error)}`);
  } finally {
    session.refreshing = false;
    tick();
    renderSessionBar();
  }
}

async function endSession(session) {
  try {
    await session.client.logout();
  } catch (error) {
    // A token that is already expired or revoked cannot log out; forgetting it is enough.
    if (!(error instanceof ApiError) || error.status !== 401) {
      say($("#session-error"), `${session.name}: ${describeError(error)}`);
      return;
    }
  }
  sessions.delete(session.id);
  setStatus(`${session.name} logged out.`);
  if (currentId === session.id) {
    const next = sessions.keys().next();
    await switchTo(next.done ? null : next.value);
  } else {
    renderAll();
  }
}

async function switchTo(id) {
  if (id !== currentId) setStatus("");
  currentId = id;
  statementQuery = null;
  lastChart = null;
  say($("#session-error"), "");
  $("#statement-result").hidden = true;
  renderAll();
  if (!id) {
    showScreen("users");
    return;
  }
  const session = current();
  try {
    await Promise.all([loadAccounts(session), loadCards(session)]);
  } catch (error) {
    say($("#session-error"), `${session.name}: ${describeError(error)}`);
    noteAuthFailure(error);
  }
  renderAll();
}

/** Updates every countdown once a second; shows the refresh prompt near expiry. */
function tick() {
  for (const session of sessions.values()) {
    const cell = document.getElementById(`countdown-${session.id}`);
    if (cell) cell.textContent = countdownText(session);
  }
  const session = current();
  const countdown = $("#token-countdown");
  const prompt = $("#token-prompt");
  if (!session) {
    prompt.hidden = true;
    return;
  }
  const left = secondsLeft(session);
  countdown.textContent = countdownText(session);
  countdown.classList.toggle("expired", left <= 0);
  countdown.classList.toggle("soon", left > 0 && left <= promptLead(session));
  const text = left <= 0
    ? `The access token of ${session.name} has expired. Refresh it to continue.`
    : `The access token of ${session.name} expires soon. Refresh it to stay signed in.`;
  const show = left <= promptLead(session);
  if ($("#token-prompt-text").textContent !== text) $("#token-prompt-text").textContent = text;
  prompt.hidden = !show;
}

function countdownText(session) {
  const left = secondsLeft(session);
  return left <= 0 ? "expired" : formatDuration(left);
}

// ---------------------------------------------------------------------------------------------
// Data

/** Fetches every page of a list operation. */
async function fetchAll(list) {
  const items = [];
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const page = await list({ limit: PAGE_SIZE, offset });
    items.push(...page.data);
    if (items.length >= page.pagination.total || page.data.length === 0) return items;
  }
}

async function loadAccounts(session) {
  session.accounts = await fetchAll((q) => session.client.listAccounts(q));
}

async function loadCards(session) {
  session.cards = await fetchAll((q) => session.client.listCards(q));
}

/** Reloads the accounts of every signed-in session that owns one of `accountIds`. */
async function reloadOwners(accountIds) {
  const owners = [...sessions.values()].filter((s) => s.accounts.some((a) => accountIds.includes(a.id)));
  await Promise.all(owners.map((s) => loadAccounts(s).catch(() => {})));
}

const shortId = (id) => `…${id.slice(-4)}`;
const money = (minor, currency) => `${formatAmount(minor, currency)} ${currency}`;
const accountName = (a) => `${TYPE_LABEL[a.type] ?? a.type} ${a.currency} ${shortId(a.id)}`;

function findAccount(id) {
  return current()?.accounts.find((a) => a.id === id) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** Copies each column's header into its cells' `data-label`, for the stacked small-screen layout. */
function labelCells(table) {
  const headers = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  for (const row of table.tBodies[0].rows) {
    [...row.cells].forEach((cell, i) => cell.setAttribute("data-label", headers[i] ?? ""));
  }
}

function renderAll() {
  renderSessionBar();
  renderSessions();
  renderAccounts();
  renderAccountSelects();
  renderKnownAccounts();
  renderCards();
  tick();
}

function renderSessionBar() {
  const session = current();
  $("#session-bar").hidden = !session;
  $("#tabs").hidden = !session;
  const select = $("#user-select");
  fill(select, [...sessions.values()].map((s) =>
    h("option", { value: s.id, selected: s.id === currentId }, `${s.name} <${s.email}>`)));
  const refreshing = Boolean(session?.refreshing);
  $("#refresh-button").disabled = refreshing;
  $("#token-prompt-refresh").disabled = refreshing;
  $("#refresh-button").textContent = refreshing ? "Refreshing…" : "Refresh token";
}

function renderSessions() {
  $("#sessions-panel").hidden = sessions.size === 0;
  const rows = [...sessions.values()].map((s) => {
    const isCurrent = s.id === currentId;
    return h("tr", { class: isCurrent ? "current" : false, "data-user": s.email },
      h("td", {}, h("div", {}, h("div", {}, s.name), h("div", { class: "muted email" }, s.email))),
      h("td", {}, s.role),
      h("td", { id: `countdown-${s.id}`, class: "num" }, countdownText(s)),
      h("td", {}, h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", "data-action": "use", "data-id": s.id,
          "aria-label": `Switch to ${s.name}`, disabled: isCurrent }, isCurrent ? "Current" : "Switch"),
        h("button", { type: "button", class: "secondary", "data-action": "refresh", "data-id": s.id,
          "aria-label": `Refresh the token of ${s.name}`, disabled: s.refreshing }, "Refresh"),
        h("button", { type: "button", class: "danger", "data-action": "logout", "data-id": s.id,
          "aria-label": `Log out ${s.name}` }, "Log out"))));
  });
  fill($("#sessions-table tbody"), rows);
  labelCells($("#sessions-table"));
}

function renderAccounts() {
  const accounts = current()?.accounts ?? [];
  fill($("#accounts-table tbody"), accounts.map((a) =>
    h("tr", { "data-account-id": a.id },
      h("td", {}, TYPE_LABEL[a.type] ?? a.type),
      h("td", {}, a.currency),
      h("td", { class: "num balance" }, formatAmount(a.balance, a.currency)),
      h("td", {}, h("span", { class: `badge ${a.status}` }, a.status)),
      h("td", { class: "mono account-id" }, a.id))));
  labelCells($("#accounts-table"));
  $("#accounts-empty").hidden = accounts.length > 0;
  $("#accounts-table").hidden = accounts.length === 0;
}

function renderAccountSelects() {
  const accounts = current()?.accounts ?? [];
  for (const select of document.querySelectorAll("select.account-select")) {
    const previous = select.value;
    const usable = select.id === "statement-account" ? accounts : accounts.filter((a) => a.status !== "closed");
    fill(select, usable.length
      ? usable.map((a) => h("option", { value: a.id },
        `${accountName(a)} · ${money(a.balance, a.currency)}${a.status === "active" ? "" : ` · ${a.status}`}`))
      : [h("option", { value: "" }, "No accounts yet")]);
    if (usable.some((a) => a.id === previous)) select.value = previous;
  }
}

/** Offers the accounts of every signed-in user as transfer destinations. */
function renderKnownAccounts() {
  const options = [];
  for (const s of sessions.values()) {
    for (const a of s.accounts) {
      if (a.status === "active") options.push(h("option", { value: a.id }, `${s.name} · ${accountName(a)}`));
    }
  }
  fill($("#known-accounts"), options);
}

function renderCards() {
  const session = current();
  const cards = session?.cards ?? [];
  fill($("#cards-table tbody"), cards.map((c) => {
    const account = session.accounts.find((a) => a.id === c.account_id);
    const label = `card ending ${c.last4}`;
    const actions = [];
    if (c.status === "active") actions.push(["frozen", "Freeze", `Freeze ${label}`, "secondary"]);
    if (c.status === "frozen") actions.push(["active", "Unfreeze", `Unfreeze ${label}`, "secondary"]);
    if (c.status !== "canceled") actions.push(["canceled", "Cancel", `Cancel ${label}`, "danger"]);
    return h("tr", { "data-card-id": c.id, "data-last4": c.last4 },
      h("td", {}, `${c.brand.toUpperCase()} •••• ${c.last4}`),
      h("td", {}, TYPE_LABEL[c.type] ?? c.type),
      h("td", {}, `${String(c.exp_month).padStart(2, "0")}/${c.exp_year}`),
      h("td", {}, account ? accountName(account) : shortId(c.account_id)),
      h("td", {}, h("span", { class: `badge ${c.status} card-status` }, c.status)),
      h("td", {}, h("div", { class: "actions" }, actions.map(([status, text, aria, cls]) =>
        h("button", { type: "button", class: cls, "data-card": c.id, "data-status": status, "aria-label": aria }, text)))));
  }));
  labelCells($("#cards-table"));
  $("#cards-empty").hidden = cards.length > 0;
  $("#cards-table").hidden = cards.length === 0;
}

function showScreen(name, focus = false) {
  for (const section of document.querySelectorAll("section.screen")) {
    section.hidden = section.id !== `screen-${name}`;
  }
  for (const button of document.querySelectorAll("#tabs button")) {
    if (button.dataset.screen === name) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  if (focus) $(`#${name}-heading`).focus();
}

// ---------------------------------------------------------------------------------------------
// Statement

function periodFromForm(form) {
  const from = form.elements.from.value;
  const to = form.elements.to.value;
  if (from && to && from > to) throw new RangeError("The start date is after the end date.");
  const query = {};
  if (from) query.from = `${from}T00:00:00Z`;
  if (to) {
    // The form's end date is inclusive; the API's `to` is exclusive: use the next midnight.
    const next = new Date(`${to}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    query.to = next.toISOString().replace(".000Z", "Z");
  }
  return query;
}

async function showStatement() {
  const session = current();
  const { accountId, period, offset } = statementQuery;
  const statement = await session.client.getStatement(accountId, { ...period, limit: STATEMENT_PAGE, offset });
  const { account, transactions, pagination } = statement;
  const c = account.currency;
  $("#statement-title").textContent =
    `${accountName(account)}: ${formatTimestamp(statement.from)} to ${formatTimestamp(statement.to)} (UTC)`;
  $("#st-opening").textContent = money(statement.opening_balance, c);
  $("#st-credits").textContent = money(statement.total_credits, c);
  $("#st-debits").textContent = money(statement.total_debits, c);
  $("#st-closing").textContent = money(statement.closing_balance, c);
  $("#statement-result").hidden = false;
  lastChart = [transactions, statement.opening_balance, c];
  $("#balance-chart-caption").textContent = drawBalanceChart($("#balance-chart"), ...lastChart);
  fill($("#statement-table tbody"), transactions.map((t) => {
    const credit = t.type === "deposit" || t.type === "transfer_in";
    return h("tr", { "data-type": t.type },
      h("td", {}, formatTimestamp(t.created_at)),
      h("td", {}, TX_LABEL[t.type] ?? t.type),
      h("td", { class: `num ${credit ? "credit" : "debit"}` }, `${credit ? "+" : "−"}${formatAmount(t.amount, c)}`),
      h("td", { class: "num" }, formatAmount(t.balance_after, c)),
      h("td", {}, t.description ?? ""));
  }));
  labelCells($("#statement-table"));
  $("#statement-empty").hidden = transactions.length > 0;
  $("#statement-table").hidden = transactions.length === 0;
  const end = pagination.offset + transactions.length;
  $("#statement-page").textContent = pagination.total
    ? `Rows ${pagination.offset + 1}–${end} of ${pagination.total}` : "";
  $("#statement-prev").disabled = pagination.offset === 0;
  $("#statement-next").disabled = end >= pagination.total;
  $("#statement-result").hidden = false;
  // Keep the account's balance in the lists current.
  const known = session.accounts.findIndex((a) => a.id === account.id);
  if (known >= 0) session.accounts[known] = account;
}

async function downloadCsv(form) {
  const session = current();
  const accountId = form.elements.account_id.value;
  if (!accountId) throw new RangeError("Open an account first.");
  const csv = await session.client.getStatementCsv(accountId, { ...periodFromForm(form), limit: 100 });
  const url = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
  const link = h("a", { href: url, download: `statement-${accountId}.csv`, class: "sr-only" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  setStatus("Statement CSV downloaded.");
}

// ---------------------------------------------------------------------------------------------
// Form handlers

function onSubmit(id, errorId, action) {
  const form = $(id);
  const error = $(errorId);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(form, error, () => action(form));
  });
}

function requireSession() {
  const session = current();
  if (!session) throw new RangeError("Log in first.");
  return session;
}

function requireAccount(select) {
  const account = findAccount(select.value);
  if (!account) throw fieldError(select, "Choose an account (open one on the Accounts screen first).");
  markInvalid(select, false);
  return account;
}

function wireForms() {
  onSubmit("#signup-form", "#signup-error", async (form) => {
    checkRequired(form);
    const f = form.elements;
    const email = f.email.value.trim();
    const password = f.password.value;
    await publicApi.signup({
      email, password, first_name: f.first_name.value.trim(), last_name: f.last_name.value.trim(), dob: f.dob.value,
    });
    const session = await startSession(await publicApi.login({ email, password }));
    form.reset();
    await switchTo(session.id);
    setStatus(`Signed up and logged in as ${session.name}.`);
    showScreen("accounts", true);
  });

  onSubmit("#login-form", "#login-error", async (form) => {
    checkRequired(form);
    const tokens = await publicApi.login({ email: form.elements.email.value.trim(), password: form.elements.password.value });
    const session = await startSession(tokens);
    form.reset();
    await switchTo(session.id);
    setStatus(`Logged in as ${session.name}.`);
    showScreen("accounts", true);
  });

  onSubmit("#account-form", "#account-error", async (form) => {
    const session = requireSession();
    const body = { type: form.elements.type.value, currency: form.elements.currency.value };
    const account = await withIdempotency(form, body, (opts) => session.client.createAccount(body, opts));
    await loadAccounts(session);
    renderAll();
    setStatus(`Opened ${accountName(account)}.`);
  });

  onSubmit("#transaction-form", "#transaction-error", async (form) => {
    const session = requireSession();
    const account = requireAccount(form.elements.account_id);
    const body = {
      account_id: account.id,
      type: form.elements.type.value,
      amount: readAmount(form.elements.amount, account.currency),
      currency: account.currency,
    };
    const description = form.elements.description.value.trim();
    if (description) body.description = description;
    const tx = await withIdempotency(form, body, (opts) => session.client.createTransaction(body, opts));
    form.elements.amount.value = "";
    form.elements.description.value = "";
    await loadAccounts(session);
    renderAll();
    const verb = tx.type === "deposit" ? "Deposited" : "Withdrew";
    setStatus(`${verb} ${money(tx.amount, tx.currency)}. New balance of ${accountName(account)}: ${money(tx.balance_after, tx.currency)}.`);
  });

  onSubmit("#transfer-form", "#transfer-error", async (form) => {
    const session = requireSession();
    const source = requireAccount(form.elements.from_account_id);
    const to = form.elements.to_account_id;
    const toId = to.value.trim();
    if (!UUID_RE.test(toId)) {
      throw fieldError(to, "To account id: enter the destination account's id (a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6).");
    }
    markInvalid(to, false);
    const body = {
      from_account_id: source.id,
      to_account_id: toId,
      amount: readAmount(form.elements.amount, source.currency),
      currency: source.currency,
    };
    const description = form.elements.description.value.trim();
    if (description) body.description = description;
    const transfer = await withIdempotency(form, body, (opts) => session.client.createTransfer(body, opts));
    form.elements.amount.value = "";
    form.elements.description.value = "";
    await reloadOwners([transfer.from_account_id, transfer.to_account_id]);
    renderAll();
    setStatus(`Transferred ${money(transfer.amount, transfer.currency)} from ${accountName(source)} to ${shortId(transfer.to_account_id)}.`);
  });

  onSubmit("#statement-form", "#statement-error", async (form) => {
    requireSession();
    const account = requireAccount(form.elements.account_id);
    statementQuery = { accountId: account.id, period: periodFromForm(form), offset: 0 };
    await showStatement();
    renderAccountSelects();
    renderAccounts();
  });

  onSubmit("#card-form", "#card-error", async (form) => {
    const session = requireSession();
    const account = requireAccount(form.elements.account_id);
    const body = { account_id: account.id, type: form.elements.type.value };
    const card = await withIdempotency(form, body, (opts) => session.client.createCard(body, opts));
    await loadCards(session);
    renderCards();
    setStatus(`Issued ${TYPE_LABEL[card.type].toLowerCase()} card ending ${card.last4}.`);
  });
}

function wireButtons() {
  $("#tabs").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-screen]");
    if (!button) return;
    setStatus("");
    showScreen(button.dataset.screen, true);
  });

  $("#user-select").addEventListener("change", (event) => {
    void switchTo(event.target.value);
  });
  $("#refresh-button").addEventListener("click", () => {
    const session = current();
    if (session) void refreshSession(session);
  });
  $("#token-prompt-refresh").addEventListener("click", () => {
    const session = current();
    if (session) void refreshSession(session);
  });
  $("#logout-button").addEventListener("click", () => {
    const session = current();
    if (session) void endSession(session);
  });

  $("#sessions-table").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    const session = button && sessions.get(button.dataset.id);
    if (!session) return;
    if (button.dataset.action === "use") void switchTo(session.id);
    if (button.dataset.action === "refresh") void refreshSession(session);
    if (button.dataset.action === "logout") void endSession(session);
  });

  $("#accounts-reload").addEventListener("click", async (event) => {
    const session = current();
    if (!session) return;
    event.target.disabled = true;
    try {
      await loadAccounts(session);
      renderAll();
      setStatus("Accounts reloaded.");
    } catch (error) {
      say($("#session-error"), describeError(error));
      noteAuthFailure(error);
    } finally {
      event.target.disabled = false;
    }
  });

  $("#cards-table").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-card]");
    const session = current();
    if (!button || !session) return;
    const errorNode = $("#cards-error");
    say(errorNode, "");
    for (const b of button.parentElement.querySelectorAll("button")) b.disabled = true;
    try {
      const card = await session.client.updateCard(button.dataset.card, button.dataset.status);
      session.cards = session.cards.map((c) => (c.id === card.id ? card : c));
      renderCards();
      setStatus(`Card ending ${card.last4} is now ${card.status}.`);
    } catch (error) {
      say(errorNode, describeError(error));
      noteAuthFailure(error);
      renderCards();
    }
  });

  const statementForm = $("#statement-form");
  const page = (delta) => async () => {
    if (!statementQuery) return;
    const previous = statementQuery.offset;
    statementQuery.offset = Math.max(0, previous + delta);
    await busy(statementForm, $("#statement-error"), showStatement).catch(() => {});
  };
  $("#statement-prev").addEventListener("click", page(-STATEMENT_PAGE));
  $("#statement-next").addEventListener("click", page(STATEMENT_PAGE));
  $("#statement-csv").addEventListener("click", () => {
    void busy(statementForm, $("#statement-error"), () => downloadCsv(statementForm));
  });
}

function main() {
  wireForms();
  wireButtons();
  renderAll();
  showScreen("users");
  setInterval(tick, 1000);
  let resizeFrame = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => {
      if (lastChart && !$("#statement-result").hidden) drawBalanceChart($("#balance-chart"), ...lastChart);
    });
  });
}

main();

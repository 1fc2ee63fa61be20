// Offline tests of the bundle's money helpers: strings in, integer minor units out, no floats.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { MAX_AMOUNT, formatAmount, parseAmount } from "../../../frontend/generated/bank-api.js";

describe("parseAmount", () => {
  for (const [text, minor] of [
    ["12.34", 1234],
    ["5", 500],
    ["0.5", 50],
    ["0.01", 1],
    ["  7.10 ", 710],
    ["0.29", 29], // 0.29 * 100 is 28.999999999999996 in float math
    ["8.2", 820], // 8.2 * 100 is 819.9999999999999 in float math
    ["10000000000000", MAX_AMOUNT],
  ]) {
    it(`parses ${JSON.stringify(text)} as ${minor}`, () => {
      assert.equal(parseAmount(text, "USD"), minor);
    });
  }

  for (const text of ["", "abc", "1.234", "-1", "1,5", "1e3", ".5", "1.", "0", "0.00", "10000000000000.01"]) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseAmount(text, "USD"), RangeError);
    });
  }
});

describe("formatAmount", () => {
  for (const [minor, text] of [
    [0, "0.00"],
    [1, "0.01"],
    [1234, "12.34"],
    [123456789, "1,234,567.89"],
    [10n ** 18n, "10,000,000,000,000,000.00"],
  ]) {
    it(`formats ${minor} as ${text}`, () => {
      assert.equal(formatAmount(minor, "EUR"), text);
    });
  }
});

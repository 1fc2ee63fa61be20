// A small balance-over-time chart drawn as inline SVG: a step line through each transaction's
// `balance_after`, starting from the balance before the first row. No library, no inline styles.
import { formatAmount } from "./generated/bank-api.js";
import { formatTimestamp, svg } from "./dom.js";

const HEIGHT = 180;
const PAD = { top: 16, right: 12, bottom: 24, left: 12 };

/** Balance before `tx`: undo its signed amount (credits add, debits subtract). */
function balanceBefore(tx) {
  const credit = tx.type === "deposit" || tx.type === "transfer_in";
  return credit ? tx.balance_after - tx.amount : tx.balance_after + tx.amount;
}

/**
 * Draws `transactions` (oldest first) into the <svg> `root` and returns a one-line text summary
 * for the figure caption. The viewBox follows the element's rendered width, so text and dots keep
 * their size at any screen width; the height is fixed.
 */
export function drawBalanceChart(root, transactions, fallbackBalance, currency) {
  const WIDTH = Math.max(240, Math.round(root.getBoundingClientRect().width) || 600);
  root.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  const values = transactions.length
    ? [balanceBefore(transactions[0]), ...transactions.map((t) => t.balance_after)]
    : [fallbackBalance, fallbackBalance];
  const max = Math.max(1, ...values);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  // One slot per value; the last balance holds until the right edge.
  const x = (i) => PAD.left + (plotW * i) / values.length;
  const y = (v) => PAD.top + plotH - (plotH * v) / max;
  const r = (n) => Math.round(n * 10) / 10;

  let line = `M${r(x(0))},${r(y(values[0]))}`;
  for (let i = 1; i < values.length; i += 1) {
    line += ` H${r(x(i))} V${r(y(values[i]))}`;
  }
  line += ` H${r(x(values.length))}`;
  const base = r(y(0));
  const area = `${line} V${base} H${r(x(0))} Z`;

  const children = [
    svg("line", { class: "grid-line", x1: PAD.left, x2: WIDTH - PAD.right, y1: r(y(max)), y2: r(y(max)) }),
    svg("line", { class: "grid-line", x1: PAD.left, x2: WIDTH - PAD.right, y1: base, y2: base }),
    svg("path", { class: "balance-area", d: area }),
    svg("path", { class: "balance-line", d: line }),
    svg("text", { class: "axis-label", x: PAD.left + 2, y: r(y(max)) - 4 }, `${formatAmount(max, currency)} ${currency}`),
  ];
  values.forEach((v, i) => {
    if (i === 0) return;
    const dot = svg("circle", { class: "balance-dot", cx: r(x(i)), cy: r(y(v)), r: 3 });
    const tx = transactions[i - 1];
    dot.append(svg("title", {}, `${formatTimestamp(tx.created_at)}: ${formatAmount(v, currency)} ${currency}`));
    children.push(dot);
  });
  if (transactions.length) {
    children.push(
      svg("text", { class: "axis-label", x: PAD.left, y: HEIGHT - 6 }, formatTimestamp(transactions[0].created_at).slice(0, 10)),
      svg("text", { class: "axis-label", x: WIDTH - PAD.right, y: HEIGHT - 6, "text-anchor": "end" },
        formatTimestamp(transactions[transactions.length - 1].created_at).slice(0, 10)),
    );
  }
  root.replaceChildren(...children);

  const first = formatAmount(values[0], currency);
  const last = formatAmount(values[values.length - 1], currency);
  return transactions.length
    ? `Balance over time: ${first} to ${last} ${currency} across ${transactions.length} transaction${transactions.length === 1 ? "" : "s"}`
    : `Balance over time: no movements, ${last} ${currency}`;
}

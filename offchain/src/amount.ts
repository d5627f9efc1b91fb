/**
 * Token amounts as people read them ("24,000 KAI", "1,234.5678 KAI", "< 0.0001 KAI" for dust): one
 * rule for the web app and the `kaisar` CLI. Plain bigint arithmetic, no ethers or viem import, so the
 * web app's first page can use it without loading either.
 */
export function formatTokenAmount(amount: bigint, symbol: string, decimals = 18, maxFraction = 4): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const base = 10n ** BigInt(decimals);
  const whole = (abs / base).toString();
  const fraction = decimals > 0 ? (abs % base).toString().padStart(decimals, "0") : "";
  const frac = fraction.slice(0, maxFraction).replace(/0+$/, "");
  if (frac === "" && abs > 0n && whole === "0") {
    // A dust amount reads as "< 0.0001", not "0".
    return `${negative ? "> -" : "< "}0.${"0".repeat(Math.max(0, maxFraction - 1))}1 ${symbol}`;
  }
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${frac ? "." + frac : ""} ${symbol}`;
}

// Money as the technician reads and types it. Amounts are integers in minor units, as on the
// wire; `display` writes them as sync/ledger.py's `display` does, so both devices say the same.

export const MAX_AMOUNT = 999999999999; // the largest amount, line, order or job total (contract §1)

// Active ISO 4217 currencies money can be paid in (sync/limits.py's `Currency`).
export const CURRENCIES = new Set(
  ("AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD " +
    "CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP " +
    "GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD " +
    "KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN " +
    "NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP " +
    "SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND " +
    "VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG").split(" "),
);
const ZERO_DECIMAL = new Set(
  "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(" "),
);
const THREE_DECIMAL = new Set("BHD IQD JOD KWD LYD OMR TND".split(" "));
const SYMBOLS = { USD: "$", EUR: "€", GBP: "£", CAD: "CA$", AUD: "A$", JPY: "¥" };

export function decimals(currency) {
  if (ZERO_DECIMAL.has(currency)) return 0;
  return THREE_DECIMAL.has(currency) ? 3 : 2;
}

function grouped(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** `$75.00`, `€1,200.50`, `12.00 CHF`, `-$5.00`. */
export function display(amount, currency) {
  const sign = amount < 0 ? "-" : "";
  const whole = Math.abs(amount);
  const places = decimals(currency);
  let number;
  if (places === 0) {
    number = grouped(String(whole));
  } else {
    const unit = 10 ** places;
    number = `${grouped(String(Math.floor(whole / unit)))}.${String(whole % unit).padStart(places, "0")}`;
  }
  const symbol = SYMBOLS[currency];
  return symbol ? `${sign}${symbol}${number}` : `${sign}${number} ${currency}`;
}

export class NotMoney extends Error {}

/**
 * An amount typed as on a price tag: `185`, `185.00`, `$1,250.50` (thousands grouped by
 * commas, or not at all; the currency's own symbol in front, or none). Minor units, or
 * `NotMoney` saying what to type. ASCII digits only (contract §1).
 */
export function parseMoney(text, currency, what = "price") {
  const typed = String(text ?? "").trim();
  const places = decimals(currency);
  const example = places === 2 ? `185, 185.00 or ${display(125050, currency)}` : `185 or ${display(1250 * 10 ** places, currency)}`;
  const refuse = () => new NotMoney(`Enter the ${what} as on a price tag, such as ${example}.`);
  if (!typed) throw new NotMoney(`Enter the ${what}.`);
  let rest = typed;
  const symbol = SYMBOLS[currency];
  if (symbol && rest.startsWith(symbol)) rest = rest.slice(symbol.length);
  const fraction = places ? `(?:\\.([0-9]{1,${places}}))?` : "";
  const match = new RegExp(`^([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)${fraction}$`).exec(rest);
  if (!match) throw refuse();
  const units = match[1].replaceAll(",", "");
  if (units.length > 13) throw new NotMoney(`That ${what} is more than Flint takes.`);
  const amount = Number(units) * 10 ** places + Number((match[2] || "").padEnd(places, "0") || 0);
  if (amount <= 0) throw new NotMoney(`Enter a ${what} above zero.`);
  if (amount > MAX_AMOUNT) throw new NotMoney(`That ${what} is more than Flint takes.`);
  return amount;
}

/** What an amount looks like typed back into a form: `1250.50`. */
export function typed(amount, currency) {
  const places = decimals(currency);
  if (!places) return String(amount);
  const unit = 10 ** places;
  return `${Math.floor(amount / unit)}.${String(amount % unit).padStart(places, "0")}`;
}

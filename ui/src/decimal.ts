// Money arrives as decimal strings ("1234.56") and is added here exactly, with
// BigInt, never with floating point. Numbers are only used to size chart bars.

interface Scaled {
  units: bigint;
  scale: number;
}

function parse(value: string): Scaled {
  const text = value.trim();
  if (!/^[+-]?\d*(\.\d*)?$/.test(text) || !/\d/.test(text)) throw new Error(`not a decimal: ${value}`);
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = text.replace(/^[+-]/, '').split('.');
  const units = BigInt((whole || '0') + fraction);
  return { units: negative ? -units : units, scale: fraction.length };
}

function rescale(v: Scaled, scale: number): bigint {
  return v.units * 10n ** BigInt(scale - v.scale);
}

function render(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? '.' + digits.slice(digits.length - scale) : '';
  return (negative ? '-' : '') + whole + fraction;
}

/** The exact sum of decimal strings, with as many places as the most precise term. */
export function sum(values: Iterable<string>): string {
  const terms = [...values].map(parse);
  const scale = Math.max(0, ...terms.map((t) => t.scale));
  return render(terms.reduce((acc, t) => acc + rescale(t, scale), 0n), scale);
}

export function isDecimal(value: string): boolean {
  try {
    parse(value);
    return true;
  } catch {
    return false;
  }
}

/** For charts only. */
export const toNumber = (value: string | null | undefined): number => (value ? Number(value) : 0);

/** `a - b`, exactly. */
export function subtract(a: string, b: string): string {
  const { units, scale } = parse(b);
  return sum([a, render(-units, scale)]);
}

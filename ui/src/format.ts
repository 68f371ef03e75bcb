// Display formats. Amounts are formatted from their decimal strings, so the
// digits shown are the digits stored.

const moneyFormats = new Map<string, Intl.NumberFormat>();

export function money(amount: string | null | undefined, currency?: string): string {
  if (amount == null || amount === '') return '—';
  const key = currency ?? '';
  let format = moneyFormats.get(key);
  if (!format) {
    // With a currency, its own minor units (2 for USD, 0 for JPY); without one
    // (grid cells, whose currency the grid states), 2 places.
    format = currency
      ? new Intl.NumberFormat('en-US', { style: 'currency', currency })
      : new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    moneyFormats.set(key, format);
  }
  // Intl formats a numeric string exactly (no conversion to a double).
  return format.format(amount as unknown as number);
}

/** A compact amount for chart labels: 1.2M, 350K. */
export function compact(value: number): string {
  return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(value);
}

export function date(value: string | null | undefined): string {
  return value ? value.slice(0, 10) : '—';
}

/** `in_progress` → `In progress`. */
export function label(value: string | null | undefined): string {
  if (!value) return '—';
  const text = value.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A round number at or above `value` for a chart's scale: 1, 2 or 5 times a power of ten. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((m) => m * power >= value)!;
  return step * power;
}

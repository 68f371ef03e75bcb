import { describe, expect, it } from 'vitest';
import { isDecimal, subtract, sum } from './decimal';

describe('decimal arithmetic on money strings', () => {
  it('adds exactly where floating point would not', () => {
    expect(sum(['0.1', '0.2'])).toBe('0.3');
    expect(sum(['1234.56', '0.004', '-0.564'])).toBe('1234.000');
    expect(sum([])).toBe('0');
  });

  it('keeps amounts beyond a double’s precision', () => {
    expect(sum(['999999999999999.99', '0.01'])).toBe('1000000000000000.00');
  });

  it('subtracts', () => {
    expect(subtract('100', '250.5')).toBe('-150.5');
    expect(subtract('10.00', '-2')).toBe('12.00');
  });

  it('tells amounts from other text', () => {
    expect(isDecimal('12.50')).toBe(true);
    expect(isDecimal('-3')).toBe(true);
    expect(isDecimal('1,250.00')).toBe(false);
    expect(isDecimal('abc')).toBe(false);
    expect(isDecimal('.')).toBe(false);
  });
});

describe('chart scales', () => {
  it('round up to 1, 2 or 5 times a power of ten', async () => {
    const { niceCeiling } = await import('./format');
    expect([0, 0.3, 3, 12, 1450.5, 50000, 50001].map(niceCeiling)).toEqual([1, 0.5, 5, 20, 2000, 50000, 100000]);
  });
});

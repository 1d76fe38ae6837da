/**
 * Run-time side of `Duration`: every spelling the type admits (each unit of ms, in lower, UPPER
 * and Capitalized case, with and without a space) parses with toMs to the right number of ms,
 * and the typos the type refuses are refused at run time too.
 */
import { describe, expect, it } from 'vitest';
import { type Duration, toMs } from '../src/index.js';
import { DURATION_UNITS, type ListedUnit } from './duration-units.js';

const cases = (unit: ListedUnit) => [unit, unit.toUpperCase(), unit[0]?.toUpperCase() + unit.slice(1)];

describe('toMs', () => {
  it('parses every unit spelling the Duration type admits', () => {
    for (const [unit, size] of Object.entries(DURATION_UNITS) as [ListedUnit, number][]) {
      for (const spelled of cases(unit)) {
        expect(toMs(`2${spelled}` as Duration, 'ttl'), `2${spelled}`).toBe(2 * size);
        expect(toMs(`1.5 ${spelled}` as Duration, 'ttl'), `1.5 ${spelled}`).toBe(Math.round(1.5 * size));
      }
    }
    expect(toMs('250', 'ttl')).toBe(250);
    expect(toMs(250, 'ttl')).toBe(250);
    expect(toMs('10  s', 'ttl')).toBe(10_000);
  });

  it('refuses what the type refuses, and what only the run time can see', () => {
    for (const bad of ['10 parsecs', '10 secz', '5 mins later', 'soon', 's', '1h30m', '10s ']) {
      expect(() => toMs(bad as Duration, 'ttl'), bad).toThrowError(/ttl/);
    }
    // Admitted by `${number}`, refused by ms or by toMs.
    for (const bad of ['1e3s', '-5s', ' 10s', 'Infinity'] as Duration[]) {
      expect(() => toMs(bad, 'ttl'), bad).toThrowError(/ttl/);
    }
  });
});

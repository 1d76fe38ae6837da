import {
  json,
  SerializationError,
  SerializationErrorCode,
  STRATACACHE_ERROR_MARKER,
  StratacacheError,
} from '@stratacache/serializers';
import { describe, expect, it } from 'vitest';

describe('errors', () => {
  it('carries a stable code, context and cause', () => {
    try {
      json().decode(Buffer.from('{"a":'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SerializationError);
      const e = error as SerializationError;
      expect(e.code).toBe(SerializationErrorCode.Truncated);
      expect(e.name).toBe('SerializationError');
      expect(e.context).toEqual({ format: 'json' });
      expect(e.cause).toBeInstanceOf(SyntaxError);
    }
  });

  it('is recognised across duplicate installs through the Symbol.for marker', () => {
    // A class from "another copy" of the package: same marker, different identity.
    class ForeignError extends Error {
      readonly code = 'E_CONNECTION';
    }
    Object.defineProperty(ForeignError.prototype, Symbol.for('stratacache.error'), { value: true });
    const foreign = new ForeignError('from core-client');
    expect(foreign instanceof StratacacheError).toBe(false);
    expect(StratacacheError.isInstance(foreign)).toBe(true);
    expect(STRATACACHE_ERROR_MARKER).toBe(Symbol.for('stratacache.error'));
    expect(StratacacheError.isInstance(new Error('plain'))).toBe(false);
    expect(StratacacheError.isInstance(null)).toBe(false);
    expect(StratacacheError.isInstance({ code: 'E_X' })).toBe(false);
  });
});

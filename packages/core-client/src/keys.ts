/**
 * The one key builder (DESIGN.md, Keys): `{prefix}:{namespace}:{kind}:{id...}`.
 *
 * - prefix, namespace and kind are validated names (letters, digits, `_`, `-`;
 *   nested namespaces joined with `.`), so they never hold a separator;
 * - id parts are user data, percent-encoded for `%`, `:`, `{` and `}`, so a part
 *   can neither add a segment nor open a Cluster hash tag, and distinct inputs
 *   always give distinct keys;
 * - every user string must be well-formed Unicode: a lone UTF-16 surrogate has
 *   no UTF-8 encoding (Node writes U+FFFD for it), so `'\uD800'` and `'\uDBFF'`
 *   would become the same Redis key. Such strings are refused (`KeyError`);
 * - hash tags are explicit (`keys.tag(value)`), rendered `{...}`;
 * - patterns escape every literal part for SCAN MATCH, so user data can never
 *   widen a pattern.
 */
import { KeyError } from './errors.js';
import { hashParams } from './hash.js';

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A Cluster hash tag: keys holding the same tag share a slot. */
export class HashTag {
  constructor(readonly value: string) {}
}

/** One id part of a key. Numbers are written in decimal (so `1` and `'1'` are the same id). */
export type KeyPart = string | number | HashTag;

/** A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// V8 11.3+ (Node 20) has a native check; the regex is the fallback and finds the position.
const nativeWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/**
 * Throws `KeyError` (`E_KEY`) when `text` is not well-formed Unicode (holds a
 * lone UTF-16 surrogate). UTF-8 has no encoding for a lone surrogate, so Redis
 * would receive U+FFFD instead and two different ids (`'\uD800'`, `'\uDBFF'`,
 * or `'x\uDC00'` and `'x\uFFFD'`) would share one key. Such strings typically
 * come from `JSON.parse` of a request body (`"\ud800"` is valid JSON).
 * `what` names the input in the message. Returns `text`.
 *
 * @example
 * ```ts
 * assertWellFormed(req.body.id, 'id'); // throws for '\uD800'
 * ```
 */
export function assertWellFormed(text: string, what: string): string {
  const wellFormed = nativeWellFormed ? nativeWellFormed.call(text) : !LONE_SURROGATE.test(text);
  if (!wellFormed) {
    const index = LONE_SURROGATE.exec(text)?.index ?? -1;
    throw new KeyError(
      `${what} holds a lone UTF-16 surrogate at index ${index}, which UTF-8 cannot encode: Redis would get U+FFFD instead, so it could collide with another ${what}. Refuse or repair such input (text.toWellFormed()) before it reaches a key.`,
      { context: { what, index } },
    );
  }
  return text;
}

/**
 * Percent-encodes the characters that carry structure in a key: `%`, `:`,
 * `{`, `}`. Throws `KeyError` for a string that is not well-formed Unicode.
 */
export function encodeKeyPart(part: string | number): string {
  const text = typeof part === 'string' ? assertWellFormed(part, 'A key part') : String(part);
  // Most parts need no escape: a test is cheaper than a replace with a callback.
  if (!NEEDS_ESCAPE.test(text)) return text;
  // Four native passes (`%` first, so no escape is escaped again) cost less than one replace with a callback.
  return text.replaceAll('%', '%25').replaceAll(':', '%3A').replaceAll('{', '%7B').replaceAll('}', '%7D');
}

const NEEDS_ESCAPE = /[%:{}]/;

/**
 * Escapes the glob characters of SCAN MATCH / PSUBSCRIBE (`* ? [ ] \\`) so
 * `text` matches only itself. Throws `KeyError` for text that is not well-formed Unicode.
 */
export function escapeGlob(text: string): string {
  return assertWellFormed(text, 'A pattern part').replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function checkName(value: string, what: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new KeyError(`${what} must be 1-64 letters, digits, _ or -; got ${JSON.stringify(value)}`, {
      context: { what },
    });
  }
  return value;
}

function renderPart(part: KeyPart): string {
  if (part instanceof HashTag) return `{${encodeKeyPart(part.value)}}`;
  if (typeof part === 'number') {
    if (!Number.isFinite(part)) throw new KeyError(`A key part must be a finite number; got ${part}`);
    return String(part);
  }
  if (typeof part !== 'string')
    throw new KeyError(`A key part must be a string, a number or keys.tag(); got ${typeof part}`);
  return encodeKeyPart(part);
}

/** Options of {@link createKeyBuilder}. */
export interface KeyBuilderOptions {
  /** First segment of every key. @default 'strata' */
  prefix?: string;
  /** Second segment: the layer or application area (`cache`, `sessions`); nested with `.`. */
  namespace: string;
  /** Longest key accepted, in bytes. @default 1024 */
  maxLength?: number;
}

/** Builds keys and patterns for one prefix and namespace. */
export class KeyBuilder {
  readonly prefix: string;
  readonly namespace: string;
  readonly maxLength: number;
  private readonly head: string;

  constructor(options: KeyBuilderOptions) {
    this.prefix = options.prefix ?? 'strata';
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(this.prefix)) {
      throw new KeyError(`prefix must be 1-64 letters, digits, _ . or -; got ${JSON.stringify(this.prefix)}`);
    }
    const segments = String(options.namespace).split('.');
    for (const segment of segments) checkName(segment, 'namespace segment');
    this.namespace = segments.join('.');
    this.maxLength = options.maxLength ?? 1024;
    this.head = `${this.prefix}:${this.namespace}:`;
  }

  /** A builder for a nested namespace (`cache` -> `cache.users`). */
  child(name: string): KeyBuilder {
    return new KeyBuilder({
      prefix: this.prefix,
      namespace: `${this.namespace}.${checkName(name, 'namespace')}`,
      maxLength: this.maxLength,
    });
  }

  /** A hash tag part: keys with the same tag land in the same Cluster slot. */
  tag(value: string | number): HashTag {
    // Redis ignores an empty hash tag ({}), which would scatter keys meant to share a slot.
    if (String(value) === '') throw new KeyError('A hash tag must not be empty');
    return new HashTag(String(value));
  }

  /**
   * The key `{prefix}:{namespace}:{kind}:{part}:{part}...`. Throws `KeyError`
   * for a bad kind or part, or a key longer than `maxLength` bytes.
   *
   * @example
   * ```ts
   * const keys = createKeyBuilder({ namespace: 'sessions' });
   * keys.key('user', keys.tag(42), 'index'); // 'strata:sessions:user:{42}:index'
   * keys.key('data', 'a:b');                  // 'strata:sessions:data:a%3Ab'
   * ```
   */
  key(kind: string, ...parts: KeyPart[]): string {
    checkName(kind, 'kind');
    if (parts.length === 0) throw new KeyError(`key('${kind}') needs at least one id part`);
    const key = `${this.head}${kind}:${parts.map(renderPart).join(':')}`;
    // A UTF-16 unit is at most 3 UTF-8 bytes: short keys need no byte count.
    if (key.length * 3 > this.maxLength && Buffer.byteLength(key) > this.maxLength) {
      throw new KeyError(
        `Key of ${Buffer.byteLength(key)} bytes is over maxKeyLength (${this.maxLength}); hash long ids with keys.hashed() instead.`,
        { context: { kind, length: Buffer.byteLength(key) } },
      );
    }
    return key;
  }

  /** The key of `kind` whose id is the SHA-256 of the canonical JSON of `params` (`sql:{table}:data:{hash}`). */
  hashed(kind: string, ...partsThenParams: [...KeyPart[], unknown]): string {
    const params = partsThenParams[partsThenParams.length - 1];
    const parts = partsThenParams.slice(0, -1) as KeyPart[];
    return this.key(kind, ...parts, hashParams(params));
  }

  /** A SCAN pattern matching exactly `key(kind, ...parts)` and nothing else. */
  exact(kind: string, ...parts: KeyPart[]): string {
    return escapeGlob(this.key(kind, ...parts));
  }

  /**
   * A SCAN pattern for every key below `key(kind, ...parts)` (`...:*`), or every
   * key of `kind` when no part is given. User parts are escaped: they can never widen it.
   */
  under(kind: string, ...parts: KeyPart[]): string {
    checkName(kind, 'kind');
    const base = parts.length === 0 ? `${this.head}${kind}` : this.key(kind, ...parts);
    return `${escapeGlob(base)}:*`;
  }

  /** A SCAN pattern for every key of this namespace (and its children's keys are not included). */
  all(): string {
    return `${escapeGlob(this.head)}*`;
  }

  /**
   * A pattern of `kind` ending in a caller's glob (`'user:*'`): prefix,
   * namespace and kind are escaped, `glob` is used as written. For patterns
   * that come from configuration, not from end users.
   */
  glob(kind: string, glob: string): string {
    checkName(kind, 'kind');
    assertWellFormed(glob, 'A glob');
    return `${escapeGlob(`${this.head}${kind}:`)}${glob}`;
  }

  /** A pub/sub channel name in this namespace: `{prefix}:{namespace}:chan:{topic}`. */
  channel(topic: string): string {
    return this.key('chan', topic);
  }
}

/** Builds a {@link KeyBuilder}. */
export function createKeyBuilder(options: KeyBuilderOptions): KeyBuilder {
  return new KeyBuilder(options);
}

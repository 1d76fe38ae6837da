/**
 * What a session stores of the request that created it, for the bindings
 * that are on: the client address (normalized) and a hash of the user agent
 * in the payload, and per-secret binding tags the Lua scripts compare.
 */
import { ConfigError } from '@stratacache/core-client';
import { ipBindingTag, normalizeIp, uaBindingTag } from './binding.js';
import { hashUserAgent } from './ids.js';
import type { ResolvedSessionOptions } from './options.js';
import type { Payload } from './payload.js';
import type { RequestContext } from './types.js';

/** With a binding on, the request facts it compares are required (pass "" for an absent user agent). */
export function requireContext(options: ResolvedSessionOptions, context: RequestContext, call: string): void {
  if (options.bindIp && context.ip === undefined) {
    throw new ConfigError(`${call}: options.ip is required while bindIp is on (pass the client address)`, {
      context: { option: 'ip' },
    });
  }
  if (options.bindUserAgent && context.userAgent === undefined) {
    throw new ConfigError(`${call}: options.userAgent is required while bindUserAgent is on (pass "" when absent)`, {
      context: { option: 'userAgent' },
    });
  }
}

/** The payload of a new session: its user and data, and the request facts the bindings need. */
export function payloadFor<T>(
  options: ResolvedSessionOptions,
  userId: string | null,
  data: T,
  context: RequestContext,
  call: string,
): Payload {
  requireContext(options, context, call);
  return withRequestFacts({ u: userId, d: data }, context);
}

/** `payload` with the request's address (normalized) and user-agent hash, where `context` has them. */
export function withRequestFacts(payload: Payload, context: RequestContext): Payload {
  if (context.ip !== undefined) payload.ip = normalizeIp(context.ip)?.address ?? context.ip;
  if (context.userAgent !== undefined) payload.ua = hashUserAgent(context.userAgent);
  return payload;
}

/** The binding tags a new session stores under `secret`, for the bindings that are on. */
export function bindingTags(
  options: ResolvedSessionOptions,
  secret: Buffer,
  payload: Payload,
): { ipTag: string; uaTag: string } {
  const { bindIp, bindUserAgent } = options;
  return {
    ipTag: payload.ip !== undefined && bindIp ? ipBindingTag(secret, payload.ip, bindIp) : '',
    uaTag: payload.ua !== undefined && bindUserAgent ? uaBindingTag(secret, payload.ua) : '',
  };
}

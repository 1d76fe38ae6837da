/** What the launcher says when it cannot start: one paragraph, no stack trace. */

/** A start-up failure the user can fix; `main` prints its message and exits with status 1. */
export class DemoStartError extends Error {
  override readonly name = 'DemoStartError';
}

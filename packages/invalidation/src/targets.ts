/** What the bus asks of an in-memory tier. Every method is optional but `clearLocal`. */
export interface LocalTarget {
  /** Only messages about this cache namespace reach the target. @default every namespace */
  namespace?: string;
  deleteLocal?(keys: string[]): void;
  deleteLocalByPrefix?(prefixes: string[]): void;
  deleteLocalByTags?(tags: string[]): void;
  /** Mark keys stale but keep them for grace readers (falls back to deleteLocal). */
  expireLocal?(keys: string[], at: number): void;
  /** Mark entries of tags stale (falls back to deleteLocalByTags). */
  expireLocalByTags?(tags: string[], at: number): void;
  /** Drop everything: after a gap in the message stream nothing local can be trusted. */
  clearLocal(): void;
}

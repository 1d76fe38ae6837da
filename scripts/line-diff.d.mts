/** Types of `line-diff.mjs`. */
export function lineDiff(before: string, after: string): { added: string[]; removed: string[] };

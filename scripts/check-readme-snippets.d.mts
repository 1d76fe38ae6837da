/** Types of `check-readme-snippets.mjs`, for the README tests that import it. */
export interface SnippetProblem {
  file: string;
  line: number;
  message: string;
}
export interface Snippet {
  line: number;
  code: string;
  prelude: string;
  skip: string | undefined;
}
export function extractSnippets(markdown: string): {
  snippets: Snippet[];
  refused: { line: number; message: string }[];
};
export function checkMarkdown(files: string[]): SnippetProblem[];
export function documentationFiles(): string[];
export function formatProblems(problems: SnippetProblem[]): string[];

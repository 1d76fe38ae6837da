/** Types of `migration-guides.mjs`. */
export interface GuideBlock {
  guide: string;
  side: 'before' | 'after';
  label: string;
  code: string;
  line: number;
}
export function guideFiles(): string[];
export function guideBlocks(file: string): GuideBlock[];

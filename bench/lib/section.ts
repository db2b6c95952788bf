/** What every benchmark section gets. */
export interface BenchContext {
  /** Built models live here between runs (gitignored). */
  readonly cacheDir: string;
  /** Fewer tokens, repeats and shapes: a smoke run, numbers not for the doc. */
  readonly quick: boolean;
  readonly repeats: number;
  /** Python with torch for the PyTorch oracle, when installed. */
  readonly python: string | undefined;
  log(line: string): void;
}

/** What every section hands back: a table, one summary line, and raw numbers for the results file. */
export interface SectionResult {
  readonly title: string;
  readonly table: string;
  readonly notes: readonly string[];
  readonly summary: string;
  readonly data: Record<string, unknown>;
}

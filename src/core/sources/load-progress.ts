import type { FileEntry } from '../../spec/manifest.js';
import type { LoadPhase, LoadProgressCallback } from '../../spec/progress.js';

/** Finer than this share of the total is not worth an event (a 3 GB load would emit 50 000). */
const EVENTS_PER_LOAD = 1000;

/**
 * Turns per-file byte counts into `LoadProgressEvent`s with the guarantees `spec/progress.ts` promises:
 * `total` fixed up front, `fileLoaded` and `loaded` never decrease (a file restarted from byte 0
 * holds its high-water mark until the new transfer passes it), and each file's completion is an
 * event, so the last event of the stage has `loaded === total`.
 */
export class LoadProgress {
  readonly total: number;
  private loaded = 0;
  private lastEmittedLoaded = -1;
  private readonly step: number;

  constructor(
    entries: readonly FileEntry[],
    private readonly onProgress: LoadProgressCallback | undefined,
  ) {
    this.total = entries.reduce((sum, entry) => sum + entry.size, 0);
    this.step = Math.max(1, Math.floor(this.total / EVENTS_PER_LOAD));
  }

  begin(entry: FileEntry): FileProgress {
    return new FileProgress(entry, (delta, phase, fileLoaded, force) => {
      this.loaded += delta;
      if (!this.onProgress) return;
      if (!force && this.loaded - this.lastEmittedLoaded < this.step) return;
      this.lastEmittedLoaded = this.loaded;
      this.onProgress({
        phase,
        file: entry.path,
        fileLoaded,
        fileTotal: entry.size,
        loaded: this.loaded,
        total: this.total,
      });
    });
  }
}

type Sink = (delta: number, phase: LoadPhase, fileLoaded: number, force: boolean) => void;

export class FileProgress {
  private fileLoaded = 0;
  private phase: LoadPhase | undefined;

  constructor(
    private readonly entry: FileEntry,
    private readonly sink: Sink,
  ) {}

  /** The file has `fileLoaded` bytes in `phase`. Lower counts than already reported are held. */
  report(phase: LoadPhase, fileLoaded: number): void {
    const clamped = Math.min(this.entry.size, Math.max(this.fileLoaded, fileLoaded));
    const delta = clamped - this.fileLoaded;
    const phaseChanged = phase !== this.phase;
    if (delta === 0 && !phaseChanged) return;
    this.fileLoaded = clamped;
    this.phase = phase;
    this.sink(delta, phase, clamped, phaseChanged);
  }

  /** The file is present and verified; `phase` is used when nothing was reported before. */
  complete(fallbackPhase: LoadPhase): void {
    const phase = this.phase ?? fallbackPhase;
    const delta = this.entry.size - this.fileLoaded;
    this.fileLoaded = this.entry.size;
    this.phase = phase;
    this.sink(delta, phase, this.entry.size, true);
  }

  get lastPhase(): LoadPhase | undefined {
    return this.phase;
  }
}

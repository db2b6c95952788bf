import cliProgress from 'cli-progress';

/** One terminal progress bar on stderr (stdout stays clean for piping text and paths). */
export function createProgressBar(label: string): { update(value: number, total: number, detail?: string): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} {detail}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: false,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total, detail = '') {
      if (!started) {
        bar.start(total, value, { detail });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(value, { detail });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

// Progress a person can follow: on a terminal one bar redrawn in place (count, rate, ETA); otherwise (CI, a file,
// a pipe) a plain line now and then. Hand-written (40 lines) rather than cli-progress, to keep the shared lockfile
// free of a dependency for one bar.

export interface Progress {
  update(done: number, total: number | undefined, detail: string): void;
  /** Ends the bar's line (a terminal) so later output starts on a fresh one. */
  finish(): void;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function progress(o: {
  stream?: NodeJS.WriteStream;
  print: (line: string) => void;
  unit: string;
  now?: () => number;
  /** Plain lines at most this often (default 10 s). */
  plainEveryMs?: number;
}): Progress {
  const stream = o.stream ?? process.stdout;
  const now = o.now ?? Date.now;
  const tty = stream.isTTY === true;
  let first: { at: number; done: number } | undefined;
  let lastPlain = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(done, total, detail) {
      const t = now();
      first ??= { at: t, done };
      const rate = t > first.at ? ((done - first.done) * 1000) / (t - first.at) : 0;
      const eta = total !== undefined && rate > 0 ? duration((total - done) / rate) : '?';
      const count = total !== undefined ? `${fmt(done)}/${fmt(total)} ${o.unit}` : `${fmt(done)} ${o.unit}`;
      const text = `${count}  ${rate.toFixed(1)}/s  ETA ${eta}${detail ? `  ${detail}` : ''}`;
      if (tty) {
        const width = 24;
        const filled = total ? Math.min(width, Math.round((done / Math.max(total, 1)) * width)) : 0;
        stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}`);
        drawn = true;
      } else if (t - lastPlain >= (o.plainEveryMs ?? 10_000)) {
        lastPlain = t;
        o.print(`  ${text}`);
      }
    },
    finish() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}

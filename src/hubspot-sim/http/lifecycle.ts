/**
 * Tracks what would keep the process alive after close(): hung responses and latency timers, so the
 * simulator can end them promptly (jest must be able to exit).
 */
import type { ServerResponse } from 'node:http';

export class Lifecycle {
  private readonly hung = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  closing = false;

  /** Never answers `res`; it ends when the client gives up or the simulator closes. */
  hold(res: ServerResponse): void {
    this.hung.add(res);
    res.once('close', () => this.hung.delete(res));
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  close(): void {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const res of this.hung) res.destroy();
    this.hung.clear();
  }
}

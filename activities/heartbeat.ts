/**
 * Heartbeats of long activities: every second at most (bounded by a third of the heartbeat timeout), so a
 * dead worker's task is retried elsewhere soon, a live one never misses its deadline, and a cancellation
 * (delivered in a heartbeat's answer) reaches the activity within about a second.
 */
import type { Context } from '@temporalio/activity';

/** Beats every third of the timeout, at least every second and at most every `floorMs`; returns stop. */
export function keepHeartbeating(ctx: Context, options: { floorMs: number; details?: () => unknown }): () => void {
  const every = Math.max(options.floorMs, Math.min(1_000, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  const timer = setInterval(() => (options.details ? ctx.heartbeat(options.details()) : ctx.heartbeat()), every);
  return () => clearInterval(timer);
}

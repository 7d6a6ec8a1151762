/**
 * Heartbeats of long activities: a third of the heartbeat timeout (bounded), so a dead worker's task is
 * retried elsewhere soon, while a live one never misses its deadline between SDK-throttled beats.
 */
import type { Context } from '@temporalio/activity';

/** Beats every third of the timeout, at least every 10 s and at most every `floorMs`; returns stop. */
export function keepHeartbeating(ctx: Context, options: { floorMs: number; details?: () => unknown }): () => void {
  const every = Math.max(options.floorMs, Math.min(10_000, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  const timer = setInterval(() => (options.details ? ctx.heartbeat(options.details()) : ctx.heartbeat()), every);
  return () => clearInterval(timer);
}

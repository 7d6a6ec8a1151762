/**
 * Installs the Temporal SDK runtime once per process: its logs (worker, workflow `log`, activity `log`,
 * Rust core) go through our pino logger as structured JSON with workflow/activity ids, and its metrics
 * can be exported to Prometheus.
 */
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime, makeTelemetryFilterString, type RuntimeOptions } from '@temporalio/worker';
import type { Logger } from '../logger';
import { withoutPayloads } from './log-payloads';

/** Temporal's Logger interface over pino. Metadata carries ids (workflowId, activityId, taskQueue ...). */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly pino: Logger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level] ?? 'info';
    if (!this.pino.isLevelEnabled(method)) return;
    // TRACE entries carry whole activations: their (by now decoded) payloads must not reach the log.
    this.pino[method]({ ...withoutPayloads(meta), component: 'temporal' }, message);
  }
  trace(message: string, meta?: LogMetadata) {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata) {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata) {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata) {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata) {
    this.log('ERROR', message, meta);
  }
}

let installed = false;

export function installTemporalRuntime(
  logger: Logger,
  options: { metricsBindAddress?: string; telemetry?: RuntimeOptions['telemetryOptions'] } = {},
): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new PinoTemporalLogger(logger),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'WARN' }) },
      ...(options.metricsBindAddress ? { metrics: { prometheus: { bindAddress: options.metricsBindAddress } } } : {}),
      ...options.telemetry,
    },
  });
}

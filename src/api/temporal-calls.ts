/** How the API runs short workflows and reads activation state, with Temporal errors mapped to API errors. */
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../config';
import { AppError } from '../errors';
import { Failure } from '../failures';

/** Runs a short workflow to completion and returns its result; a missing worker shows up as a timeout. */
export async function runShortWorkflow<R>(
  client: Client,
  config: Config,
  workflowType: string,
  workflowId: string,
  args: unknown[],
  timeoutMs = 90_000,
): Promise<R> {
  const handle = await client.workflow.start(workflowType, {
    taskQueue: config.temporal.taskQueue,
    workflowId,
    args,
    workflowExecutionTimeout: timeoutMs,
  });
  try {
    return (await handle.result()) as R;
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const cause = err.cause;
      if (cause instanceof ApplicationFailure && cause.nonRetryable) {
        throw new AppError(Failure.BadRequest, cause.message, { status: 422, details: { type: cause.type } });
      }
      if (cause?.name === 'TimeoutFailure' || /timed out/i.test(cause?.message ?? '')) {
        throw new AppError(
          Failure.TemporalUnavailable,
          'No worker finished the check in time. Is a worker running (`npm run worker`) and can it reach HubSpot?',
          { status: 504 },
        );
      }
      throw new AppError(Failure.HubSpotUnavailable, `The check could not complete: ${cause?.message ?? err.message}`);
    }
    throw err;
  }
}

export function webUiUrl(config: Config, workflowId: string, runId?: string): string {
  const base = `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err as { code?: number })?.code === 5;
}

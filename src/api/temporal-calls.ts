/** How the API runs short workflows and reads activation state, with Temporal errors mapped to API errors. */
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import { ApplicationFailure, type Workflow, type WorkflowResultType } from '@temporalio/common';
import type { Config } from '../config';
import { AppError } from '../errors';
import { Failure } from '../failures';

/**
 * Runs a short workflow to completion and returns its result; a missing worker shows up as a timeout.
 * Takes the workflow function itself: its name, arguments and result type come from it.
 */
export async function runShortWorkflow<W extends Workflow>(
  client: Client,
  config: Config,
  workflow: W,
  workflowId: string,
  args: Parameters<W>,
  timeoutMs = 90_000,
): Promise<WorkflowResultType<W>> {
  // The SDK types `args` with a conditional type TypeScript cannot resolve for a generic W; `Parameters<W>` is what it means.
  const options = { taskQueue: config.temporal.taskQueue, workflowId, args, workflowExecutionTimeout: timeoutMs } as unknown;
  const handle = await client.workflow.start(workflow, options as WorkflowStartOptions<W>);
  try {
    return await handle.result();
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

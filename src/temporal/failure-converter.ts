/**
 * Failure converter for workers, clients and the workflow bundle (loaded by path, because workflow code
 * converts its own errors inside the sandbox). It moves failure messages and stack traces into an
 * encoded payload, so the payload codec encrypts them: an error message may quote data.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

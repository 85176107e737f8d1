/**
 * Loaded by path (FAILURE_CONVERTER_PATH) into the client, the worker and the workflow sandbox:
 * failure messages and stack traces become an encoded payload, which the codec encrypts.
 * Sandbox-safe: it imports @temporalio/common only.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

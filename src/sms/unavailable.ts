/**
 * Production without an SMS provider: fail loudly (ChannelMisconfigured) instead of writing a
 * client's text to a local file nobody reads.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../shared/activities';
import type { SmsSender } from './sender';

const notConfigured = () =>
  Promise.reject(ApplicationFailure.nonRetryable('SMS is not configured (set NOTIFY_API_KEY and NOTIFY_SMS_TEMPLATE_ID)', FailureType.ChannelMisconfigured));

export const unavailableSms: SmsSender = { send: notConfigured, status: notConfigured };

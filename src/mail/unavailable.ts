/**
 * Production without an SMTP server: fail loudly (ChannelMisconfigured) instead of writing
 * people's email to a local file nobody reads.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../shared/activities';
import type { Mailer } from './mailer';

export const unavailableMailer: Mailer = {
  send() {
    return Promise.reject(ApplicationFailure.nonRetryable('Email is not configured (set SMTP_URL)', FailureType.ChannelMisconfigured));
  },
  close() {
    return Promise.resolve();
  },
};

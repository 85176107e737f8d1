/** The SMS channel as the activities see it. */
export interface SmsSendOptions {
  /**
   * Set when this send repeats one that may already have reached the provider (an activity
   * retry). A sender that can look a message up by reference then sends nothing new.
   */
  retry?: boolean;
}

export interface SmsSender {
  /**
   * Sends `body` to `to` (E.164, e.g. +447700900123). `reference` names the case and step, never
   * a person; it is the provider's handle for finding a message again.
   * Resolves with the provider's message id once the provider accepted the message.
   */
  send(to: string, body: string, reference: string, options?: SmsSendOptions): Promise<{ id: string }>;
  /** Where the message with this provider id stands now. */
  status(id: string): Promise<SmsStatus>;
  /** True when the sender knows at once that a message arrived (the development mailbox). */
  readonly confirmsDelivery?: boolean;
}

/**
 * Where a text stands at the provider: still on its way, delivered to the handset, failed for
 * good (a landline, a phone off for days), or unknowable (some networks abroad send no receipts).
 */
export interface SmsStatus {
  state: 'pending' | 'delivered' | 'failed' | 'unknown';
  /** The provider's status word (e.g. permanent-failure), never the recipient. */
  reason?: string;
}

/**
 * Client SMS wording. A text message is read on a lock screen in full, so it carries less than
 * the email: no name at all, the date and time, "cancelled", how to rebook, the service name
 * last, then the crisis line. Built from the same ClientFacts as the email, so it can only use
 * what a client may see.
 */
import type { ClientFacts } from './client';
import { CRISIS_SMS } from './crisis';

export function clientSms(f: ClientFacts, serviceName: string): string {
  let message: string;
  switch (f.kind) {
    case 'slotOffer':
      message = `Your appointment on ${f.session} is cancelled. We are sorry. Choose a new time here: ${f.chooseUrl}`;
      break;
    case 'callbackPromise':
      message = `Your appointment on ${f.session} is cancelled. We are sorry. We will contact you by ${f.callbackBy} to arrange a new one.`;
      break;
    case 'absenceUpdate':
      message = f.contactBy
        ? `About your cancelled appointment on ${f.session}: ${f.contactBy === 'team' ? 'someone from our team' : 'your usual contact'} will now contact you${f.callbackBy ? ` by ${f.callbackBy}` : ''} to arrange a new one.`
        : f.expectedReturn
        ? `About your cancelled appointment on ${f.session}: we expect to offer you a new one from ${f.expectedReturn} and will contact you then.`
        : `About your cancelled appointment on ${f.session}: we cannot offer a new one yet and will contact you as soon as we can.`;
      break;
    case 'confirmation':
      message = `Your new appointment is on ${f.bookedSlot}, in place of the cancelled one on ${f.session}.`;
      break;
    case 'bookingWithdrawn':
      message = `We are sorry: your new appointment on ${f.withdrawnSlot} (in place of the one on ${f.session}) cannot go ahead. We will contact you to arrange another.`;
      break;
  }
  // Line breaks keep the link apart from the words around it.
  return `${message}\nFrom ${serviceName}.\n${CRISIS_SMS}`;
}

/**
 * The v1 JSON API for submitting cancellations, shared by the JSON endpoint and the web form so
 * both apply the same rules. Validation needs "now" (sessions in the past are refused); the
 * schema is built once, at load, and `submissionSchema(now)` validates against it at that time.
 */
import { z } from 'zod';
import { returnsAt } from './policy';

export const CONTACT_METHODS = ['email', 'sms', 'phone', 'voicemail'] as const;
export type ContactMethod = (typeof CONTACT_METHODS)[number];

export const REASONS = ['illness', 'personal', 'other'] as const;
export type Reason = (typeof REASONS)[number];

/** Printable text on one line: no control characters, so nothing can smuggle a header or a log line. */
const ONE_LINE = /^[^\p{Cc}\p{Cf}\u2028\u2029]*$/u;
/** Free text may break lines, but carries no other control characters. */
const MULTI_LINE = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/u;

// Control characters are refused before trimming: a tab or zero-width character at either end
// must be refused, not silently dropped.
const oneLine = (max: number) =>
  z
    .string()
    .regex(ONE_LINE, 'Must be on one line, with no control characters')
    .trim()
    .min(1, 'Enter a value')
    .max(max, `Must be ${max} characters or fewer`);

const reference = z
  .string()
  .trim()
  .min(1, 'Enter a reference')
  .max(40, 'Must be 40 characters or fewer')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'Use letters, numbers, dots, dashes or slashes only');

const instant = z.iso.datetime({ offset: true, message: 'Enter a date and time like 2026-11-27T10:00:00Z' });
const date = z.iso.date({ message: 'Enter a date like 2026-12-01' });

/** UK mobile or landline in E.164, or any E.164 number. */
const phone = z
  .string()
  .trim()
  .transform((v) => v.replace(/[\s()-]/g, ''))
  .pipe(
    z
      .string()
      .regex(/^\+[1-9]\d{7,14}$/, 'Enter a phone number in international format, like +447700900123'),
  );

const email = z
  .string()
  .regex(ONE_LINE, 'Must be on one line, with no control characters')
  .trim()
  .max(254, 'Must be 254 characters or fewer')
  .pipe(z.email({ message: 'Enter an email address like name@example.org' }));

export const therapistSchema = z
  .object({ id: reference, name: oneLine(100), email })
  .strict();

export const clientSchema = z
  .object({
    ref: reference,
    firstName: oneLine(50),
    preferredContact: z.enum(CONTACT_METHODS, { message: 'Choose email, sms, phone or voicemail' }),
    email: email.optional(),
    phone: phone.optional(),
  })
  .strict();

export const rebookSchema = z.union([
  z.object({ slots: z.array(instant).min(1, 'Offer at least one slot').max(10, 'Offer 10 slots or fewer') }).strict(),
  z.object({ callbackBy: instant }).strict(),
]);

export const riskSchema = z
  .object({
    concern: z.boolean(),
    note: z.string().max(2000, 'Must be 2000 characters or fewer').regex(MULTI_LINE, 'Remove control characters').optional(),
  })
  .strict();

const sessionShape = z
  .object({
    id: reference,
    startsAt: instant,
    client: clientSchema,
    rebook: rebookSchema,
    risk: riskSchema.optional(),
  })
  .strict();

export type SessionInput = z.infer<typeof sessionShape>;

/**
 * The time the submission being validated is judged at. Zod has no per-parse context and parses
 * synchronously, so `submissionSchema(now).safeParse` sets this for exactly one parse: no other
 * parse can run in between. It spares rebuilding every schema below for each request.
 */
let parsingAt: number | undefined;

function now(): number {
  if (parsingAt === undefined) throw new Error('validate submissions through submissionSchema(now)');
  return parsingAt;
}

const session = sessionShape.superRefine((s, ctx) => {
  const start = Date.parse(s.startsAt);
  if (start <= now()) {
    ctx.addIssue({ code: 'custom', path: ['startsAt'], message: 'The session must be in the future' });
  }
  const c = s.client;
  if (c.preferredContact === 'email' && !c.email) {
    const message = 'Enter an email address: the client prefers email';
    ctx.addIssue({ code: 'custom', path: ['client', 'email'], message });
  }
  if (c.preferredContact !== 'email' && !c.phone) {
    const message = `Enter a phone number: the client prefers ${c.preferredContact}`;
    ctx.addIssue({ code: 'custom', path: ['client', 'phone'], message });
  }
  if ('slots' in s.rebook) {
    s.rebook.slots.forEach((slot, i) => {
      if (Date.parse(slot) <= start) {
        const message = 'A new slot must be after the cancelled session';
        ctx.addIssue({ code: 'custom', path: ['rebook', 'slots', i], message });
      }
    });
    if (new Set(s.rebook.slots.map((x) => Date.parse(x))).size !== s.rebook.slots.length) {
      ctx.addIssue({ code: 'custom', path: ['rebook', 'slots'], message: 'Each slot can be offered once' });
    }
  } else if (Date.parse(s.rebook.callbackBy) <= now()) {
    const message = 'The callback time must be in the future';
    ctx.addIssue({ code: 'custom', path: ['rebook', 'callbackBy'], message });
  }
});

const submission = z
  .object({
    therapist: therapistSchema,
    reason: z.enum(REASONS, { message: 'Choose illness, personal or other' }),
    expectedReturn: date.optional(),
    sessions: z.array(session).min(1, 'Add at least one session').max(50, 'Submit 50 sessions or fewer at once'),
  })
  .strict()
  .superRefine((sub, ctx) => {
    const ids = sub.sessions.map((s) => s.id);
    ids.forEach((id, i) => {
      const message = 'Each session can be cancelled once per submission';
      if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['sessions', i, 'id'], message });
    });
    if (sub.expectedReturn && Date.parse(`${sub.expectedReturn}T23:59:59Z`) < now()) {
      ctx.addIssue({ code: 'custom', path: ['expectedReturn'], message: 'The expected return must be today or later' });
    }
    // A therapist away until the expected return cannot see anyone before it.
    if (sub.expectedReturn && /^\d{4}-\d{2}-\d{2}$/.test(sub.expectedReturn)) {
      const back = returnsAt(sub.expectedReturn);
      sub.sessions.forEach((s, i) => {
        if (!('slots' in s.rebook)) return;
        s.rebook.slots.forEach((slot, j) => {
          // A time before the session itself has its own error already.
          if (Date.parse(slot) < back && Date.parse(slot) > Date.parse(s.startsAt)) {
            const message = 'A new time must be on or after the expected return';
            ctx.addIssue({ code: 'custom', path: ['sessions', i, 'rebook', 'slots', j], message });
          }
        });
      });
    }
  });

export type Submission = z.infer<typeof submission>;

/** Validates submissions as at `now`: sessions and callbacks must be after it. */
export function submissionSchema(at: Date): { safeParse(body: unknown): z.ZodSafeParseResult<Submission> } {
  return {
    safeParse(body) {
      parsingAt = at.getTime();
      try {
        return submission.safeParse(body);
      } finally {
        parsingAt = undefined;
      }
    },
  };
}

export interface FieldError {
  path: string;
  message: string;
}

/** Flattens zod issues into the API's `{ path, message }` error list. */
export function toFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.code === 'unrecognized_keys' ? `Unknown field: ${issue.keys.join(', ')}` : issue.message,
  }));
}

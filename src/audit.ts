/**
 * The audit stream of reads: who saw which case, when, how and what. It answers the question a
 * clinical lead or a data protection officer asks after a complaint: "who saw this client's
 * case?" (`npm run audit -- <caseId>`).
 *
 * It is a stream of its own, apart from the application log: its entries name cases and people
 * on purpose, are kept longer, and must not be sampled, levelled or redacted away. An entry is
 * written before the data is shown, synchronously: a read that cannot be recorded is refused
 * (the caller's error page), never shown unrecorded.
 *
 * Callers: the staff case page, the JSON API's case view, the codec endpoint (per case whose
 * payloads it decodes). Anything else that shows a client's details to someone calls `read`.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { z } from 'zod';
import { isCaseId } from './shared/ids';

/** How the case was reached. */
export const AUDIT_VIAS = ['page', 'api', 'codec'] as const;
export type AuditVia = (typeof AUDIT_VIAS)[number];

export interface AuditRead {
  /** A staff reference, an API token's name or a codec token's name. */
  who: string;
  /** The staff role, or `api-token` / `codec-token` for machines. */
  role: string;
  /** The case read; null when a codec decode named no case. */
  caseId: string | null;
  via: AuditVia;
  /** What was shown, in a few words ("case page", "2 decoded payloads"). */
  what: string;
}

export interface AuditEntry extends AuditRead {
  at: string;
}

/** Where entries go. `write` is synchronous and throws when the entry was not kept. */
export interface AuditSink {
  write(entry: AuditEntry): void;
}

export interface AuditLog {
  /** Records a read about to be shown; throws if it cannot be recorded. */
  read(read: AuditRead): void;
}

const entrySchema = z.object({
  at: z.iso.datetime(),
  who: z.string().min(1).max(100),
  role: z.string().min(1).max(40),
  caseId: z.string().refine(isCaseId).nullable(),
  via: z.enum(AUDIT_VIAS),
  what: z.string().max(200),
});

export function createAudit(sink: AuditSink, now: () => Date = () => new Date()): AuditLog {
  return {
    read(read) {
      // Parsed here too, so a caller's slip (a workflow id for a case id, an unknown via) fails loudly.
      sink.write(entrySchema.parse({ ...read, at: now().toISOString() }));
    },
  };
}

/** Records nothing: for tests and tools that show no case to anyone. */
export const noAudit: AuditLog = { read: () => undefined };

/**
 * One JSON line per read, appended to `file` (AUDIT_LOG_FILE), readable by its owner only.
 * Written by hand rather than through the logger: each line must be on disk before the read is
 * shown, where a logger buffers, levels and (rightly, for the app log) drops these very fields.
 */
export function fileAuditSink(file: string): AuditSink {
  let ready = false;
  return {
    write(entry) {
      if (!ready) {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        ready = true;
      }
      fs.appendFileSync(file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    },
  };
}

/**
 * The entries of `file`, oldest first, for one case if asked. A missing file has none; a line
 * that is not an entry (cut short by a crash) is skipped and counted.
 */
export async function readAudit(
  file: string,
  filter: { caseId?: string } = {},
): Promise<AuditEntry[] & { skipped?: number }> {
  const out: AuditEntry[] & { skipped?: number } = [];
  if (!fs.existsSync(file)) return out;
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let skipped = 0;
  for await (const line of lines) {
    if (!line.trim()) continue;
    let parsed: ReturnType<typeof entrySchema.safeParse>;
    try {
      parsed = entrySchema.safeParse(JSON.parse(line));
    } catch {
      skipped++;
      continue;
    }
    if (!parsed.success) {
      skipped++;
      continue;
    }
    if (filter.caseId === undefined || parsed.data.caseId === filter.caseId) out.push(parsed.data);
  }
  if (skipped > 0) out.skipped = skipped;
  return out;
}

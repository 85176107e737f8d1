/**
 * `npm run who-saw -- <caseId>`: who saw this client's case, from the audit stream of reads
 * (AUDIT_LOG_FILE; src/audit.ts). One line per read: when (UK time), who, their role, how (case
 * page, API, codec) and what. With several web instances, each writes its own stream: run this
 * where each one is, or point AUDIT_LOG_FILE at a merged copy.
 */
import { readAudit, type AuditEntry } from '../audit';
import { loadConfigOrExit } from '../config';
import { isCaseId } from '../shared/ids';
import { formatUk } from '../shared/time';

const VIA_LABELS: Record<AuditEntry['via'], string> = {
  page: 'case page',
  api: 'JSON API',
  codec: 'codec (Web UI or CLI)',
};

export function formatReads(caseId: string, entries: AuditEntry[], skipped = 0): string {
  const lines = [
    entries.length === 0
      ? `Who saw case ${caseId}: no reads recorded`
      : `Who saw case ${caseId}: ${entries.length} read${entries.length === 1 ? '' : 's'}`,
  ];
  for (const e of entries)
    lines.push(
      `  ${formatUk(e.at)}  ${e.who.padEnd(16)} ${e.role.padEnd(16)} ${VIA_LABELS[e.via].padEnd(22)} ${e.what}`,
    );
  if (skipped > 0) lines.push(`  (${skipped} unreadable line${skipped === 1 ? '' : 's'} in the stream skipped)`);
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  const caseId = process.argv[2] ?? '';
  if (!isCaseId(caseId)) {
    process.stderr.write(
      'Usage: npm run who-saw -- <caseId> (a case id looks like c0123456789abcdefghij, as in the case page address)\n',
    );
    return 64;
  }
  const config = loadConfigOrExit();
  const entries = await readAudit(config.audit.file, { caseId });
  process.stdout.write(formatReads(caseId, entries, entries.skipped));
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`who-saw failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}

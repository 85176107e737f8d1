/**
 * The reason a bounce gives, cut down to what may travel into a case: the enhanced status code
 * (RFC 3463) and a few plain words of the diagnostic. Remote servers quote the recipient freely
 * ("<sam.jones@example.org>: User unknown", "mailbox 'samjones' is full"), and a case's timeline
 * is read by many people, so anything that could be an address, a name or an identifier goes:
 * bracketed and quoted text, tokens with an @, a digit or an inner dot (addresses, hosts, IPs,
 * queue ids), links, and every word of the recipient's own address.
 */

/** RFC 3463's subjects (the middle digit), for a report that carries a code but no words. */
const SUBJECTS: Record<string, string> = {
  '0': 'undefined problem',
  '1': 'address problem',
  '2': 'mailbox problem',
  '3': 'mail system problem',
  '4': 'network or routing problem',
  '5': 'delivery protocol problem',
  '6': 'message content problem',
  '7': 'security or policy problem',
};

/** The commonest details, where the words say more than the subject. */
const DETAILS: Record<string, string> = {
  '1.1': 'mailbox does not exist',
  '1.2': 'domain does not exist',
  '2.1': 'mailbox disabled',
  '2.2': 'mailbox full',
  '4.7': 'delivery time expired',
  '7.1': 'refused by policy',
};

const ENHANCED = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;
const MAX_WORDS = 80;

/** The first enhanced status code in the text (e.g. 5.1.1), if any. */
export function statusCodeIn(text: string | undefined): string | undefined {
  const m = text ? ENHANCED.exec(text) : null;
  return m ? `${m[1]}.${Number(m[2])}.${Number(m[3])}` : undefined;
}

/** Plain words for a status code: "mailbox does not exist", or its subject. */
export function describeStatus(code: string): string {
  const [, subject = '0', detail = '0'] = code.split('.');
  return DETAILS[`${subject}.${detail}`] ?? SUBJECTS[subject] ?? 'undefined problem';
}

/** The words of an address long enough to identify someone (sam.jones@mail.example.org: sam, jones, mail, example). */
function addressWords(addresses: readonly string[]): Set<string> {
  const words = new Set<string>();
  for (const address of addresses) {
    for (const word of address.toLowerCase().split(/[^a-z0-9]+/)) if (word.length >= 2) words.add(word);
  }
  return words;
}

/** A diagnostic's words with anything personal or identifying removed, at most MAX_WORDS characters. */
export function sanitiseDiagnostic(text: string | undefined, addresses: readonly string[] = []): string {
  if (!text) return '';
  const own = addressWords(addresses);
  const kept = text
    // "smtp; 550 ..." : the diagnostic type says nothing to a person.
    .replace(/^\s*[A-Za-z][A-Za-z0-9-]*\s*;/, ' ')
    // An apostrophe inside a word (recipient's) is not a quote.
    .replace(/<[^>]*>|\[[^\]]*\]|\([^)]*\)|"[^"]*"|(?<![A-Za-z])'[^'\n]*'(?![A-Za-z])|`[^`]*`/g, ' ')
    .split(/\s+/)
    .filter((token) => !/[@\d]|\w\.\w|:\/\//.test(token))
    .map((token) => token.replace(/[^A-Za-z.,:;'/-]/g, ''))
    .filter((token) => /[A-Za-z]/.test(token) && !own.has(token.toLowerCase().replace(/[^a-z]/g, '')))
    .join(' ')
    .replace(/\s*([,:;])(\s*[,:;])+/g, '$1')
    .replace(/^[\s.,:;'/-]+|[\s,:;'/-]+$/g, '');
  if (kept.length <= MAX_WORDS) return kept;
  const cut = kept.slice(0, MAX_WORDS + 1);
  return cut.slice(0, Math.max(cut.lastIndexOf(' '), 1)).replace(/[\s,:;'/-]+$/, '');
}

/**
 * The reason that reaches the workflow: "5.1.1 Recipient address rejected: User unknown", or the
 * code's plain words when the diagnostic says nothing safe, or the action alone.
 */
export function deliveryReason(parts: {
  status?: string;
  diagnostic?: string;
  addresses?: readonly string[];
  fallback: string;
}): string {
  const given = statusCodeIn(parts.status);
  const replied = statusCodeIn(parts.diagnostic);
  // Exim reports a generic 5.0.0 and leaves the server's own, more telling code in the diagnostic.
  const code = given?.endsWith('.0.0') && replied?.[0] === given[0] ? replied : (given ?? replied);
  const words = sanitiseDiagnostic(parts.diagnostic, parts.addresses);
  if (code) return `${code} ${words || describeStatus(code)}`;
  return words || parts.fallback;
}

/**
 * Turns EmailContent into the subject, the plain-text part and the HTML part, with the two
 * nunjucks layouts in ./templates. Client messages get the crisis signposting here, so no
 * client message can be written without it.
 */
import path from 'node:path';
import nunjucks from 'nunjucks';
import type { EmailContent, RenderedEmail } from './content';
import { CRISIS_HEADING, CRISIS_LINES } from '../wording/crisis';
import { oneLine } from './format';

const TEMPLATE_DIR = path.join(__dirname, 'templates');

export type EmailRenderer = (content: EmailContent) => RenderedEmail;

export function createEmailRenderer(templateDir: string = TEMPLATE_DIR): EmailRenderer {
  const options = { throwOnUndefined: true, trimBlocks: true, lstripBlocks: true };
  const html = new nunjucks.Environment(new nunjucks.FileSystemLoader(templateDir), { ...options, autoescape: true });
  const text = new nunjucks.Environment(new nunjucks.FileSystemLoader(templateDir), { ...options, autoescape: false });
  // Read and compiled here, once per worker, so no message (least of all the first) waits for it.
  const htmlTemplate = html.getTemplate('email.html.njk', true);
  const textTemplate = text.getTemplate('email.txt.njk', true);

  return (content) => {
    // A subject is a header: whatever happens upstream, it stays on one line.
    const subject = oneLine(content.subject, 150);
    const context = {
      subject,
      blocks: content.blocks,
      footer: content.footer,
      crisis: content.audience === 'client' ? { heading: CRISIS_HEADING, lines: CRISIS_LINES } : null,
    };
    return {
      subject,
      text: tidyText(textTemplate.render(context)),
      html: `${htmlTemplate.render(context).replace(/\n{2,}/g, '\n').trim()}\n`,
    };
  };
}

function tidyText(raw: string): string {
  return `${raw
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

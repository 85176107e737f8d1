/**
 * The Nunjucks environment of the web app: our templates first, then NHS.UK frontend's macros
 * (imported as "nhsuk/components/..."). Autoescaping is on, so every value is escaped unless a
 * template says otherwise.
 */
import path from 'node:path';
import nunjucks from 'nunjucks';
import type { Config } from '../config';
import { CRISIS_HEADING, CRISIS_LINES } from '../wording/crisis';
import { formatUk, formatUkDate } from '../shared/time';
import { TEAM_LABELS } from './security/auth';
import { dateParts } from './case-actions';
import { isoToUkLocal } from './uk-time';

/** dist/ of the nhsuk-frontend package: templates under nhsuk/, compiled CSS and JS beside them. */
export const NHSUK_DIST = path.join(path.dirname(require.resolve('nhsuk-frontend/package.json')), 'dist');

export const VIEWS_DIR = path.join(__dirname, 'views');

export function createViews(config: Config): nunjucks.Environment {
  const loader = new nunjucks.FileSystemLoader([VIEWS_DIR, NHSUK_DIST], { noCache: config.env === 'development' });
  const env = new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: false, trimBlocks: true, lstripBlocks: true });
  env.addGlobal('serviceName', config.serviceName);
  env.addGlobal('supportPhone', config.teams.supportPhone);
  env.addGlobal('appointmentsPhone', config.appointmentsPhone);
  env.addGlobal('teamLabels', TEAM_LABELS);
  env.addGlobal('crisis', { heading: CRISIS_HEADING, lines: CRISIS_LINES });
  /** `errorMessage` for an NHS.UK macro: the field's error, or nothing. */
  env.addGlobal('errorFor', (errors: Record<string, string> | undefined, field: string) => {
    const message = errors?.[field];
    return message ? { text: message } : undefined;
  });
  /** A date field's boxes from an action form's posted values (src/web/case-actions.ts). */
  env.addGlobal('dateParts', dateParts);
  env.addFilter('ukTime', (iso: string | undefined) => (iso ? formatUk(iso) : ''));
  env.addFilter('ukDate', (date: string | undefined) => (date ? formatUkDate(date) : ''));
  env.addFilter('localDateTime', (iso: string | undefined) => (iso ? (isoToUkLocal(iso)?.dateTime ?? '') : ''));
  return env;
}

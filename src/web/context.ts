/** What every route module of the web app shares: its dependencies, the views and a clock. */
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type nunjucks from 'nunjucks';
import type { CaseService } from '../cases';
import type { Config } from '../config';
import type { LinkSealer } from '../links';
import type { Mailbox } from './mailbox';

export interface AppDeps {
  config: Config;
  cases: Pick<CaseService, 'submit' | 'view' | 'handle'>;
  links: LinkSealer;
  /** The development mailbox pages exist only when this is given. */
  mailbox?: Mailbox;
  /** For tests; defaults to the system clock. */
  now?: () => Date;
}

export interface WebContext {
  deps: AppDeps;
  now(): Date;
  render(res: Response, status: number, template: string, data?: Record<string, unknown>): void;
  /** A fresh id for a rendered action form, so a double click makes one Workflow Update. */
  newUpdateId(): string;
}

export function createContext(deps: AppDeps, views: nunjucks.Environment): WebContext {
  return {
    deps,
    now: deps.now ?? (() => new Date()),
    render(res, status, template, data = {}) {
      const html = views.render(template, data);
      res.status(status).type('html').send(html);
    },
    newUpdateId: () => randomUUID(),
  };
}

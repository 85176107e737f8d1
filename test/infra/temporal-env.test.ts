/**
 * Proves provisioning works end to end: each kind of environment starts from the provisioned
 * binaries, carries the project's search attributes, and tears down.
 */
import path from 'node:path';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { CaseStage, SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { ensureSearchAttributes, SearchAttributeConflictError } from '../../src/temporal/setup-search-attributes';
import { createDevServerEnv, createTimeSkippingEnv } from '../helpers/temporal';
import type { sleepThenAnswer } from './fixtures/workflows';

const names = SEARCH_ATTRIBUTES.map((k) => k.name).sort();
const DAY = 24 * 3600_000;

let workflowBundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'fixtures', 'workflows.ts'), logger: quietLogger });
});

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

describe('time-skipping environment', () => {
  it('when created, then it skips time and registering the search attributes again is a no-op', async () => {
    const env = await createTimeSkippingEnv();
    try {
      expect(env.supportsTimeSkipping).toBe(true);
      const before = await env.currentTimeMs();
      await env.sleep('3 days');
      expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(3 * 24 * 3600_000);
      const again = await ensureSearchAttributes(env.connection, 'default');
      expect(again.added).toEqual([]);
      expect([...again.alreadyPresent].sort()).toEqual(names);
    } finally {
      await env.teardown();
    }
  });

  it('when a workflow sleeps for two days, then its result arrives in moments of real time', async () => {
    const env = await createTimeSkippingEnv();
    try {
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'infra-sleep', workflowBundle });
      const started = Date.now();
      const answer = await worker.runUntil(
        env.client.workflow.execute<typeof sleepThenAnswer>('sleepThenAnswer', { taskQueue: 'infra-sleep', workflowId: 'infra-sleep-1', args: [2 * DAY] }),
      );
      expect(answer).toBe('woke');
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await env.teardown();
    }
  });
});

describe('dev server environment', () => {
  it('when created, then its namespace lists the search attributes with their types', async () => {
    const env = await createDevServerEnv();
    try {
      const res = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(res.customAttributes ?? {}).sort()).toEqual(expect.arrayContaining(names));
      const again = await ensureSearchAttributes(env.connection, 'default');
      expect(again.added).toEqual([]);
    } finally {
      await env.teardown();
    }
  });

  it('when a workflow starts with a search attribute, then a visibility query finds it', async () => {
    const env = await createDevServerEnv();
    try {
      await env.client.workflow.start<typeof sleepThenAnswer>('sleepThenAnswer', {
        taskQueue: 'infra-visibility',
        workflowId: 'infra-visibility-1',
        args: [DAY],
        typedSearchAttributes: [{ key: CaseStage, value: 'contacting' }],
      });
      // Visibility is eventually consistent: poll briefly.
      let count = 0;
      for (let i = 0; i < 50 && count === 0; i++) {
        count = (await env.client.workflow.count('CaseStage = "contacting"')).count;
        if (count === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(count).toBe(1);
    } finally {
      await env.teardown();
    }
  });

  it('when an attribute exists with another type, then ensureSearchAttributes names the clash', async () => {
    const env = await createDevServerEnv();
    try {
      const clash = defineSearchAttributeKey(SEARCH_ATTRIBUTES[0].name, SearchAttributeType.INT);
      await expect(ensureSearchAttributes(env.connection, 'default', [clash])).rejects.toThrow(SearchAttributeConflictError);
      await expect(ensureSearchAttributes(env.connection, 'default', [clash])).rejects.toThrow(/CaseStage is registered as KEYWORD/);
    } finally {
      await env.teardown();
    }
  });
});

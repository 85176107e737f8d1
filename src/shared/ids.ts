/** Workflow-id helpers: ids are server-generated and never carry personal data. */
export const CASE_WORKFLOW_PREFIX = 'cancellation-';

const CASE_ID = /^c[0-9a-z]{20}$/;

export function isCaseId(value: string): boolean {
  return CASE_ID.test(value);
}

export function caseWorkflowId(caseId: string): string {
  return `${CASE_WORKFLOW_PREFIX}${caseId}`;
}

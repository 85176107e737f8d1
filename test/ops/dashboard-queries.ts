/** Reads the Grafana dashboard's PromQL, and names the metrics a query uses (for the dashboard tests). */
import fs from 'node:fs';

export interface PanelQuery {
  panel: string;
  expr: string;
}

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

export function dashboardQueries(file: string): PanelQuery[] {
  const dashboard = JSON.parse(fs.readFileSync(file, 'utf8')) as { panels: Panel[] };
  const out: PanelQuery[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ panel: p.title ?? '?', expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  return out;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

/**
 * The metric names in a PromQL expression: identifiers that are not functions or aggregations
 * (followed by a parenthesis), keywords, label names (in braces or in by/without/on lists),
 * strings, windows or Grafana variables.
 */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\$\w+/g, '');
  const names: string[] = [];
  for (const m of bare.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()/g)) {
    if (!KEYWORDS.has(m[1]!)) names.push(m[1]!);
  }
  return names;
}

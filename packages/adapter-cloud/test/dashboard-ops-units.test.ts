// The DOM-free parts of the operator screens, in Node: the Prometheus text parser the Metrics tab
// reads /metrics with (a malformed line is a SyntaxError naming it), the integration snippet's
// quoting of hostile database and table names and its strict typecheck against the packages'
// declarations, and the token command's shell quoting.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { integrationSnippet, tokenCommand } from '../dashboard/src/integration-snippet.js';
import { byLabel, parsePrometheusText, sumOf } from '../dashboard/src/prometheus-text.js';
import { scrubSecrets } from '../src/server/observability/logger.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

beforeAll(async () => {
  await mkdir(join(ROOT, 'test-artifacts'), { recursive: true });
});

describe('parsePrometheusText', () => {
  const text = [
    '# HELP offsync_refusals_total Refusals by kind.',
    '# TYPE offsync_refusals_total counter',
    'offsync_refusals_total{database="app",kind="row"} 3',
    'offsync_refusals_total{database="app",kind="unauthorized"} 1',
    'offsync_refusals_total{database="other",kind="row"} 7',
    'offsync_merge_duration_seconds_bucket{le="+Inf",database="app"} 4',
    'offsync_label_escapes{text="a\\"b\\\\c\\nd"} 1 1700000000000',
    'offsync_connections 2',
    '',
  ].join('\n');

  it('reads names, labels (with escapes) and values, skipping comments', () => {
    const samples = parsePrometheusText(text);
    expect(samples).toHaveLength(6);
    expect(samples[5]).toEqual({ name: 'offsync_connections', labels: {}, value: 2 });
    expect(samples[4]!.labels.text).toBe('a"b\\c\nd');
    expect(sumOf(samples, 'offsync_refusals_total', { database: 'app' })).toBe(4);
    expect(sumOf(samples, 'offsync_merge_duration_seconds_bucket', { le: '+Inf' })).toBe(4);
    expect(byLabel(samples, 'offsync_refusals_total', 'kind', { database: 'app' })).toEqual([
      ['row', 3],
      ['unauthorized', 1],
    ]);
  });

  it('refuses a line that is not the text format with a SyntaxError naming the line', () => {
    for (const bad of ['<html>', 'metric{label=unquoted} 1', 'metric{a="1"'])
      expect(() => parsePrometheusText(`ok 1\n${bad}`)).toThrow(/metrics line 2/);
  });
});

describe('the integration snippet', () => {
  it('quotes names as JavaScript literals, so a hostile name cannot become code', () => {
    const snippet = integrationSnippet({
      url: 'http://127.0.0.1:8787',
      database: "x'); process.exit(1); ('",
      tables: ["t'\\\n"],
    });
    expect(snippet).toContain("database: 'x\\'); process.exit(1); (\\'',");
    expect(snippet).toContain("replica.enableSync('t\\'\\\\\\n');");
    expect(snippet).toContain("token: process.env.OFFSYNC_TOKEN ?? '',");
  });

  it("typechecks, strict, against the published client API (the packages' .d.ts)", async () => {
    // Inside the repository, so the workspace packages resolve as an app's node_modules would.
    const dir = await mkdtemp(join(ROOT, 'test-artifacts', 'snippet-'));
    try {
      const file = join(dir, 'app.ts');
      await writeFile(
        file,
        integrationSnippet({ url: 'http://127.0.0.1:8787', database: 'app', tables: ['todos'] }),
      );
      const program = ts.createProgram([file], {
        strict: true,
        exactOptionalPropertyTypes: true,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((each) => ts.flattenDiagnosticMessageText(each.messageText, '\n'));
      expect(problems).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says how to switch a table on when none is synced yet', () => {
    expect(integrationSnippet({ url: 'u', database: 'd', tables: [] })).toContain(
      "// replica.enableSync('todos');",
    );
  });

  it('quotes the token command for the shell when a name needs it', () => {
    expect(tokenCommand('app', 'alice@example.com')).toBe(
      'offsync token issue --sub alice@example.com --db app',
    );
    expect(tokenCommand('my app', "o'brien; rm -rf /")).toBe(
      "offsync token issue --sub 'o'\\''brien; rm -rf /' --db 'my app'",
    );
  });
});

describe('scrubSecrets', () => {
  it('redacts JWTs, bearer credentials and API keys inside free text', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';
    expect(scrubSecrets(`bad token ${jwt} here`)).toBe('bad token [redacted] here');
    expect(scrubSecrets('Authorization: Bearer abc.def')).toBe('Authorization: [redacted]');
    expect(scrubSecrets('key osk_admin_AbC-123_x refused')).toBe('key [redacted] refused');
    expect(scrubSecrets('nothing secret')).toBe('nothing secret');
  });
});

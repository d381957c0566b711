import { describe, expect, it } from 'vitest';
import { fencedBlocks } from './fenced-blocks.js';

describe('fencedBlocks', () => {
  it('reads each block with its marker, language, line and exact text', () => {
    const markdown = [
      'Intro',
      '<!-- example: examples/app.mjs -->',
      '```js',
      'const a = 1;',
      '',
      '```',
      '<!-- output: node examples/app.mjs -->',
      '```text',
      'ok',
      '```',
      '',
    ].join('\n');
    expect(fencedBlocks(markdown)).toEqual([
      {
        line: 3,
        lang: 'js',
        content: 'const a = 1;\n\n',
        marker: { kind: 'example', target: 'examples/app.mjs' },
      },
      {
        line: 8,
        lang: 'text',
        content: 'ok\n',
        marker: { kind: 'output', target: 'node examples/app.mjs' },
      },
    ]);
  });

  it('leaves a block unmarked when the line before is not a marker, or is a misspelt one', () => {
    const markdown = 'text\n```sh\nnpm test\n```\n<!-- exmaple: x -->\n```sh\nls\n```\n';
    expect(fencedBlocks(markdown).map((block) => block.marker)).toEqual([undefined, undefined]);
  });

  it('closes a fence only with the same character, at least as long, and nothing after it', () => {
    const markdown = [
      '<!-- command -->',
      '````md',
      '```sh',
      '~~~',
      '```` not a close',
      '````',
      '<!-- command -->',
      '~~~',
      'inside',
    ].join('\n');
    const blocks = fencedBlocks(markdown);
    expect(blocks.map((block) => [block.lang, block.content])).toEqual([
      ['md', '```sh\n~~~\n```` not a close\n'],
      ['', 'inside\n'],
    ]);
    expect(blocks.map((block) => block.marker)).toEqual([
      { kind: 'command', target: '' },
      { kind: 'command', target: '' },
    ]);
  });

  it('finds fences indented in a list item, and strips their indent', () => {
    const blocks = fencedBlocks('1. Run:\n\n   ```sh\n   npm test\n   ```\n');
    expect(blocks.map((block) => [block.line, block.content, block.marker])).toEqual([
      [3, 'npm test\n', undefined],
    ]);
  });
});

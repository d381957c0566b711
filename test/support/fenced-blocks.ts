/**
 * What a fenced block in a Markdown guide is, told by the HTML comment on the line just before
 * it (invisible once rendered):
 *
 * - `<!-- example: examples/app.mjs -->`: the block is that file, byte for byte.
 * - `<!-- output: node examples/x.mjs -->`: the block is what that command prints, all of it.
 * - `<!-- output-end: sh examples/x.sh -->`: the block is how that command's output ends.
 * - `<!-- command -->`: commands a reader types.
 *
 * @example
 * ```ts
 * const [block] = fencedBlocks('<!-- command -->\n```sh\nnpm test\n```\n');
 * block?.marker; // { kind: 'command', target: '' }
 * ```
 */
export interface FencedBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's info string (`js`, `sh`, ...). */
  readonly lang: string;
  /** The block's text, each line ending in a newline. */
  readonly content: string;
  /** The marker before the block; undefined when there is none (a guide mistake). */
  readonly marker: BlockMarker | undefined;
}

/**
 * The kind of a marked block and what it names (a file, a command; empty for `command`).
 *
 * @example
 * ```ts
 * const marker: BlockMarker = { kind: 'example', target: 'examples/schema.sql' };
 * ```
 */
export interface BlockMarker {
  readonly kind: 'example' | 'output' | 'output-end' | 'command';
  readonly target: string;
}

const MARKER = /^<!-- (example|output|output-end|command)(?:: (.+?))? -->$/;
// Indented fences too (a block inside a list item): none may slip past the marker check.
const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;

/**
 * The fenced blocks of a Markdown text, each with the marker on the line before it. A fence
 * left open runs to the end of the text, as CommonMark reads it.
 *
 * @example
 * ```ts
 * for (const block of fencedBlocks(readFileSync('README.md', 'utf8'))) console.log(block.line);
 * ```
 */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const fence = open[2]!;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !isClosing(lines[i]!, fence); i++)
      body.push(`${lines[i]!.slice(Math.min(indent, leading(lines[i]!)))}\n`);
    const found = MARKER.exec(start > 0 ? lines[start - 1]!.trim() : '');
    blocks.push({
      line: start + 1,
      lang: open[3]!.trim(),
      content: body.join(''),
      marker: found ? { kind: found[1] as BlockMarker['kind'], target: found[2] ?? '' } : undefined,
    });
  }
  return blocks;
}

function leading(line: string): number {
  return line.length - line.trimStart().length;
}

function isClosing(line: string, fence: string): boolean {
  const trimmed = line.trim();
  return trimmed.startsWith(fence) && /^(`+|~+)$/.test(trimmed) && trimmed[0] === fence[0];
}

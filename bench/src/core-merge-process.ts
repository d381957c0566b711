// One `core.merge` measurement in a fresh process (the core suite starts several and keeps the
// median): `node --expose-gc core-merge-process.js <rounds>` prints a CoreMergeTiming as JSON.
import { measureCoreMerge } from './suites/core-merge.js';

const rounds = Number(process.argv[2]);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('usage: core-merge-process.js <rounds>\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await measureCoreMerge(rounds))}\n`);

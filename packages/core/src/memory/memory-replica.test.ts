import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Change } from '../changes/change.js';
import { packPrimaryKey } from '../changes/primary-key.js';
import { DriftError } from '../hlc/hlc.js';
import { fakeEnv } from '../test-support/fake-env.js';
import { historySteps, prng, type Step, scramble } from '../test-support/history.js';
import { runs } from '../test-support/runs.js';
import { MemoryConstraintError, MemoryReplica } from './memory-replica.js';

const TODOS = { name: 'todos', columns: ['id', 'title', 'done'], primaryKey: ['id'] };
const START = 1_700_000_000_000;

function replicaAt(
  offsetMs = 0,
  seed = 1,
): { replica: MemoryReplica; env: ReturnType<typeof fakeEnv> } {
  const env = fakeEnv(START + offsetMs, seed);
  const replica = new MemoryReplica({ env });
  replica.createTable(TODOS);
  return { replica, env };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

describe('MemoryReplica', () => {
  it('syncs inserts, updates and deletes between two replicas', () => {
    const { replica: a } = replicaAt(0, 1);
    const { replica: b } = replicaAt(0, 2);
    a.insert('todos', { id: 't1', title: 'milk', done: 0n });
    b.apply(a.changesSince(0));
    expect(b.rows('todos')).toEqual([{ id: 't1', title: 'milk', done: 0n }]);
    const cursor = a.version;
    a.update('todos', ['t1'], { done: 1n });
    const delta = a.changesSince(cursor);
    expect(delta.map((change) => change.column)).toEqual(['done']);
    b.apply(delta);
    expect(b.rows('todos')).toEqual([{ id: 't1', title: 'milk', done: 1n }]);
    a.delete('todos', ['t1']);
    b.apply(a.changesSince(a.version - 1));
    expect(b.rows('todos')).toEqual([]);
    expect(bytesEqual(a.dump(), b.dump())).toBe(true);
  });

  it('a delete wins over a concurrent update of the same life', () => {
    const { replica: a, env: envA } = replicaAt(0, 1);
    const { replica: b } = replicaAt(0, 2);
    a.insert('todos', { id: 't1', title: 'milk', done: 0n });
    b.apply(a.changesSince(0));
    envA.advance(1000); // the update is later in wall time, and still loses
    b.delete('todos', ['t1']);
    a.update('todos', ['t1'], { title: 'oat milk' });
    const fromA = a.changesSince(0);
    const fromB = b.changesSince(0);
    a.apply(fromB);
    b.apply(fromA);
    expect(a.rows('todos')).toEqual([]);
    expect(b.rows('todos')).toEqual([]);
    expect(bytesEqual(a.dump(), b.dump())).toBe(true);
  });

  it('a re-insert after a delete is never lost, and resets the row', () => {
    const { replica: a } = replicaAt(0, 1);
    const { replica: b } = replicaAt(0, 2);
    a.insert('todos', { id: 't1', title: 'milk', done: 1n });
    b.apply(a.changesSince(0));
    a.delete('todos', ['t1']);
    a.insert('todos', { id: 't1', title: 'bread' });
    b.update('todos', ['t1'], { done: 0n }); // concurrent, in the old life
    b.apply(a.changesSince(0));
    a.apply(b.changesSince(0));
    expect(a.rows('todos')).toEqual([{ id: 't1', title: 'bread', done: null }]);
    expect(b.rows('todos')).toEqual([{ id: 't1', title: 'bread', done: null }]);
  });

  it('refuses a batch with a stamp beyond the drift bound and changes nothing', () => {
    const { replica: a } = replicaAt(10 * 60_000, 1);
    const { replica: b } = replicaAt(0, 2);
    b.insert('todos', { id: 'keep', title: 'x' });
    a.insert('todos', { id: 't1', title: 'from the future' });
    const before = b.dump();
    const versionBefore = b.version;
    expect(() => b.apply(a.changesSince(0))).toThrow(DriftError);
    expect(bytesEqual(b.dump(), before)).toBe(true);
    expect(b.version).toBe(versionBefore);
  });

  it('refuses a batch touching an unknown table or column, whole', () => {
    const { replica: a } = replicaAt();
    const good: Change = {
      table: 'todos',
      pk: packPrimaryKey(['t1']),
      column: 'title',
      value: 'x',
      stamp: { wall: START, counter: 0, site: '01'.repeat(16) },
      cl: 1,
    };
    expect(() => a.apply([good, { ...good, table: 'nope' }])).toThrow(MemoryConstraintError);
    expect(() => a.apply([good, { ...good, column: 'nope' }])).toThrow(MemoryConstraintError);
    expect(a.rows('todos')).toEqual([]);
  });

  it('refuses duplicate keys and unknown columns on local writes', () => {
    const { replica: a } = replicaAt();
    a.insert('todos', { id: 't1' });
    expect(() => a.insert('todos', { id: 't1' })).toThrow(MemoryConstraintError);
    expect(() => a.insert('todos', { id: 't2', nope: 1n })).toThrow(MemoryConstraintError);
    expect(a.update('todos', ['missing'], { title: 'x' })).toBe(false);
    expect(a.delete('todos', ['missing'])).toBe(false);
  });

  it('survives a restart from its snapshot', () => {
    const { replica: a } = replicaAt();
    a.insert('todos', { id: 't1', title: 'milk', done: 2.0 });
    a.delete('todos', ['t1']);
    a.insert('todos', { id: 't2', title: new Uint8Array([1, 2]), done: 2n ** 63n - 1n });
    const restored = MemoryReplica.restore(a.snapshot(), { env: fakeEnv(START) });
    expect(restored.site).toBe(a.site);
    expect(restored.version).toBe(a.version);
    expect(bytesEqual(restored.dump(), a.dump())).toBe(true);
    expect(restored.changesSince(0)).toEqual(a.changesSince(0));
    restored.insert('todos', { id: 't3' });
    expect(restored.version).toBe(a.version + 1);
  });
});

interface World {
  replicas: MemoryReplica[];
  envs: ReturnType<typeof fakeEnv>[];
  cursors: number[];
  messages: Change[][];
}

function runHistory(steps: readonly Step[], replicaCount: number): World {
  const envs = Array.from({ length: replicaCount }, (_, i) => fakeEnv(START + i * 7, i + 1));
  const world: World = {
    envs,
    replicas: envs.map((env) => {
      const replica = new MemoryReplica({ env });
      replica.createTable(TODOS);
      return replica;
    }),
    cursors: envs.map(() => 0),
    messages: [],
  };
  for (const step of steps) {
    switch (step.kind) {
      case 'insert': {
        const replica = world.replicas[step.replica]!;
        const present = replica.rows('todos').some((row) => row.id === BigInt(step.key));
        if (!present)
          replica.insert('todos', { id: BigInt(step.key), title: step.title, done: step.done });
        break;
      }
      case 'update':
        world.replicas[step.replica]!.update('todos', [BigInt(step.key)], {
          [step.column]: step.value,
        });
        break;
      case 'delete':
        world.replicas[step.replica]!.delete('todos', [BigInt(step.key)]);
        break;
      case 'publish': {
        const replica = world.replicas[step.replica]!;
        const changes = replica.changesSince(world.cursors[step.replica]!);
        world.cursors[step.replica] = replica.version;
        if (changes.length > 0) world.messages.push(changes);
        break;
      }
      case 'deliver': {
        if (world.messages.length === 0) break;
        const message = world.messages[step.message % world.messages.length]!;
        const from = step.from % message.length;
        const to = from + 1 + (step.to % (message.length - from));
        world.replicas[step.replica]!.apply(message.slice(from, to));
        break;
      }
      case 'restart': {
        const replica = world.replicas[step.replica]!;
        world.replicas[step.replica] = MemoryReplica.restore(replica.snapshot(), {
          env: world.envs[step.replica]!,
        });
        break;
      }
      case 'tick':
        for (const env of world.envs) env.advance(step.ms);
        break;
    }
  }
  // Everything every replica ever wrote becomes a message, so the final delivery is complete.
  world.replicas.forEach((replica, i) => {
    const rest = replica.changesSince(world.cursors[i]!);
    if (rest.length > 0) world.messages.push(rest);
  });
  return world;
}

describe('CRDT laws on memory replicas', () => {
  test.prop(
    [
      fc.integer({ min: 3, max: 4 }).chain((n) => fc.tuple(fc.constant(n), historySteps(n))),
      fc.integer(),
    ],
    {
      numRuns: runs(),
    },
  )(
    'all replicas that received the same changes are byte-equal (any order, duplicates, split batches, restarts)',
    ([replicaCount, steps], seed) => {
      const world = runHistory(steps, replicaCount);
      const random = prng(seed);
      const all = world.messages.flat();
      for (const replica of world.replicas)
        for (const batch of scramble(all, random)) replica.apply(batch);
      const dumps = world.replicas.map((replica) => replica.dump());
      for (const dump of dumps) expect(bytesEqual(dump, dumps[0]!)).toBe(true);
      const rows = world.replicas.map((replica) => replica.rows('todos'));
      for (const table of rows) expect(table).toEqual(rows[0]);
    },
  );

  function fresh(): MemoryReplica {
    const replica = new MemoryReplica({ env: fakeEnv(START + 60_000, 99) });
    replica.createTable(TODOS);
    return replica;
  }

  function changeSets(): fc.Arbitrary<[Change[], Change[], Change[]]> {
    return fc.tuple(historySteps(3), fc.integer()).map(([steps, seed]) => {
      const all = runHistory(steps, 3).messages.flat();
      const random = prng(seed);
      const parts: [Change[], Change[], Change[]] = [[], [], []];
      for (const change of all) parts[Math.floor(random() * 3)]!.push(change);
      return parts;
    });
  }

  test.prop([changeSets()], { numRuns: runs() })('merge is commutative', ([a, b]) => {
    const ab = fresh();
    ab.apply(a);
    ab.apply(b);
    const ba = fresh();
    ba.apply(b);
    ba.apply(a);
    expect(bytesEqual(ab.dump(), ba.dump())).toBe(true);
  });

  test.prop([changeSets()], { numRuns: runs() })('merge is associative', ([a, b, c]) => {
    const left = fresh();
    left.apply([...a, ...b]);
    left.apply(c);
    const right = fresh();
    right.apply(a);
    right.apply([...b, ...c]);
    expect(bytesEqual(left.dump(), right.dump())).toBe(true);
  });

  test.prop([changeSets()], { numRuns: runs() })('merge is idempotent', ([a, b]) => {
    const once = fresh();
    once.apply(a);
    once.apply(b);
    const twice = fresh();
    twice.apply(a);
    twice.apply(b);
    twice.apply(a);
    twice.apply([...b, ...a]);
    expect(bytesEqual(once.dump(), twice.dump())).toBe(true);
  });
});

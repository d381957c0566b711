import { MemoryReplica, type SqlValue } from '@offsync/core';

// Three replicas edit the same todo list offline, then exchange everything they wrote in a
// scrambled order. They converge on the same table, byte for byte.
const todos = { name: 'todos', columns: ['id', 'title', 'done'], primaryKey: ['id'] };
const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(() => {
  const replica = new MemoryReplica();
  replica.createTable(todos);
  return replica;
}) as [MemoryReplica, MemoryReplica, MemoryReplica];

alice.insert('todos', { id: 'milk', title: 'Buy milk', done: 0n });
alice.insert('todos', { id: 'bread', title: 'Buy bread', done: 0n });
for (const replica of [bob, carol]) replica.apply(alice.changesSince(0));
const synced = { alice: alice.version, bob: bob.version, carol: carol.version };

// Offline, concurrently:
bob.delete('todos', ['milk']); // bob deletes milk...
carol.update('todos', ['milk'], { title: 'Buy oat milk' }); // ...while carol renames it: delete wins
carol.update('todos', ['bread'], { done: 1n });
alice.update('todos', ['bread'], { title: 'Buy rye bread' }); // different column: both kept
alice.delete('todos', ['milk']);
alice.insert('todos', { id: 'milk', title: 'Milk, again', done: 0n }); // re-insert after delete wins

const outbox = [
  ...alice.changesSince(synced.alice),
  ...bob.changesSince(synced.bob),
  ...carol.changesSince(synced.carol),
];
for (const replica of [alice, bob, carol]) {
  const shuffled = [...outbox].sort(() => Math.random() - 0.5);
  for (let i = 0; i < shuffled.length; i += 2) replica.apply(shuffled.slice(i, i + 2));
}

const show = (value: SqlValue): string =>
  typeof value === 'bigint' ? `${value}` : JSON.stringify(value);
for (const [name, replica] of Object.entries({ alice, bob, carol })) {
  console.log(`\n${name} (site ${replica.site.slice(0, 8)}…):`);
  for (const row of replica.rows('todos')) {
    console.log(
      `  ${Object.entries(row)
        .map(([column, value]) => `${column}=${show(value)}`)
        .join('  ')}`,
    );
  }
}
const dumps = [alice, bob, carol].map((replica) => Buffer.from(replica.dump()).toString('hex'));
const converged = dumps.every((dump) => dump === dumps[0]);
console.log(converged ? '\nconverged: all three replicas are byte-equal' : '\nNOT converged');
process.exitCode = converged ? 0 : 1;

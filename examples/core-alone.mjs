// The CRDT engine without SQLite or a server: two in-memory replicas merging changes.
//   node examples/core-alone.mjs
import { MemoryReplica } from '@offsync/core';

const todos = { name: 'todos', columns: ['id', 'title', 'done'], primaryKey: ['id'] };
const phone = new MemoryReplica();
const laptop = new MemoryReplica();
phone.createTable(todos);
laptop.createTable(todos);

phone.insert('todos', { id: 't1', title: 'Buy milk', done: 0n });
laptop.apply(phone.changesSince(0));
console.log(laptop.rows('todos')); // [ { id: 't1', title: 'Buy milk', done: 0n } ]

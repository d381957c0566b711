// One replica's half of the page: its sync status, its list (useQuery) of rows (useRow), forms
// that write through plain SQL, and the writes the server refused (useRefusals). Every component
// counts its commits, so the test can tell which ones a change re-rendered.
import type { SqlValue } from '@offsync/core';
import { type FormEvent, type ReactElement, useEffect, useLayoutEffect, useState } from 'react';
import { useQuery, useRefusals, useRow, useSyncStatus } from '../../src/index.js';
import type { PanelName, RenderedStatus } from './protocol.js';

/** Commits per component name, read by the test. */
export const commits: Record<string, number> = {};

/** Statuses each panel's status line committed, read by the test. */
export const statusLogs: Record<PanelName, RenderedStatus[]> = { a: [], b: [] };

function useCommitCount(name: string): void {
  // No dependency list: runs after every commit of the component, and only then; a layout effect
  // runs within the commit, so the count is current by the time the DOM shows the change.
  useLayoutEffect(() => {
    commits[name] = (commits[name] ?? 0) + 1;
  });
}

function SyncLine(props: { panel: PanelName }): ReactElement {
  const status = useSyncStatus();
  useEffect(() => {
    statusLogs[props.panel].push({ state: status.state, pending: status.pending });
  }, [status, props.panel]);
  return (
    <p data-testid={`${props.panel}-status`} data-state={status.state}>
      {status.state} · {status.pending} pending
    </p>
  );
}

interface Todo {
  readonly id: string;
  readonly title: string | null;
  readonly done: number;
}

function TodoItem(props: { panel: PanelName; id: string }): ReactElement {
  const todo = useRow<Todo>('todos', props.id, { rows: 'object', integers: 'number' });
  useCommitCount(`${props.panel}:item:${props.id}`);
  return (
    <li data-testid={`${props.panel}-item-${props.id}`}>
      {props.id}: {todo?.title ?? '(gone)'}
    </li>
  );
}

function TodoList(props: { panel: PanelName }): ReactElement {
  const ids = useQuery<{ id: string }>('SELECT id FROM todos ORDER BY id', [], { rows: 'object' });
  useCommitCount(`${props.panel}:list`);
  return (
    <ul data-testid={`${props.panel}-list`} data-count={ids.length}>
      {ids.map(({ id }) => (
        <TodoItem key={id} panel={props.panel} id={id} />
      ))}
    </ul>
  );
}

function Refusals(props: { panel: PanelName }): ReactElement {
  const refusals = useRefusals({ limit: 5 });
  return (
    <ul data-testid={`${props.panel}-refusals`} data-count={refusals.length}>
      {refusals.map((refusal, index) => (
        // Refusals have no identity of their own; newest first, so the index is stable enough.
        // biome-ignore lint/suspicious/noArrayIndexKey: see above
        <li key={index} className="refusal" data-testid={`${props.panel}-refusal`}>
          {refusal.kind} {refusal.table} {refusal.key.map(String).join('/')}: {refusal.reason}
        </li>
      ))}
    </ul>
  );
}

function TwoFieldForm(props: {
  panel: PanelName;
  action: string;
  label: string;
  onSubmit: (id: string, title: string) => void;
}): ReactElement {
  const [id, setId] = useState('');
  const [title, setTitle] = useState('');
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    props.onSubmit(id, title);
    setId('');
    setTitle('');
  };
  const prefix = `${props.panel}-${props.action}`;
  return (
    <form onSubmit={submit}>
      <input
        data-testid={`${prefix}-id`}
        placeholder="id"
        value={id}
        onChange={(e) => setId(e.target.value)}
      />
      <input
        data-testid={`${prefix}-title`}
        placeholder="title"
        value={title}
        onChange={(e) => setTitle(e.target.value)}
      />
      <button type="submit" data-testid={`${prefix}-submit`}>
        {props.label}
      </button>
    </form>
  );
}

/** The panel of one replica; `run` writes through the replica's own SQLite connection. */
export function Panel(props: {
  panel: PanelName;
  user: string;
  run: (sql: string, params: readonly SqlValue[]) => void;
}): ReactElement {
  const { panel, run } = props;
  const [listShown, setListShown] = useState(true);
  return (
    <section data-testid={`${panel}-panel`}>
      <h2>
        Replica {panel.toUpperCase()} ({props.user})
      </h2>
      <SyncLine panel={panel} />
      <TwoFieldForm
        panel={panel}
        action="add"
        label="Add"
        onSubmit={(id, title) => run('INSERT INTO todos(id, title) VALUES (?, ?)', [id, title])}
      />
      <TwoFieldForm
        panel={panel}
        action="edit"
        label="Rename"
        onSubmit={(id, title) => run('UPDATE todos SET title = ? WHERE id = ?', [title, id])}
      />
      <button
        type="button"
        data-testid={`${panel}-toggle-list`}
        onClick={() => setListShown(!listShown)}
      >
        {listShown ? 'Hide list' : 'Show list'}
      </button>
      {listShown ? <TodoList panel={panel} /> : <p data-testid={`${panel}-list-hidden`}>hidden</p>}
      <Refusals panel={panel} />
    </section>
  );
}

// The replica the hooks read, wrapped to count live queries: how the test sees that unmounting
// stops a watch and that StrictMode's double mount leaves exactly one running per component.
import type { SqlValue } from '@offsync/core';
import type { LiveRows, QueryableReplica, RowOptions } from '../../src/index.js';
import type { WatchCounts } from './protocol.js';

export interface CountedReplica extends QueryableReplica {
  counts(): WatchCounts;
}

export function countWatches(replica: QueryableReplica): CountedReplica {
  let started = 0;
  let stopped = 0;
  let afterStop = 0;
  return {
    counts: () => ({ active: started - stopped, started, stopped, afterStop }),
    query<Row = SqlValue[]>(
      sql: string,
      params?: readonly SqlValue[],
      options?: RowOptions,
    ): Row[] {
      return replica.query<Row>(sql, params, options);
    },
    watch<Row = SqlValue[]>(
      sql: string,
      params: readonly SqlValue[],
      callback: (rows: readonly Row[]) => void,
      options?: RowOptions,
    ): LiveRows<Row> {
      let live = true;
      const inner = replica.watch<Row>(
        sql,
        params,
        (rows) => {
          if (!live) afterStop++;
          callback(rows);
        },
        options,
      );
      started++;
      return {
        get rows() {
          return inner.rows;
        },
        stop() {
          if (live) stopped++;
          live = false;
          inner.stop();
        },
      };
    },
  };
}

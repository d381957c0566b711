// Local types for sql.js 1.16: @types/sql.js describes 1.4 (no `useBigInt`, no bigint reads) and
// pulls in @types/emscripten. Only what ./sqljs-api.ts declares is used.
declare module 'sql.js' {
  const initSqlJs: (
    config?: import('./sqljs-api.js').SqlJsConfig,
  ) => Promise<import('./sqljs-api.js').SqlJsStatic>;
  export default initSqlJs;
}

// better-sqlite3 ships no types and @types/better-sqlite3 is not installed:
// this declares the part of its API that the audit database uses.
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }
    interface Statement {
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): unknown;
      all(...params: unknown[]): unknown[];
    }
    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      /** Milliseconds to wait on a locked database before SQLITE_BUSY. */
      timeout?: number;
    }
  }
  class Database {
    constructor(path: string, options?: Database.Options);
    readonly open: boolean;
    readonly inTransaction: boolean;
    prepare(sql: string): Database.Statement;
    pragma(source: string, options?: { simple?: boolean }): unknown;
    exec(sql: string): this;
    /** The function in a BEGIN (DEFERRED) transaction; `.immediate` runs it in BEGIN IMMEDIATE (the write lock first). */
    transaction<A extends unknown[]>(fn: (...args: A) => void): ((...args: A) => void) & { immediate(...args: A): void };
    close(): this;
  }
  export = Database;
}

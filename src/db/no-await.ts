// A drizzle builder awaited directly runs outside the Store: on D1 it would skip the session and the
// batch, on Postgres the connection's queue. Both backends refuse it at run time (see store.ts);
// this makes it a compile error too. The overload below is merged into drizzle's QueryPromise (every
// select, insert, update and delete builder is one) ahead of its own `then`: `await builder` then
// fails with TS1320 ("Type of 'await' operand must either be a valid promise or must not contain a
// callable 'then' member"). The Store reads a builder's result type from its `execute()` instead
// (`Built<B>` in store.ts; `Awaited<B>` would now read this overload). Pass the builder to
// s.select/s.run/s.read/s.write.
declare module 'drizzle-orm/query-promise' {
  interface QueryPromise<T> {
    then(runThroughTheStore: { readonly mustGoThroughStore: never }): never;
  }
}
export {};

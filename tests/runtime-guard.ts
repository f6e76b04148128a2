// Global setup of both suites (vitest.config.ts), in Node: fails the run when workerd reports a
// promise rejection that nobody handled ("Uncaught (in promise)"), in a test, the worker, a
// Durable Object or the queue consumer. workerd prints these to its own stderr, outside every
// test's console (a rejected promise in a Durable Object never reaches the test's isolate), so the
// guard reads the runtime's output here; the lines name the error and its stack.
import type { TestProject } from 'vitest/node';

const UNCAUGHT = /uncaught exception|Uncaught \(in promise\)/;
// The pool's own goodbye: a test file's runner closing while workerd still answers it (a Durable
// Object alarm or queue batch the file started). Not a rejection of the worker's code.
const TEARDOWN = /EnvironmentTeardownError: \[vitest-worker\]: Closing rpc/;

export default function setup(_project: TestProject) {
  const seen: string[] = [];
  // workerd names the cause a few lines before the "uncaught exception" line ("e = …"): kept with it.
  let recent: string[] = [];
  const originals = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };
  for (const name of ['stdout', 'stderr'] as const) {
    const original = originals[name];
    process[name].write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      for (const line of text.split('\n')) {
        if (UNCAUGHT.test(line) && !TEARDOWN.test(line)) {
          const cause = recent.find((l) => l.startsWith('e = '));
          seen.push(cause ? `${line.slice(0, 400)} (${cause.slice(0, 200)})` : line.slice(0, 400));
        }
        if (line.trim()) recent = [...recent.slice(-3), line];
      }
      return original(chunk, ...rest);
    }) as typeof process.stdout.write;
  }
  return () => {
    process.stdout.write = originals.stdout;
    process.stderr.write = originals.stderr;
    if (seen.length > 0) {
      // A throw here is only printed ("error during close"): the exit code is what CI reads.
      process.exitCode = 1;
      throw new Error(`${seen.length} unhandled promise rejection(s) in the worker or its objects:\n${seen.join('\n')}`);
    }
  };
}

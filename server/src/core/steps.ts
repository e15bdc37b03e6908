/**
 * Work done in steps: a generator that yields between bounded pieces of work and returns its result.
 * The CLI and the engine run one to the end at once (`drain`); the server runs a big opened document's
 * parse in time slices (`runInSlices`), answering requests between them. Pure.
 */

/** Runs `steps` to its end at once and gives its result. */
export function drain<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** How many items (lines, rules) a parse reads between two pauses. */
export const ITEMS_PER_STEP = 2048;

/**
 * Runs `steps` in slices of about `sliceMs`, letting the event loop run between them (a request is
 * answered there); gives undefined as soon as `stillWanted()` is false between slices (a newer edit).
 */
export async function runInSlices<T>(steps: Generator<void, T, void>, stillWanted: () => boolean, sliceMs = 50): Promise<T | undefined> {
  for (;;) {
    const until = Date.now() + sliceMs;
    let r: IteratorResult<void, T>;
    do r = steps.next();
    while (!r.done && Date.now() < until);
    // After a long last piece too: what comes next (the analysis) starts in a turn of its own.
    if (!r.done || Date.now() >= until) await turn();
    if (!stillWanted()) {
      if (!r.done) steps.return(undefined as T);
      return undefined;
    }
    if (r.done) return r.value;
  }
}

/**
 * Lets the event loop run once: a timer, not setImmediate, because the protocol library answers the
 * messages it read in a setImmediate of its own, which must come before the work resumes.
 */
function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

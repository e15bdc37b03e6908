/**
 * Parses of big opened documents off the main thread (issue 17): one worker (parseWorker.ts), started on
 * first use and kept; a newer edit cancels the parse under way by ending the worker (the next parse starts
 * a new one). Measured (README, Limits): a 3.9 MB compose file parses in seconds, while its parse crosses
 * the thread boundary in milliseconds; for a rules.v4 of 390,000 facts the crossing costs about what the
 * parse does, but the hovers sent meanwhile are answered. Without a worker (a bundle without it, a worker
 * that died or ran out of its heap), `parse` rejects and the server parses on the main thread as before.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { FileEncoding } from './core/encoding';
import type { FileParse, FormatId } from './core/types';

export interface ParseJob {
  id: number;
  file: string;
  text: string;
  format: FormatId;
  context?: string;
  encoding?: FileEncoding;
}

export type ParseReply = { id: number; parse: FileParse } | { id: number; error: string };

/** The worker's heap: a parse bigger than this is refused (the server then parses on the main thread, as it did). */
const WORKER_HEAP_MB = 768;

export class Cancelled extends Error {
  constructor() {
    super('superseded by a newer edit');
  }
}

export class OffThreadParser {
  private worker?: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (p: FileParse) => void; reject: (e: Error) => void }>();

  constructor(private readonly script = path.join(__dirname, 'parseWorker.js')) {}

  /** Whether a worker can be started (its script is beside the server's). */
  get available(): boolean {
    return fs.existsSync(this.script);
  }

  /** The parse of one job, made in the worker; rejects with `Cancelled` after `cancel()`, or with the worker's error. */
  parse(job: Omit<ParseJob, 'id'>): Promise<FileParse> {
    const worker = this.start();
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ ...job, id } satisfies ParseJob);
    });
  }

  /** Whether a parse is under way. */
  get busy(): boolean {
    return this.waiting.size > 0;
  }

  /** Ends the parses under way (their promises reject with `Cancelled`) and the worker running them. */
  cancel(): void {
    if (!this.worker || this.waiting.size === 0) return;
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Cancelled());
    void worker.terminate();
  }

  dispose(): void {
    this.cancel();
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    worker.unref(); // never what keeps the server's process alive
    worker.on('message', (reply: ParseReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if ('parse' in reply) waiter.resolve(reply.parse);
      else waiter.reject(new Error(reply.error));
    });
    const gone = (why: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail(why);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`the parse worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private fail(why: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(why);
  }
}
